"""Errors of the API client. Standard library only, so that screens can name them without
loading httpx or pydantic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

UNEXPECTED_RESPONSE = "unexpected-response"
"""The code of a `ProblemError` whose answer was not a problem document (or not what the
contract says): a proxy's error page, a service of another version..."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One entry of a `validation-failed` problem's `errors`."""

    field: str
    message: str


class ApiError(Exception):
    """Anything that kept a call to the service from giving its answer."""


class ServiceUnavailable(ApiError):
    """The service could not be reached, did not answer in time, or a gateway in front of it
    said it is down (502, 503, 504). The UI offers to try again."""


class ProblemError(ApiError):
    """The service answered with an RFC 9457 problem document. `code` is stable (docs/api.md)
    and is what the UI maps to a translated message; `title` and `detail` are the service's
    English wording, for logs only."""

    def __init__(
        self,
        *,
        code: str,
        status: int,
        title: str = "",
        detail: str = "",
        retry_after: int | None = None,
        attempts_left: int | None = None,
        errors: Sequence[FieldError] = (),
    ) -> None:
        super().__init__(f"{status} {code}")
        self.code = code
        self.status = status
        self.title = title
        self.detail = detail
        self.retry_after = retry_after
        self.attempts_left = attempts_left
        """On `pin-incorrect`, near the limit: the wrong PINs left before a pause."""
        self.errors: tuple[FieldError, ...] = tuple(errors)

    def __repr__(self) -> str:
        return f"ProblemError(code={self.code!r}, status={self.status})"
