"""What the distribution routers share: the actor dependency and the API prefix."""

from __future__ import annotations

PREFIX = "/api/v1/distribution"
