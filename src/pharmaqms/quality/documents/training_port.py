"""What document control asks of training and tells it, through one front door that training
fills in at import.

Training builds on document control (curricula name documents, read-and-sign reads versions),
so document control does not import training: that would be a cycle. Yet a version that needs
training comes into force only once a job role's curriculum names its document, making it
effective assigns the training, and making the document obsolete cancels what is still open.
Those facts and hooks are training's, so training registers them here (``register``, called
by ``quality/training/document_control.py``, which ``pharmaqms.schema`` loads for every entry
point: web app, CLI, job worker, tests).

There is exactly one training and document control cannot work without it: ``training()``
raises when nothing is registered, so a process that forgot to load it fails on the first
version made effective instead of silently assigning nobody."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from pharmaqms.kernel.identity import Actor
from pharmaqms.quality.documents.models import ControlledDocument, DocumentVersion


@dataclass(frozen=True)
class VersionTraining:
    """What training a document version has, as its page shows it: the job roles whose
    curricula name the document, and the read-and-understood requirements on this version by
    status."""

    job_roles: list[str]
    by_status: dict[str, int]


@dataclass(frozen=True)
class TrainingPort:
    # (session, document id) → the active job roles whose active curricula name the document,
    # sorted: the guard before a version comes into force, and what the audit trail records.
    job_roles_naming: Callable[[Session, int], tuple[str, ...]]
    # (session, version id) → how many people have training on the version (any status).
    people_trained_on: Callable[[Session, int], int]
    # A version came into force: assign its training (same unit of work, before document
    # control records ``training_assigned``). Returns the ids of the people assigned.
    on_version_effective: Callable[[Session, DocumentVersion, Actor], Collection[int]]
    # The document was made obsolete: its open training is cancelled.
    on_document_obsolete: Callable[[Session, ControlledDocument, Actor], None]
    # (session, document id, version id) → the training panel of the document page.
    of_version: Callable[[Session, int, int], VersionTraining]


_PORT: list[TrainingPort] = []


def register(port: TrainingPort) -> None:
    """Training's one registration; again (a module reloaded) replaces it."""
    _PORT[:] = [port]


def training() -> TrainingPort:
    if not _PORT:
        raise RuntimeError(
            "training has not registered with document control "
            "(pharmaqms.quality.training.document_control, loaded by pharmaqms.schema): "
            "a version must not come into force without its training"
        )
    return _PORT[0]
