"""The REST API at /api/v1/ (django-ninja): each app mounts its router here.

Auth: the browser session (with CSRF) or `Authorization: Bearer <token>` (`leadflow token
USERNAME`). Every error is `{"detail": [{"field", "code", "message"}]}` with the message in
the request's language (Accept-Language: zh-Hans or en).
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer, django_auth

from leadflow.accounts.models import user_for_token
from leadflow.analytics.api import router as analytics_router
from leadflow.assignment.api import router as assignment_router
from leadflow.followups.api import router as followup_router
from leadflow.followups.services import FollowUpError
from leadflow.intake.api import (
    router as lead_router,
)  # leads.api's router, with intake's operations
from leadflow.intake.validation import IntakeError
from leadflow.notifications.api import router as notification_router


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class Utf8JSONRenderer(JSONRenderer):
    """Chinese text as UTF-8, not \\uXXXX escapes: readable and about a third smaller."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=Utf8JSONRenderer(),
    title="LeadFlow API",
    version="1",
    description="线索管理与转化分析 API · Lead management and conversion analysis",
    auth=[BearerToken(), django_auth],
    urls_namespace="api",
)
api.add_router("/", lead_router)
api.add_router("/", assignment_router)
api.add_router("/", notification_router)
api.add_router("/", followup_router)
api.add_router("/", analytics_router)

PYDANTIC_CODES = {
    "missing": ("required", _("必填项")),
    "string_type": ("not_text", _("应为文本")),
    "json_invalid": ("bad_json", _("请求体不是有效的 JSON")),
    "model_attributes_type": ("bad_json", _("请求体应为 JSON 对象")),
    "dict_type": ("bad_json", _("请求体应为 JSON 对象")),
    "int_parsing": ("bad_number", _("应为整数")),
    "int_type": ("bad_number", _("应为整数")),
    "greater_than_equal": ("bad_number", _("数值过小")),
    "less_than_equal": ("bad_number", _("数值过大")),
}


def problem(request: HttpRequest, status: int, errors: list[dict]) -> HttpResponse:
    return api.create_response(request, {"detail": errors}, status=status)


@api.exception_handler(IntakeError)
def intake_error(request: HttpRequest, exc: IntakeError) -> HttpResponse:
    errors = [{"field": e.field, "code": e.code, "message": e.message} for e in exc.errors]
    return problem(request, 400, errors)


@api.exception_handler(FollowUpError)
def followup_error(request: HttpRequest, exc: FollowUpError) -> HttpResponse:
    error = {"field": exc.field, "code": exc.code, "message": str(exc.message)}
    return problem(request, exc.status, [error])


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        names = [part for part in err.get("loc", ()) if isinstance(part, str)]
        field = names[-1] if names and names[-1] not in ("body", "payload", "query") else None
        code, message = PYDANTIC_CODES.get(err.get("type", ""), ("invalid", _("取值无效")))
        errors.append({"field": field, "code": code, "message": str(message)})
    return problem(request, 400, errors)


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = _("请先登录，或使用 Authorization: Bearer <令牌>")
    return problem(request, 401, [{"field": None, "code": "unauthorized", "message": str(message)}])


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    message = _("未找到，或您无权查看")
    return problem(request, 404, [{"field": None, "code": "not_found", "message": str(message)}])


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = getattr(exc, "code", None) or {
        400: "bad_json",
        403: "forbidden",
        409: "conflict",
        429: "throttled",
    }.get(exc.status_code, "error")
    message = exc.message
    if exc.status_code == 400 and code == "bad_json":
        message = _("请求体不是有效的 JSON 对象")
    field = getattr(exc, "field", None)
    return problem(
        request, exc.status_code, [{"field": field, "code": code, "message": str(message)}]
    )
