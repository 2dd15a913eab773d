"""Composing and sending e-mail through the configured SMTP server (the standard library's
``smtplib``): one connection per delivery run, opened on the first message."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from types import TracebackType

from pharmaqms.kernel.settings import Settings


def configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def one_line(text: str, limit: int = 250) -> str:
    """A header value: no line breaks (they would start headers of their own), bounded."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def compose(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    assert settings.smtp_sender is not None
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = one_line(subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.smtp_sender.rsplit("@", 1)[1])
    # Machines reading the mailbox (auto-replies) should not answer a notification.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


class ServerUnavailable(Exception):
    """The server could not be reached or refused the session: the rest of the run waits for
    the next one rather than each waiting out the timeout in turn."""


class Mailer:
    """``with Mailer(settings) as mailer: mailer.send(message)``: connects when first asked to
    send, so a run with nothing to send never touches the server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        try:
            return self._open()
        except (smtplib.SMTPException, OSError) as err:
            raise ServerUnavailable(describe(err)) from err

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        assert s.smtp_host is not None
        timeout = s.smtp_timeout_seconds
        smtp: smtplib.SMTP
        if s.smtp_tls == "ssl":
            smtp = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=timeout)
            if s.smtp_tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if s.smtp_user is not None and s.smtp_password is not None:
            smtp.login(s.smtp_user, s.smtp_password.get_secret_value())
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self.smtp is None:
            self.smtp = self._connect()
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            # A server that closes idle connections: one new connection, one more try.
            self.smtp = self._connect()
            self.smtp.send_message(message)

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None


def describe(error: BaseException) -> str:
    """The error as an administrator reads it on the outbox page."""
    return one_line(f"{type(error).__name__}: {error}", 500)
