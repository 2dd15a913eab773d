"""The release rules' trace shown on the batch record's exceptions page, without importing the
release module: release reads batch records, so the dependency points from release to here.
The release module registers its evaluation when it is imported (as the web application and
the command line always do); until then the page says the trace is not available."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

Evaluation = Callable[[Session, int], Any]

_evaluation: list[Evaluation] = []


def register(evaluation: Evaluation) -> None:
    """Set the function that evaluates a lot's release rules (the release module's)."""
    _evaluation[:] = [evaluation]


def release_trace(session: Session, lot_id: int) -> Any | None:
    """The release rules evaluated for the lot now, or None while no release module is loaded."""
    return _evaluation[0](session, lot_id) if _evaluation else None
