"""Who is acting: the actor every service verb names, and the channel they act through."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pharmaqms.kernel.errors import PermissionDenied


class Channel(StrEnum):
    UI = "ui"
    API = "api"
    CLI = "cli"
    IMPORT = "import"
    SYSTEM = "system"
    MQTT = "mqtt"
    # The public product page a patient reaches by scanning a pack (GS1 Digital Link).
    PRODUCT_PAGE = "product_page"


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    full_name: str
    roles: frozenset[str]
    permissions: frozenset[str]
    channel: Channel = Channel.SYSTEM
    request_id: str | None = None
    is_service_account: bool = False
    extra: dict[str, str] = field(default_factory=dict, compare=False)
    # The version of ``roles.permissions`` the permissions came from (None: given directly,
    # as the system account's ``*``); a signature records it as a rule it ran under.
    permissions_version: int | None = field(default=None, compare=False)

    def can(self, permission: str) -> bool:
        return "*" in self.permissions or permission in self.permissions

    def require(self, permission: str, action: str | None = None) -> None:
        if not self.can(permission):
            what = action or permission
            raise PermissionDenied(
                f"{self.username} may not {what}: the permission '{permission}' is not in any "
                f"of their roles ({', '.join(sorted(self.roles)) or 'none'})"
            )

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def via(self, channel: Channel, request_id: str | None = None) -> Actor:
        return Actor(
            self.user_id,
            self.username,
            self.full_name,
            self.roles,
            self.permissions,
            channel,
            request_id,
            self.is_service_account,
            permissions_version=self.permissions_version,
        )
