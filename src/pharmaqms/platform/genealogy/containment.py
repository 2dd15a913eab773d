"""Containment at a time: what a container held, and which containers held a pack, at ``at``.

A pallet's contents are not what it ever held: a case picked from it, a pack decommissioned or
a case unpacked is gone from the moment the event says so. The answer is therefore the pure
replay of :mod:`pharmaqms.platform.trace` (Aggregation ADD/OBSERVE links, Aggregation DELETE
unlinks — every child when the list is empty —, ObjectEvent DELETE removes the object and frees
what it held), over the events the indexed lookups find:

* down: every event naming the container or anything ever put into it, to a fixed point, so a
  pack moved to another case, or decommissioned, is seen leaving;
* up: every event naming the pack or any container it was ever put into, to a fixed point, so a
  case taken off its pallet is seen leaving the pallet.

``at`` is inclusive, like every trace; ``None`` means after the last event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from pharmaqms.platform import trace
from pharmaqms.platform.epcis import Action, AggregationEvent
from pharmaqms.platform.genealogy.events import StoredEvent
from pharmaqms.platform.genealogy.expand import contents_step, grow


def containers_step(stored: StoredEvent, reach: set[str]) -> Iterable[str]:
    """Every container it was ever put into (the replay decides whether it still is)."""
    event = stored.event
    if (
        isinstance(event, AggregationEvent)
        and event.action is not Action.DELETE
        and any(role == "child" and epc in reach for role, epc in stored.objects)
    ):
        return [epc for role, epc in stored.objects if role == "parent"]
    return ()


@dataclass(frozen=True, slots=True)
class Held:
    """One object inside the container asked about, and the container directly holding it."""

    epc: str
    parent: str
    depth: int
    """1 for what the container holds directly, 2 for what those hold, and so on."""


@dataclass(frozen=True, slots=True)
class Containment:
    subject: str
    at: datetime | None
    contents: tuple[Held, ...]
    """What the subject held at ``at``, at any depth, breadth first then by identifier."""
    containers: tuple[str, ...]
    """The containers the subject was in at ``at``, nearest first."""
    decommissioned: bool
    """The subject itself had been decommissioned by ``at``."""

    def as_dict(self) -> dict[str, object]:
        return {
            "subject": self.subject,
            "at": self.at,
            "contents": [
                {"epc": h.epc, "parent": h.parent, "depth": h.depth} for h in self.contents
            ],
            "containers": list(self.containers),
            "decommissioned": self.decommissioned,
        }


def containment(session: Session, subject: str, at: datetime | None) -> Containment:
    """The contents (recursively) and the containers of ``subject`` (canonical) at ``at``."""
    down, _ = grow(session, [subject], contents_step, at)
    snapshot = trace.replay(down.ordered(), at)
    children: dict[str, list[str]] = {}
    for child, parent in snapshot.parents.items():
        children.setdefault(parent, []).append(child)
    held: list[Held] = []
    level, depth = [subject], 1
    seen = {subject}
    while level:
        following: list[str] = []
        for parent in level:
            for child in sorted(children.get(parent, ())):
                if child not in seen:
                    seen.add(child)
                    held.append(Held(child, parent, depth))
                    following.append(child)
        level, depth = following, depth + 1
    up, _ = grow(session, [subject], containers_step, at)
    upward = trace.replay(up.ordered(), at)
    state = upward.state(subject)
    return Containment(
        subject=subject,
        at=at,
        contents=tuple(held),
        containers=upward.ancestors(subject),
        decommissioned=bool(state and state.decommissioned),
    )
