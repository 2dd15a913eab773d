"""One error hierarchy. Each error carries its HTTP status and a machine-readable code; the API
renders it as RFC 9457 problem+json and the CLI as one line on stderr."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class QMSError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        field: str | None = None,
        reasons: list[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.reasons = reasons or []
        self.extra = extra or {}
        # Work that must survive the rollback of the failed transaction (a failed signature
        # attempt must still be counted and audited). The unit of work runs these afterwards.
        self.after_rollback: list[Callable[[Session], None]] = []

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://pharmaqms.org/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        if self.field:
            body["field"] = self.field
        if self.reasons:
            body["reasons"] = self.reasons
        body.update(self.extra)
        return body


class InvalidInput(QMSError):
    status = 422
    code = "invalid_input"
    title = "Invalid input"


class NotFound(QMSError):
    status = 404
    code = "not_found"
    title = "Not found"


class AuthenticationFailed(QMSError):
    status = 401
    code = "authentication_failed"
    title = "Authentication failed"


class AccountLocked(AuthenticationFailed):
    code = "account_locked"
    title = "Account locked"


class PasswordExpired(AuthenticationFailed):
    code = "password_expired"
    title = "Password expired"


class PermissionDenied(QMSError):
    status = 403
    code = "permission_denied"
    title = "Permission denied"


class SegregationOfDuties(PermissionDenied):
    code = "segregation_of_duties"
    title = "Segregation of duties"


class OwnAccount(PermissionDenied):
    """Administrators manage other people's accounts, never their own roles or password."""

    code = "own_account"
    title = "Not on one's own account"


class PersonTokenRefused(PermissionDenied):
    """A token acts as its holder: a person gets one only by logging in themselves."""

    code = "person_token_refused"
    title = "A person gets a token by logging in"


class PasswordResetUnconfirmed(PermissionDenied):
    code = "password_reset_unconfirmed"
    title = "Password reset not confirmed by its owner"


class TrainingMissing(PermissionDenied):
    code = "training_missing"
    title = "Training missing"


class Conflict(QMSError):
    status = 409
    code = "conflict"
    title = "Conflict"


class SecondApprovalRequired(Conflict):
    code = "second_approval_required"
    title = "A second administrator must approve"


class StaleRecord(Conflict):
    code = "stale_record"
    title = "The record was changed by someone else"


class TransitionNotAllowed(Conflict):
    code = "transition_not_allowed"
    title = "Transition not allowed"


class ReasonRequired(InvalidInput):
    code = "reason_required"
    title = "Reason for change required"


class SignatureRefused(AuthenticationFailed):
    code = "signature_refused"
    title = "Signature refused"


class DocumentRefused(InvalidInput):
    """A whole inbound document (file, message) that cannot be taken at all."""

    code = "document_refused"
    title = "Document refused"


class ControlBroken(InvalidInput):
    """A configuration version that would break a control the code demands (a signature
    dropped or without meaning, segregation of duties dropped): refused with the reasons."""

    code = "control_broken"
    title = "Refused: it would break a control"
