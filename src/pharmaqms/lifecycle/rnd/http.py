"""What the R&D routers share: the API prefix."""

from __future__ import annotations

PREFIX = "/api/v1/rnd"
