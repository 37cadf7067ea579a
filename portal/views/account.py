"""The teacher's own account page, the teacher's data export, and the page
where a code from an e-mail is used."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.db.models import F, Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.doors import Door
from accounts.models import User
from core.prepared import Prepared, model_columns, model_from_row
from core.refusals import RefusalCode, Refused
from core.views import personal_data_download
from federation.models import FederatedIdentity
from permissions import schoolyear
from permissions.data_export import teacher_data_export
from permissions.models import Membership, SubjectGrant
from permissions.policy import can_use_portal
from permissions.services.confirmations import CodeOutcome, email_code_redeem
from portal.forms import EmailCodeForm
from schools.models import Huvudman, SchoolUnit
from web.decorators import teacher_required
from web.forms import OwnPasswordChangeForm, unbound_password_change_html, with_retry_time
from web.login import own_password_change_view
from web.request import audit_context


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@never_cache
@teacher_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    user: User = request.user
    today = schoolyear.today()
    password_form = OwnPasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and password_form.is_valid():
        # Throttled and audited like a login; every other session ends.
        error = own_password_change_view(request, password_form, door=Door.PORTAL)
        if error is None:
            messages.success(request, _("Your password has been changed."))
            return redirect("portal:account")
        password_form.add_error("old_password", error)
    rows, pending = _membership_rows(user, today)
    return render(
        request,
        "portal/account.html",
        {
            "rows": rows,
            "pending": pending,
            "password_form": password_form,
            # PERFORMANCE: an empty form (a GET) is the same for everyone.
            "password_form_html": (
                password_form.render()
                if password_form.is_bound
                else unbound_password_change_html(get_language())
            ),
            "school_year": schoolyear.school_year_label(today),
            "any_active": any(row["active"] for row in rows),
            "school_accounts": _SCHOOL_ACCOUNTS(user_id=user.pk),
        },
    )


def _membership_rows(user: User, today: datetime.date) -> tuple[list[dict], list[Membership]]:
    """The teacher's confirmed memberships as the account page's rows, and
    the registrations still waiting for the teacher's confirmation."""
    memberships = []
    for row in _MEMBERSHIPS(user_id=user.pk):
        membership = model_from_row(Membership, row)
        membership.school_unit = model_from_row(SchoolUnit, row, "school_unit__")
        membership.school_unit.huvudman = model_from_row(Huvudman, row, "school_unit__huvudman__")
        memberships.append(membership)
    subjects: dict[int, list[dict]] = {}
    if memberships:
        for row in _SUBJECTS(user_id=user.pk):
            subjects.setdefault(row["membership_id"], []).append(row)
    rows = [
        {"membership": m, "active": m.is_valid_on(today), "subjects": subjects.get(m.pk, [])}
        for m in memberships
        if not m.is_pending
    ]
    # The page names the principals only beside a warning (an expired
    # membership, or one without subjects): read them for those schools alone,
    # in one query, and not at all when nothing needs a warning.
    prefetch_related_objects(
        [row["membership"].school_unit for row in rows if not row["active"] or not row["subjects"]],
        Prefetch(
            "principals",
            queryset=User.objects.filter(is_active=True).order_by("last_name", "first_name"),
        ),
    )
    pending = [m for m in memberships if m.is_pending]
    return rows, pending


def _live_memberships(*, user_id: int) -> QuerySet[Membership]:
    return Membership.objects.live().filter(user_id=user_id)


# PERFORMANCE: the page's two statements (the memberships with their schools,
# the subjects of each), compiled once (core.prepared); the subjects as the
# template shows them, by name.
_MEMBERSHIPS = Prepared(
    lambda user_id: (
        _live_memberships(user_id=user_id)
        .order_by("school_unit__name")
        .values(
            *model_columns(Membership),
            *model_columns(SchoolUnit, "school_unit__"),
            *model_columns(Huvudman, "school_unit__huvudman__"),
        )
    ),
    user_id=int,
)
_SUBJECTS = Prepared(
    lambda user_id: (
        SubjectGrant.objects.filter(membership__in=_live_memberships(user_id=user_id).values("pk"))
        .order_by("subject__name", "subject_id")
        .values("membership_id", name=F("subject__name"), code=F("subject__code"))
    ),
    user_id=int,
)

# The teacher's links to school accounts (federated login), as the page names them.
_SCHOOL_ACCOUNTS = Prepared(
    lambda user_id: (
        FederatedIdentity.objects.filter(user_id=user_id)
        .order_by("pk")
        .values(
            "pk",
            "subject",
            "linked_at",
            huvudman=F("idp__huvudman__name"),
            keeps_password=F("idp__teachers_keep_password"),
        )
    ),
    user_id=int,
)


@sensitive_post_parameters("code", "new_password1", "new_password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def email_code(request: HttpRequest) -> HttpResponse:
    """A code from an e-mail: confirm or decline a school's registration, or
    choose a new password. Open without login: the code is the proof."""
    decline = "decline" in request.POST
    form = EmailCodeForm(
        request.POST or None,
        decline=decline,
        initial={"username": request.GET.get("anvandarnamn", "")[:150]},
    )
    status = 200
    if request.method == "POST":
        status = 400
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = email_code_redeem(
                username=data["username"],
                code=data["code"],
                new_password=None if decline else data["new_password1"],
                decline=decline,
                context=audit_context(request),
                keep_session_key=request.session.session_key or "",
            )
        except Refused as refusal:
            form.add_error(None, code_refusal_message(refusal))
        except ValidationError as error:
            form.add_error("new_password2", error)
        else:
            return code_used_response(request, result)
    return render(request, "portal/email_code.html", {"form": form}, status=status)


def code_refusal_message(refusal: Refused) -> str:
    message = refusal.message
    retry_at = refusal.params.get("retry_at")
    if refusal.code == RefusalCode.CODE_WRONG and retry_at is not None:
        message = with_retry_time(message, retry_at)
    return message


def code_used_response(request: HttpRequest, result) -> HttpResponse:
    if request.user.is_authenticated and request.user.pk == result.user.pk:
        # Confirmed from the portal while logged in: this session stays.
        update_session_auth_hash(request, result.user)
    messages.success(request, _code_done_message(result))
    if can_use_portal(user=request.user):
        return redirect("portal:account")
    return redirect(settings.PORTAL_LOGIN_URL)


def _code_done_message(result) -> str:
    school = result.school_unit.name if result.school_unit else ""
    if result.outcome == CodeOutcome.CONFIRMED:
        return _(
            "Thank you. You are now a teacher at %(school)s too. Log in with your new password."
        ) % {"school": school}
    if result.outcome == CodeOutcome.DECLINED:
        return _("You declined the registration at %(school)s. It has been removed.") % {
            "school": school
        }
    return _("Your new password is set. Log in with it.")


@never_cache
@teacher_required
@require_POST
def account_data_export(request: HttpRequest) -> HttpResponse:
    """The teacher's own data as JSON (docs/privacy.md). A POST: it writes
    an audit event, and no link prefetcher may trigger it."""
    user: User = request.user
    data = teacher_data_export(teacher=user, context=audit_context(request))
    return personal_data_download(data, f"mina-uppgifter-{user.username}.json")
