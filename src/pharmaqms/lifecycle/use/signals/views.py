"""Signal pages: the dashboard (the disproportionality table of the case base, ordered by the
column asked, its volcano plot with the thresholds and the flagged pairs linked to their
signals, the signal register with due dates and overdue flags, and the detection form) and a
signal's page (the 2×2 table and every figure frozen at detection, the latest figures of a
re-run, the cases behind it, the assessment and action forms, the workflow steps with the
signature dialog, links and audit trail). Validation, refutation and closure post to the
generic record route; every change goes through the services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from pharmaqms.kernel import clock
from pharmaqms.kernel.errors import InvalidInput
from pharmaqms.kernel.http.context import transaction
from pharmaqms.kernel.http.navigation import NavItem, add
from pharmaqms.kernel.http.pages import PAGE_SIZE, ActorDep, page_offset, redirect
from pharmaqms.kernel.http.params import RecordId
from pharmaqms.kernel.http.templating import render
from pharmaqms.lifecycle.use.signals import detection, plot, service
from pharmaqms.lifecycle.use.signals.errors import SignalInputError
from pharmaqms.lifecycle.use.signals.models import ActionKind, Conclusion, Risk, SignalStatus
from pharmaqms.lifecycle.use.signals.scan import ALL_METHODS, Thresholds, parse_methods
from pharmaqms.lifecycle.use.signals.workflow import PV_SIGNAL_WORKFLOW
from pharmaqms.quality.capa.workflow import OWNERS
from pharmaqms.quality.view_support import people_with, record_parts, utc_from_form

router = APIRouter(tags=["ui"], include_in_schema=False)

add(NavItem("Use", "PV signals", "/pv/signals", "records.read", 11))

# The columns the table can be ordered by, each descending except the names.
SORTABLE = ("drug", "event_term", "a", "E", "PRR", "chi2", "ROR", "ROR_lo95", "IC025", "EB05")


def _page(signal_id: int) -> str:
    return f"/pv/signals/{signal_id}"


def _order(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    if sort in ("drug", "event_term"):
        return sorted(rows, key=lambda r: (str(r[sort]).lower(), str(r["event_term"]).lower()))
    if sort in SORTABLE:
        # Undefined figures (null) go last.
        return sorted(rows, key=lambda r: (r.get(sort) is None, -(r.get(sort) or 0.0)))
    return sorted(rows, key=lambda r: (not r["flagged_by"], -r["a"], r["drug"]))


@router.get("/pv/signals", response_class=HTMLResponse)
def dashboard(
    request: Request, actor: ActorDep, status: str = "", sort: str = "", offset: str = ""
) -> HTMLResponse:
    actor.require("records.read", "read signals")
    start = page_offset(offset)
    with transaction(request) as session:
        found = detection.scan_case_base(session, min_count=detection.DEFAULT_MIN_COUNT)
        known = service.signals_by_pair(session)
        rows = []
        for row in _order(found.rows(), sort[:20]):
            signal = known.get((row["drug"], row["event"]))
            rows.append({**row, "signal": signal})
        points = [
            plot.Point(
                label=f"{r['drug']} / {r['event_term']}",
                ror=r.get("ROR"),
                chi2=r.get("chi2"),
                a=int(r["a"]),
                flagged=bool(r["flagged_by"]),
                url=_page(r["signal"].id) if r["signal"] is not None else None,
            )
            for r in rows
        ]
        limits = found.thresholds
        register, total = service.register_rows(
            session, status=status[:40] or None, limit=PAGE_SIZE, offset=start
        )
        return render(
            request,
            "pv/signals.html",
            {
                "rows": rows,
                "reports": found.result.reports if found.result else 0,
                "methods": [m.value for m in found.methods],
                "thresholds": limits,
                "volcano": plot.volcano_svg(
                    points, ratio_min=limits.prr_min, chi2_min=limits.chi2_min
                )
                if rows
                else "",
                "sort": sort,
                "sortable": SORTABLE,
                "register": register,
                "total": total,
                "limit": PAGE_SIZE,
                "offset": start,
                "status": status,
                "statuses": [s.value for s in SignalStatus],
                "workflow": PV_SIGNAL_WORKFLOW,
                "can_detect": actor.can("signals.detect"),
                "all_methods": [m.value for m in ALL_METHODS],
                "min_count": detection.DEFAULT_MIN_COUNT,
            },
        )


def _float(value: str, field: str, default: float) -> float:
    if not value.strip():
        return default
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a number", field=field) from None


@router.post("/pv/signals/detection")
def run_detection(
    request: Request,
    actor: ActorDep,
    methods: Annotated[list[str] | None, Form(max_length=4)] = None,
    min_count: Annotated[int, Form(ge=1, le=1_000_000)] = detection.DEFAULT_MIN_COUNT,
    prr_min: Annotated[str, Form(max_length=20)] = "",
    chi2_min: Annotated[str, Form(max_length=20)] = "",
    eb05_min: Annotated[str, Form(max_length=20)] = "",
) -> RedirectResponse:
    try:
        chosen = parse_methods(",".join(methods or []))
    except SignalInputError as error:
        raise InvalidInput(str(error), field="methods") from None
    defaults = Thresholds()
    limits = Thresholds(
        prr_min=_float(prr_min, "prr_min", defaults.prr_min),
        chi2_min=_float(chi2_min, "chi2_min", defaults.chi2_min),
        eb05_min=_float(eb05_min, "eb05_min", defaults.eb05_min),
    )
    with transaction(request) as session:
        outcome = detection.run_detection(
            session, actor=actor, methods=chosen, min_count=min_count, thresholds=limits
        )
        opened = ", ".join(s.number for s in outcome.opened) or "none"
        message = (
            f"Detection run: {outcome.pairs} pairs scored, {outcome.flagged} flagged; "
            f"new signals: {opened}; {len(outcome.refreshed)} refreshed with new figures."
        )
    return redirect("/pv/signals", message)


@router.get("/pv/signals/{signal_id}", response_class=HTMLResponse)
def signal_page(signal_id: RecordId, request: Request, actor: ActorDep) -> HTMLResponse:
    actor.require("records.read", "read signals")
    with transaction(request) as session:
        signal = service.get_signal(session, signal_id)
        evidence = service.evidence_of(session, signal)
        actions = service.actions_of(session, signal)
        return render(
            request,
            "pv/signal.html",
            {
                **record_parts(
                    session,
                    signal,
                    PV_SIGNAL_WORKFLOW,
                    actor,
                    children=[("pv_signal_action", [a.id for a in actions])],
                ),
                "signal": signal,
                "evidence": evidence,
                "actions": actions,
                "overdue": service.is_overdue(signal, clock.now().date()),
                "conclusions": [c.value for c in Conclusion],
                "risks": [r.value for r in Risk],
                "kinds": [k.value for k in ActionKind],
                "can_assess": actor.can("signals.assess")
                and signal.status == SignalStatus.VALIDATED,
                "can_act": actor.can("signals.act")
                and signal.status in (SignalStatus.ASSESSED, SignalStatus.ACTION)
                and signal.conclusion == Conclusion.CONFIRMED,
                "owners": people_with(session, OWNERS),
            },
        )


@router.post("/pv/signals/{signal_id}/assessment")
def assess(
    signal_id: RecordId,
    request: Request,
    actor: ActorDep,
    assessment: Annotated[str, Form(max_length=20_000)],
    conclusion: Annotated[str, Form(max_length=20)],
    risk: Annotated[str, Form(max_length=40)],
    expected_version: Annotated[int | None, Form()] = None,
) -> RedirectResponse:
    with transaction(request) as session:
        signal = service.record_assessment(
            session,
            actor=actor,
            signal_id=signal_id,
            assessment=assessment,
            conclusion=conclusion,
            risk=risk,
            expected_version=expected_version,
        )
        number = signal.number
    return redirect(_page(signal_id), f"{number} assessed: {conclusion}.")


@router.post("/pv/signals/{signal_id}/actions")
def act(
    signal_id: RecordId,
    request: Request,
    actor: ActorDep,
    kind: Annotated[str, Form(max_length=20)],
    title: Annotated[str, Form(max_length=300)],
    description: Annotated[str, Form(max_length=20_000)],
    owner_id: Annotated[str, Form(max_length=12)] = "",
    due_at: Annotated[str, Form(max_length=40)] = "",
) -> RedirectResponse:
    owner: int | None = None
    if owner_id.strip():
        if not owner_id.strip().isdecimal():
            raise InvalidInput("choose the owner from the list", field="owner_id")
        owner = int(owner_id)
    with transaction(request) as session:
        action = service.take_action(
            session,
            actor=actor,
            signal_id=signal_id,
            kind=kind,
            title=title,
            description=description,
            owner_id=owner,
            due_at=utc_from_form(due_at, "due_at"),
        )
        number = action.record_number
    return redirect(_page(signal_id), f"{number} opened from the signal and linked to it.")


@router.post("/pv/lots/{lot_id}/signal")
def raise_from_lot(lot_id: RecordId, request: Request, actor: ActorDep) -> RedirectResponse:
    """From the lot safety review: a signal for a lot the lot-rate test flags."""
    with transaction(request) as session:
        signal = service.raise_from_lot(session, actor=actor, lot_id=lot_id)
        session.flush()
        target, number = _page(signal.id), signal.number
    return redirect(target, f"{number} raised from the lot's reporting rate.")
