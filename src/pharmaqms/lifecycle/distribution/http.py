"""What the distribution routers share: the actor dependency and the API prefix."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from pharmaqms.kernel.http.context import current_actor
from pharmaqms.kernel.identity import Actor

ActorDep = Annotated[Actor, Depends(current_actor)]
PREFIX = "/api/v1/distribution"
