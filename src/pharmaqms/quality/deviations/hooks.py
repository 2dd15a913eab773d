"""What other modules do when a deviation is classified, without this module knowing them:
production registers "a critical deviation puts its batches under a nonconforming-product
record". Listeners run in the classifying transaction, so the classification and what it
triggers stand or fall together."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor

if TYPE_CHECKING:
    from pharmaqms.quality.deviations.models import Deviation

ClassificationListener = Callable[[Session, Actor, "Deviation"], object]

_ON_CLASSIFIED: list[ClassificationListener] = []


def on_classified(listener: ClassificationListener) -> ClassificationListener:
    if listener not in _ON_CLASSIFIED:
        _ON_CLASSIFIED.append(listener)
    return listener


def classified(session: Session, actor: Actor, deviation: Deviation) -> None:
    for listener in list(_ON_CLASSIFIED):
        listener(session, actor, deviation)
