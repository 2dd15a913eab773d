"""Records of other PV sub-modules that a case belongs to, shown on its page (the signals
that cite it, for now). Those modules import the cases; the cases must not import them back
(a cycle), so they register a provider here when they load."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pharmaqms.lifecycle.use.cases.models import PVCase


@dataclass(frozen=True, slots=True)
class Related:
    number: str
    href: str
    title: str
    status: str
    why: str  # how the case belongs to it, in words


Provider = Callable[[Session, PVCase], list[Related]]
_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def related_to(session: Session, case: PVCase) -> list[Related]:
    return [r for provider in _PROVIDERS for r in provider(session, case)]
