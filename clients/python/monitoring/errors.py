"""Errors the client raises, each carrying the GraphQL ``extensions.code`` the server gave."""

from __future__ import annotations

from typing import Any, Dict, List, Optional


class MonitoringError(Exception):
    """An error from the service, or from reaching it.

    ``code`` is the server's ``extensions.code`` (``BAD_USER_INPUT``, ``FORBIDDEN``...), or
    ``NETWORK`` / ``HTTP_<status>`` when no GraphQL answer came; ``errors`` holds every GraphQL
    error of the answer as the server sent it.
    """

    def __init__(
        self,
        message: str,
        code: str,
        status: Optional[int] = None,
        errors: Optional[List[Dict[str, Any]]] = None,
        field: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.errors = errors or []
        self.field = field

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ConfigurationError(MonitoringError):
    """The module lacks a setting (URL, key or program) in its arguments and in the environment."""


class BadInputError(MonitoringError):
    """BAD_USER_INPUT: the message names the field and the rule; nothing was stored."""


class AuthenticationError(MonitoringError):
    """UNAUTHENTICATED: no key, or an unknown or revoked one."""


class ForbiddenError(MonitoringError):
    """FORBIDDEN: the key may not do this, or not in this program."""


class NotFoundError(MonitoringError):
    """NOT_FOUND: no such program (or other object)."""


class ConflictError(MonitoringError):
    """CONFLICT: an idempotency key already used with another payload."""


class RetryLaterError(MonitoringError):
    """RATE_LIMITED, OVERLOADED or SHUTTING_DOWN, still so after every retry."""


class NetworkError(MonitoringError):
    """The service could not be reached, or its answer was lost, after every retry."""


_BY_CODE = {
    "BAD_USER_INPUT": BadInputError,
    "UNAUTHENTICATED": AuthenticationError,
    "FORBIDDEN": ForbiddenError,
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "RATE_LIMITED": RetryLaterError,
    "OVERLOADED": RetryLaterError,
    "SHUTTING_DOWN": RetryLaterError,
    "NETWORK": NetworkError,
}


def error_for(
    code: str,
    message: str,
    status: Optional[int] = None,
    errors: Optional[List[Dict[str, Any]]] = None,
    field: Optional[str] = None,
) -> MonitoringError:
    """The typed error for a code (MonitoringError itself for codes without a class of their own)."""
    cls = _BY_CODE.get(code, MonitoringError)
    return cls(message, code, status=status, errors=errors, field=field)
