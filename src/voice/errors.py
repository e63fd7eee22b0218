"""Domain errors: raised by services, turned into 4xx answers in the user's language by the web layer."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses. ``message`` is already translated to the request's language."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = dict(errors or {})
        if field:
            self.errors.setdefault(field, message)


class ValidationFailed(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Forbidden(DomainError):
    status_code = 403


class Conflict(DomainError):
    status_code = 409


class TooManyRequests(DomainError):
    status_code = 429
