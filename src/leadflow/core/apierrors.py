"""The API's refusals: an HttpError carrying the error code (and the field at fault) that
`leadflow.api` writes as `{"detail": [{"field", "code", "message"}]}`."""

from ninja.errors import HttpError


def api_error(status: int, code: str, message, field: str | None = None) -> HttpError:
    error = HttpError(status, str(message))
    error.code, error.field = code, field
    return error
