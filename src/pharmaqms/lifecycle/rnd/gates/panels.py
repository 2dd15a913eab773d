"""Panels other parts of R&D add to a project's gate page (the technology transfers of its
recipes), registered at import so that the gates import none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor


@dataclass(frozen=True)
class ProjectPanel:
    template: str  # a fragment included in the project page; it reads ``panel.context``
    context: dict[str, Any]


ProjectPanelProvider = Callable[[Session, int, Actor], ProjectPanel | None]
_PROVIDERS: dict[str, ProjectPanelProvider] = {}


def register_project_panel(name: str, provider: ProjectPanelProvider) -> None:
    _PROVIDERS[name] = provider


def project_panels(session: Session, project_id: int, actor: Actor) -> list[ProjectPanel]:
    found = (provider(session, project_id, actor) for _, provider in sorted(_PROVIDERS.items()))
    return [panel for panel in found if panel is not None]
