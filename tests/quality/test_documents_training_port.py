"""Document control reaches training only through the front door training fills in at import
(``documents.training_port``): every entry point loads ``pharmaqms.schema``, which registers
it, and without it document control refuses instead of bringing a version into force with
nobody assigned to read it."""

from __future__ import annotations

import pytest

import pharmaqms.schema  # noqa: F401 - what every entry point loads
from pharmaqms.quality.documents import training_port
from pharmaqms.quality.training import document_control


def test_the_assembly_registers_training_with_document_control() -> None:
    port = training_port.training()
    assert port.on_version_effective is document_control.on_version_effective
    assert port.on_document_obsolete is document_control.on_document_obsolete


def test_without_training_registered_document_control_fails_loudly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(training_port, "_PORT", [])
    with pytest.raises(RuntimeError, match="training has not registered"):
        training_port.training()
