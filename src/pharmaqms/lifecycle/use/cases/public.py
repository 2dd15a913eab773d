"""The public side-effect form (``/report-side-effect``): for patients and healthcare
professionals, without an account. Reached from a pack's GS1 Digital Link
(``?01=<GTIN>&10=<lot>``), it comes with the product and lot filled in. A report becomes a case
in "received" for PV to triage.

Guarded the way a public form must be: a pre-session CSRF token, a hidden honeypot field that
people never fill in, a rate limit per client address, markup and oversize text refused with
an error the screen reader announces, and the values kept for the person to correct."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.ratelimit import RateLimiter, client_address
from pharmaqms.kernel.http.security import presession_token, presession_valid, set_presession_cookie
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.use.cases import service
from pharmaqms.lifecycle.use.cases.intake import (
    CaseReport,
    EventReport,
    ProductReport,
    concomitant_products,
)
from pharmaqms.platform.masterdata.models import Product
from pharmaqms.platform.masterdata.service import normalise_gtin

router = APIRouter(tags=["ui"], include_in_schema=False)

PATH = "/report-side-effect"
MAX_REACTION = 500
MAX_STORY = 5000
# Beyond this a field is not a report but an attack: refused before the form is read. Below
# it, text too long for its field is shown back to the person with what to shorten.
HARD_CAP = 100_000
LIMITS = {
    "product": 200,
    "lot": 60,
    "initials": 20,
    "age": 20,
    "contact": 1000,
    "weight": 20,
    "dose": 30,
    "dose_unit": 40,
    "others": 4000,
}
# At most this many reports from one address in the window: enough for a pharmacist reporting
# for several patients, too few for a script filling the queue.
RATE_LIMIT = 5
RATE_WINDOW_S = 600.0
SERIOUS = (
    ("death", "The person died"),
    ("life_threatening", "It was life-threatening"),
    ("hospitalisation", "It led to a stay in hospital, or a longer one"),
    ("disabling", "It caused a lasting disability"),
    ("congenital_anomaly", "A baby was born with a defect"),
    ("other_medically_important", "Another serious medical problem"),
)
# Where a refusal of the case's screening lands on this form.
FIELD_OF = {
    "products[1].product": "product",
    "products[1].lot_number": "lot",
    "events[1].verbatim": "reaction",
    "events[1].seriousness": "reaction",
    "narrative": "story",
    "reporter_country": "country",
    "patient_initials": "initials",
    "patient_age": "age",
    "patient_weight": "weight",
    "products[1].dose_value": "dose",
    "products[1].dose_unit": "dose_unit",
    "patient_sex": "sex",
    "reporter_type": "reporter",
    "reporter_contact": "contact",
}

# Counted in the database across every server process (kernel.http.ratelimit).
_limiter = RateLimiter("pv_public_report", RATE_LIMIT, RATE_WINDOW_S)


@dataclass
class FormValues:
    product: str = ""
    lot: str = ""
    reporter: str = ""
    country: str = ""
    reaction: str = ""
    onset: str = ""
    serious: tuple[str, ...] = ()
    story: str = ""
    initials: str = ""
    age: str = ""
    sex: str = ""
    contact: str = ""
    weight: str = ""
    dose: str = ""
    dose_unit: str = ""
    others: str = ""


def _page(
    request: Request, values: FormValues, errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    token = presession_token(request)
    page = render(
        request,
        "pv/public_form.html",
        {
            "v": values,
            "errors": errors,
            "serious_options": SERIOUS,
            "presession_token": token,
            "max_reaction": MAX_REACTION,
            "max_story": MAX_STORY,
            "today": clock.now().date().isoformat(),
        },
        status=status,
    )
    set_presession_cookie(request, page, token)
    return page


def _product_of(request: Request, gtin: str) -> str:
    try:
        key = normalise_gtin(gtin)
    except InvalidInput:
        return ""
    with transaction(request) as session:
        name = session.scalar(select(Product.name).where(Product.gtin == key))
    return name or ""


@router.get(PATH, response_class=HTMLResponse)
def report_form(request: Request) -> HTMLResponse:
    # GS1 Digital Link query form: AI 01 the GTIN, AI 10 the batch/lot.
    gtin = request.query_params.get("01", "")[:14]
    lot = request.query_params.get("10", "")[:20]  # AI 10 is at most 20 characters
    return _page(
        request, FormValues(product=_product_of(request, gtin) if gtin else "", lot=lot), {}
    )


def _check(v: FormValues) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not v.product:
        errors["product"] = "Enter the name of the medicine."
    if v.reporter not in ("patient", "hcp"):
        errors["reporter"] = (
            "Say whether you are the patient (or family) or a healthcare professional."
        )
    if not v.reaction:
        errors["reaction"] = "Describe the side effect."
    elif len(v.reaction) > MAX_REACTION:
        errors["reaction"] = f"Keep the side effect to {MAX_REACTION} characters; add more below."
    for name, limit in LIMITS.items():
        if len(getattr(v, name)) > limit:
            errors[name] = f"Keep this to {limit} characters."
    if len(v.story) > MAX_STORY:
        errors["story"] = f"Keep the description to {MAX_STORY} characters."
    if v.onset:
        try:
            date.fromisoformat(v.onset)
        except ValueError:
            errors["onset"] = "Enter the date as year-month-day, e.g. 2026-03-01."
    if v.country and (len(v.country) != 2 or not v.country.isalpha()):
        errors["country"] = "Enter the country as its two-letter code, e.g. DE, FR, US."
    return errors


@router.post(PATH, response_class=HTMLResponse)
def submit_report(
    request: Request,
    product: Annotated[str, Form(max_length=HARD_CAP)] = "",
    lot: Annotated[str, Form(max_length=HARD_CAP)] = "",
    reporter: Annotated[str, Form(max_length=HARD_CAP)] = "",
    country: Annotated[str, Form(max_length=HARD_CAP)] = "",
    reaction: Annotated[str, Form(max_length=HARD_CAP)] = "",
    onset: Annotated[str, Form(max_length=HARD_CAP)] = "",
    serious: Annotated[list[str] | None, Form(max_length=6)] = None,
    story: Annotated[str, Form(max_length=HARD_CAP)] = "",
    initials: Annotated[str, Form(max_length=HARD_CAP)] = "",
    age: Annotated[str, Form(max_length=HARD_CAP)] = "",
    sex: Annotated[str, Form(max_length=HARD_CAP)] = "",
    contact: Annotated[str, Form(max_length=HARD_CAP)] = "",
    weight: Annotated[str, Form(max_length=HARD_CAP)] = "",
    dose: Annotated[str, Form(max_length=HARD_CAP)] = "",
    dose_unit: Annotated[str, Form(max_length=HARD_CAP)] = "",
    others: Annotated[str, Form(max_length=HARD_CAP)] = "",
    website: Annotated[str, Form(max_length=HARD_CAP)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    values = FormValues(
        product.strip(),
        lot.strip(),
        reporter,
        country.strip().upper(),
        reaction.strip(),
        onset.strip(),
        tuple(s for s in (serious or []) if s in dict(SERIOUS)),
        story.strip(),
        initials.strip(),
        age.strip(),
        sex if sex in ("male", "female") else "",
        contact.strip(),
        weight.strip(),
        dose.strip(),
        dose_unit.strip(),
        others.strip(),
    )
    if not presession_valid(request, csrf_token):
        return _page(
            request,
            values,
            {"form": "The form has expired or did not come from this site: please send it again."},
            status=400,
        )
    if not _limiter.allow(client_address(request)):
        return _page(
            request,
            values,
            {"form": "Too many reports from your connection just now: please try again later."},
            status=429,
        )
    if website:
        # Only a robot fills in the field people can't see: thank it, take nothing.
        return render(request, "pv/public_thanks.html", {"number": None})
    errors = _check(values)
    if errors:
        return _page(request, values, errors, status=422)
    report = CaseReport(
        source="public_form",
        received_at=clock.now(),
        report_type="spontaneous",
        patient_initials=values.initials,
        patient_age=values.age or None,
        patient_sex=values.sex or None,
        patient_weight=values.weight or None,
        reporter_type=values.reporter,
        reporter_country=values.country or None,
        reporter_contact=values.contact,
        narrative=values.story,
        products=(
            ProductReport(
                values.product,
                values.lot,
                dose_value=values.dose or None,
                dose_unit=values.dose_unit,
            ),
            *concomitant_products(values.others),
        ),
        events=(
            EventReport(
                values.reaction,
                onset=date.fromisoformat(values.onset) if values.onset else None,
                seriousness=values.serious,
            ),
        ),
    )
    try:
        with transaction(request) as session:
            case = service.record_public_report(session, report=report)
            session.flush()
            number = case.number
    except InvalidInput as refused:
        field = FIELD_OF.get(refused.field or "", "form")
        message = refused.detail[0].upper() + refused.detail[1:] + "."
        return _page(request, values, {field: message}, status=422)
    return render(request, "pv/public_thanks.html", {"number": number})
