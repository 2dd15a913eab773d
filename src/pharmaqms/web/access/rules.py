"""The kinds of access a route can declare (see ``pharmaqms.web.access``)."""

from __future__ import annotations

from dataclasses import dataclass

from pharmaqms.kernel.identity import Actor


class Access:
    """What a route needs of whoever calls it."""


@dataclass(frozen=True)
class Public(Access):
    pass


@dataclass(frozen=True)
class SignedIn(Access):
    pass


@dataclass(frozen=True)
class Needs(Access):
    permission: str
    # What the permission allows here, for the refusal: "qa may not deactivate users: …".
    what: str = "do this"
    alternatives: tuple[str, ...] = ()
    # The handler refuses some holders for some requests (the whole audit trail needs
    # audit.read; one record's trail only records.read).
    narrower: bool = False

    @property
    def permissions(self) -> tuple[str, ...]:
        return (self.permission, *self.alternatives)

    def allows(self, actor: Actor) -> bool:
        return any(actor.can(p) for p in self.permissions)

    def check(self, actor: Actor) -> None:
        if not self.allows(actor):
            actor.require(self.permission, self.what)


@dataclass(frozen=True)
class Step(Access):
    """A fixed transition of a record type's workflow (a module's own route for it)."""

    record_type: str
    transition: str


@dataclass(frozen=True)
class NamedTransition(Access):
    """The generic routes whose path names the record type and the transition."""

    type_param: str = "type_name"
    name_param: str = "name"


PUBLIC = Public()
SIGNED_IN = SignedIn()
NAMED_TRANSITION = NamedTransition()
