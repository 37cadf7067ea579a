"""“Glömt lösenordet?”: a teacher asks for a code by e-mail, then chooses a
new password with it (`permissions.services.password_reset`)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from core.refusals import RefusalCode, Refused
from permissions.services.confirmations import email_code_redeem
from permissions.services.password_reset import password_reset_request
from portal.forms import EmailCodeForm, ForgotPasswordForm
from portal.views.account import code_refusal_message, code_used_response
from web.forms import with_retry_time
from web.request import audit_context


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    """Step 1: the username or e-mail address. The same answer whatever was
    typed, so the page tells nobody which accounts exist."""
    form = ForgotPasswordForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                password_reset_request(
                    typed=form.cleaned_data["username"], context=audit_context(request)
                )
            except Refused as refusal:
                status = 429
                message = refusal.message
                if refusal.code == RefusalCode.THROTTLED:
                    message = with_retry_time(_("Too many attempts."), refusal.params["retry_at"])
                form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _(
                        "If that is the username or e-mail address of a teacher account, we "
                        "have sent a code to the account's e-mail address. It works for 30 "
                        "minutes. Principals and test administrators get no code here: ask "
                        "the one who issued your credentials."
                    ),
                )
                return redirect("portal:forgot_password_code")
    return render(request, "portal/forgot_password.html", {"form": form}, status=status)


@sensitive_post_parameters("code", "new_password1", "new_password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def forgot_password_code(request: HttpRequest) -> HttpResponse:
    """Step 2: the username, the code from the mail and the new password.
    Every other session of the account ends; the school's log shows it."""
    form = EmailCodeForm(
        request.POST or None, initial={"username": request.GET.get("anvandarnamn", "")[:150]}
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = email_code_redeem(
                    username=data["username"],
                    code=data["code"],
                    new_password=data["new_password1"],
                    decline=False,
                    context=audit_context(request),
                    keep_session_key=request.session.session_key or "",
                )
            except Refused as refusal:
                form.add_error(None, _reset_refusal_message(refusal))
            except ValidationError as error:
                form.add_error("new_password2", error)
            else:
                return code_used_response(request, result)
    return render(request, "portal/forgot_password_code.html", {"form": form}, status=status)


def _reset_refusal_message(refusal: Refused) -> str:
    if refusal.code == RefusalCode.CODE_EXPIRED:
        return _(
            "The code has expired or been replaced by a newer one. Ask for a new code under "
            "“Forgot your password?”."
        )
    return code_refusal_message(refusal)
