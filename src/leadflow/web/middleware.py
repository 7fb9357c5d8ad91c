from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _


class LanguageMiddleware:
    """Simplified Chinese unless the user chose otherwise (the language switch sets a cookie).

    The API instead follows each request's Accept-Language, so an integration gets its
    error messages in the language it asks for. Replaces Django's LocaleMiddleware, which
    would let a browser's English default override the product's Chinese default.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            language = translation.get_language_from_request(request)
        else:
            chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
            language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ["Accept-Language", "Cookie"])
        return response


class RejectNulMiddleware:
    """Refuse a NUL character in the path or the query string with a 400, before it reaches a
    database that cannot store it (PostgreSQL refuses text with NUL). Form and JSON fields are
    checked where they are validated, with a message per field."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            message = str(_("请求中含有非法的空字符(NUL)"))
            if request.path.startswith("/api/"):
                detail = [{"field": None, "code": "nul", "message": message}]
                return JsonResponse(
                    {"detail": detail}, status=400, json_dumps_params={"ensure_ascii": False}
                )
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
