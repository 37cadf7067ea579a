"""A form posted after the session ended: keep what was typed (where safe)
and give it back after the new login, instead of losing it.

SECURITY: a POST from an ended session is never carried out, and nothing is
re-sent by itself: the values only fill in the form again for the person to
check and send. Passwords, card cells, codes, tokens and keys are never kept
(`SECRET_FIELD`), and the values wait in the new (anonymous) session only,
for `RESUME_LIFETIME`.
"""

import re
import time
from urllib.parse import urlencode, urlparse

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.i18n import localized_path

RESUME_SESSION_KEY = "accounts_resume"
RESUME_LIFETIME = 30 * 60
MAX_VALUE = 5000
MAX_TOTAL = 20_000
# Never kept: anything secret, and anything that would act by itself.
SECRET_FIELD = re.compile(
    r"(password|passwd|losenord|otp|token|reauth|key|pickup|csrf|confirm|^next$|^[a-h](10|[1-9])$)",
    re.IGNORECASE,
)


def login_urls() -> tuple[str, ...]:
    """The login pages, Swedish and in the page's language (/en/…)."""
    doors = (settings.ETJANSTER_LOGIN_URL, settings.PORTAL_LOGIN_URL)
    return (
        *doors,
        *(localized_path(url) for url in doors),
        reverse("admin:login"),
        reverse("huvudman:login"),
    )


def _form_page(request: HttpRequest) -> str:
    """Where the form was: the Referer on this site (a confirmation or form
    page), else the path it was posted to."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parsed = urlparse(referer)
        return parsed.path + (f"?{parsed.query}" if parsed.query else "")
    return request.path


def post_resume_stash(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A POST answered by a redirect to a login page: keep the safe fields,
    send the person back to the form's page after the login, and say so."""
    location = urlparse(response.get("Location", "")).path
    login = next((url for url in login_urls() if location == url), None)
    if login is None:
        return response
    page = _form_page(request)
    fields: dict[str, list[str]] = {}
    total = 0
    for name, values in request.POST.lists():
        if SECRET_FIELD.search(name):
            continue
        kept = [value for value in values if len(value) <= MAX_VALUE]
        total += sum(len(value) for value in kept) + len(name)
        if total > MAX_TOTAL:
            break
        fields[name] = kept
    if fields:
        request.session[RESUME_SESSION_KEY] = {
            "path": urlparse(page).path,
            "fields": fields,
            "at": int(time.time()),
        }
    messages.warning(
        request,
        _(
            "You were no longer logged in, so what you sent was not saved. Log in again: "
            "you come back to the page, with what you typed filled in again (never passwords "
            "or card cells). Check it and send it again."
        )
        if fields
        else _("You were no longer logged in, so what you sent was not saved. Log in again."),
    )
    response["Location"] = f"{login}?{urlencode({REDIRECT_FIELD_NAME: page})}"
    return response


def resumed_initial(request: HttpRequest, *, names) -> dict | None:
    """The values typed into this page's form before the session ended, for
    the fields `names` (as the form's `initial`), once; None if there are none."""
    stash = request.session.get(RESUME_SESSION_KEY)
    if not isinstance(stash, dict) or stash.get("path") != request.path:
        return None
    del request.session[RESUME_SESSION_KEY]
    if time.time() - stash.get("at", 0) > RESUME_LIFETIME:
        return None
    fields = stash.get("fields") or {}
    initial = {}
    for name, many in names.items():
        if name in fields:
            values = fields[name]
            initial[name] = values if many else (values[-1] if values else "")
    if initial:
        messages.info(
            request,
            _("What you typed before the login ended is filled in again. Check it and send it."),
        )
    return initial or None
