"""A real SMTP server for the notification tests (aiosmtpd, in a thread of the test process,
on a free port), and the settings that point the application at it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from pharmaqms.kernel.settings import reset_settings_cache

BASE_URL = "https://qms.example.org"
SENDER = "qms@example.org"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """What the server received: (envelope recipients, parsed message) in arrival order."""

    port: int
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    controller: Controller | None = None

    # aiosmtpd calls the handler by this name.
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [message for rcpt, message in self.received if address in rcpt]

    def subjects(self) -> list[tuple[str, str]]:
        return sorted((rcpt[0], subject(message)) for rcpt, message in self.received)


@contextmanager
def smtp_settings(monkeypatch: pytest.MonkeyPatch, port: int) -> Iterator[None]:
    monkeypatch.setenv("PHARMAQMS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PHARMAQMS_SMTP_PORT", str(port))
    monkeypatch.setenv("PHARMAQMS_SMTP_TLS", "none")
    monkeypatch.setenv("PHARMAQMS_SMTP_SENDER", SENDER)
    monkeypatch.setenv("PHARMAQMS_SMTP_TIMEOUT_SECONDS", "5")
    monkeypatch.setenv("PHARMAQMS_BASE_URL", BASE_URL + "/")
    reset_settings_cache()
    try:
        yield
    finally:
        for name in ("HOST", "PORT", "TLS", "SENDER", "TIMEOUT_SECONDS"):
            monkeypatch.delenv(f"PHARMAQMS_SMTP_{name}", raising=False)
        monkeypatch.delenv("PHARMAQMS_BASE_URL", raising=False)
        reset_settings_cache()


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A running SMTP server, and the application configured to send to it."""
    box = Mailbox(free_port())
    box.start()
    with smtp_settings(monkeypatch, box.port):
        yield box
    box.stop()


def body(message: EmailMessage) -> str:
    """The text as written (SMTP carries it with CRLF line ends)."""
    content = message.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def subject(message: EmailMessage) -> str:
    # A long subject is folded onto the next line; read back, it keeps the fold's space.
    return str(message["Subject"]).strip()
