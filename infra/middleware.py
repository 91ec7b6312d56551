"""Language choice: Vietnamese unless the person picked English.

Pages ignore the browser's Accept-Language, because district offices often run an English-language
browser while their staff read Vietnamese; the language switch (a cookie) is the way to English.
The APIs (/api/, /ogc/, /tiles/) still honour Accept-Language, as programs expect.
"""
from __future__ import annotations

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class VietnameseFirstLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if request.path_info.startswith(("/api/", "/ogc/", "/tiles/")):
            return super().process_request(request)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
