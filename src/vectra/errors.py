"""The error hierarchy: services raise these, one web handler maps them to HTTP."""

from __future__ import annotations

from typing import Any


class VectraError(Exception):
    """Something went wrong."""

    status_code: int = 400
    code: str = "error"

    def __init__(
        self, message: str | None = None, *, field: str | None = None, **details: Any
    ) -> None:
        self.message = message or (self.__doc__ or self.code).strip()
        self.field = field
        self.details = details
        super().__init__(self.message)

    def to_problem(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        error.update(self.details)
        return {"error": error}


class NotFound(VectraError):
    """The requested object does not exist."""

    status_code = 404
    code = "not_found"


class Unauthenticated(VectraError):
    """Authentication is required: send a bearer token or sign in."""

    status_code = 401
    code = "unauthenticated"


class PermissionDenied(VectraError):
    """Your role does not allow this action."""

    status_code = 403
    code = "forbidden"


class InvalidInput(VectraError):
    """The input is not valid."""

    status_code = 422
    code = "invalid"


class Conflict(VectraError):
    """The request conflicts with the current state."""

    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    """This status change is not allowed."""

    code = "invalid_transition"


class TooLarge(VectraError):
    """The upload is larger than this server accepts."""

    status_code = 413
    code = "too_large"


class QuotaExceeded(VectraError):
    """Your plan's limit is reached."""

    status_code = 402
    code = "quota_exceeded"


class RateLimited(VectraError):
    """Too many attempts; wait and try again."""

    status_code = 429
    code = "rate_limited"


class BadRequest(VectraError):
    """The request cannot be processed."""

    status_code = 400
    code = "bad_request"


class ServiceUnavailable(VectraError):
    """A dependency is not available right now."""

    status_code = 503
    code = "unavailable"
