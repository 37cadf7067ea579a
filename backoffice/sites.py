"""The two admin sites' common base: password and TOTP login, the enrolment
page at the first login, the idle timeout and the refusal page."""

import base64
from collections.abc import Callable

import django_otp
import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.admin import AdminSite
from django.contrib.admin.utils import unquote
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.services.staff import admin_enrolment_complete, totp_enrolment_key, totp_enrolment_uri
from backoffice.forms import (
    HuvudmanAuthenticationForm,
    TOTPAdminAuthenticationForm,
    TOTPEnrolmentForm,
)
from core.refusals import Refused
from permissions import policy
from web.request import audit_context, device_cookie_remember

# The authenticator key being enrolled lives in the session until it is confirmed,
# so an enrolment that fails leaves no device behind.
ENROL_KEY_SESSION_KEY = "accounts_enrol_key"


def qr_code_data_url(text: str) -> str:
    """A QR code as an inline SVG image: made here, no outside service sees the key."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode("ascii")


class HistoryInAuditLog:
    """A ModelAdmin mixin: the change page's "History" leads to the object's
    events in the site's audit log (searched by `history_key`), not to
    Django's LogEntry history, which the services never write."""

    def history_key(self, obj) -> str:
        return obj.get_username()

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            raise Http404
        log = reverse(f"{self.admin_site.name}:audit_auditevent_changelist")
        return HttpResponseRedirect(f"{log}?{urlencode({'q': self.history_key(obj)})}")


class ReadOnlyAdmin:
    """A ModelAdmin mixin for what no one edits by hand: rows written only by
    services (devices, the audit log, the outbox). Viewing stays as the
    ModelAdmin decides."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TOTPAdminSite(AdminSite):
    """An admin site that requires a password and a verified TOTP device.

    A new account (one-time password, no device yet) is logged in to this
    site's enrolment page and nowhere else until it has enrolled an
    authenticator app and chosen its own password.
    """

    login_form = TOTPAdminAuthenticationForm
    login_template = "admin/totp_login.html"
    # The policy function that says who may use this site once logged in.
    may_open: Callable[..., bool]
    # Which accounts this site's login is for ("admin" or "huvudman").
    door: str

    def has_permission(self, request) -> bool:
        # SECURITY: a password alone is never enough; nor is the wrong role.
        return self.may_open(user=request.user)

    def get_urls(self):
        return [
            path("aktivera/", self.enrol_view, name="enrol"),
            *super().get_urls(),
        ]

    def _enrolling(self, request: HttpRequest) -> bool:
        user = request.user
        return policy.is_admin_enrolment_pending(user=user) and (
            policy.admin_site_of_role(user=user) == self.door
        )

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        if self._enrolling(request):
            return redirect(f"{self.name}:enrol")
        response = super().login(request, extra_context)
        if request.method == "POST" and request.user.is_authenticated:
            device_cookie_remember(response, request, request.user.get_username())
            if self._enrolling(request):
                return _with_cookies(redirect(f"{self.name}:enrol"), response)
        return response

    @method_decorator(sensitive_post_parameters())
    @method_decorator(csrf_protect)
    @method_decorator(never_cache)
    def enrol_view(self, request: HttpRequest) -> HttpResponse:
        """First login: the QR code of a new key, a code from the app and a password.

        SECURITY: the key is shown here only, while it is not yet confirmed;
        once enrolled it is never shown again anywhere.
        """
        if not self._enrolling(request):
            if self.has_permission(request):
                return redirect(f"{self.name}:index")
            return redirect(f"{self.name}:login")
        user = request.user
        key = request.session.get(ENROL_KEY_SESSION_KEY)
        if not isinstance(key, str) or len(key) != 40:
            key = totp_enrolment_key()
            request.session[ENROL_KEY_SESSION_KEY] = key
        form = TOTPEnrolmentForm(user, request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                device = admin_enrolment_complete(
                    user=user,
                    key=key,
                    token=form.cleaned_data["otp_token"],
                    new_password=form.cleaned_data["new_password1"],
                    context=audit_context(request),
                    keep_session_key=request.session.session_key or "",
                )
            except Refused as refusal:
                auth_logout(request)
                messages.error(request, refusal.message)
                return redirect(f"{self.name}:login")
            if device is None:
                form.add_error(
                    "otp_token",
                    gettext(
                        "The code did not match. Check that the phone's clock is right and "
                        "type the code the app shows now."
                    ),
                )
            else:
                del request.session[ENROL_KEY_SESSION_KEY]
                # The service changed the password and the session epoch.
                user.refresh_from_db()
                django_otp.login(request, device)
                # SECURITY (ASVS 7.2.4): a new session key now that both factors
                # are in place; the new password's hash is stored with it.
                update_session_auth_hash(request, user)
                messages.success(request, gettext("Your authenticator app is enrolled."))
                return redirect(f"{self.name}:index")
        return self._enrol_page(request, form=form, key=key)

    def _enrol_page(self, request: HttpRequest, *, form, key: str) -> HttpResponse:
        """The enrolment page: the key as a QR code and in groups of four."""
        user = request.user
        uri = totp_enrolment_uri(user=user, key=key)
        secret = uri.split("secret=", 1)[1].split("&", 1)[0]
        return TemplateResponse(
            request,
            "admin/totp_enrol.html",
            {
                **self.each_context(request),
                "title": gettext("Enrol your authenticator app"),
                "form": form,
                "qr_code": qr_code_data_url(uri),
                "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
                "valid_until": user.onboarding_until,
            },
        )


def _with_cookies(target: HttpResponse, source: HttpResponse) -> HttpResponse:
    for cookie in source.cookies.values():
        target.cookies[cookie.key] = cookie
    return target


class NationalAdminSite(TOTPAdminSite):
    site_header = _("Behörighetsportalen – national administration")
    site_title = _("National administration")
    index_title = _("National administration")
    may_open = staticmethod(policy.can_open_national_admin)
    door = "admin"


class HuvudmanSite(TOTPAdminSite):
    """/huvudman/: huvudman staff manage their own huvudman's school units,
    principals and contact person. Every ModelAdmin on it scopes its queryset
    through `permissions.policy` (see backoffice/huvudman/)."""

    site_header = _("Behörighetsportalen – huvudman")
    site_title = _("Huvudman administration")
    index_title = _("Your huvudman")
    login_form = HuvudmanAuthenticationForm
    may_open = staticmethod(policy.can_open_huvudman_site)
    door = "huvudman"
