"""The processes analysed: one record type each, with the workflow that says its states, which
of them end the process, and who may move a record on from each state."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from pharmaqms.kernel.errors import NotFound
from pharmaqms.kernel.registry import RecordType
from pharmaqms.kernel.workflow import Workflow, configured_transitions
from pharmaqms.lifecycle.production.release.workflow import BATCH_RELEASE
from pharmaqms.lifecycle.use.cases.workflow import PV_CASE
from pharmaqms.quality.capa.workflow import CAPA
from pharmaqms.quality.changes.workflow import CHANGE_REQUEST
from pharmaqms.quality.complaints.workflow import COMPLAINT
from pharmaqms.quality.deviations.workflow import DEVIATION


@dataclass(frozen=True)
class Process:
    record_type: RecordType
    title: str
    # States where the process is done although a later event may take the record out again
    # (a closed adverse event case is reassessed on follow-up information): time there is
    # not time spent in the process either.
    resting: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.record_type.name

    @property
    def workflow(self) -> Workflow:
        return self.record_type.workflow

    @property
    def end_states(self) -> frozenset[str]:
        """States nothing leaves (closed, released, cancelled) and the resting ones: a record
        there is done, so the time since is not time spent in the process."""
        final = {s for s in self.workflow.states if not self.workflow.from_state(s)}
        return frozenset(final | self.resting)

    def state_label(self, state: str) -> str:
        return self.workflow.state_label(state)

    def roles_out_of(self, state: str) -> list[str]:
        """The roles the code lets take a record out of ``state``: whom it waits for there."""
        found: set[str] = set()
        for transition in self.workflow.from_state(state):
            found |= transition.roles
        return sorted(found)

    def roles_in_force(self, session: Session) -> dict[str, tuple[str, ...]]:
        """Per state, the roles that may take a record out of it under the configuration in
        force (who takes each step, the steps a site added or withdrew)."""
        found: dict[str, set[str]] = {state: set() for state in self.workflow.states}
        _, configured = configured_transitions(session, self.workflow)
        for transition in configured.values():
            for state in transition.source:
                found[state] |= transition.roles
        return {state: tuple(sorted(roles)) for state, roles in found.items()}

    def ordered_states(self) -> list[str]:
        """The workflow's states in the order it declares them (its happy path first)."""
        return list(self.workflow.states)


PROCESSES: dict[str, Process] = {
    p.name: p
    for p in (
        Process(BATCH_RELEASE, "Batch release decision"),
        Process(DEVIATION, "Deviation"),
        Process(CAPA, "CAPA"),
        Process(CHANGE_REQUEST, "Change control"),
        Process(COMPLAINT, "Complaint"),
        Process(PV_CASE, "Adverse event case", resting=frozenset({"closed"})),
    )
}


def process(name: str) -> Process:
    try:
        return PROCESSES[name]
    except KeyError:
        raise NotFound(
            f"no process analytics for {name[:60]!r}; known: {', '.join(PROCESSES)}"
        ) from None
