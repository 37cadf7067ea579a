"""E-tjänster: the principal's and test administrator's pages.

Every page starts from `etjanster_school_units` (a school outside it is a
404), reaches memberships and test administrators only below that school,
and asks `permissions.policy` whether the user may change what it shows
(may see but not change is a 403). Writes go through `permissions.services`.
"""

import dataclasses
import datetime
import json
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.card_pdf import card_rows, render_card_pdf
from accounts.models import CARD_COLUMNS
from audit.actions import (
    NEVER_AT_A_SCHOOL,
    AuditAction,
)
from audit.context import AuditContext
from core.once import (
    ONCE_FIELD,
    Repeated,
    once_repeated,
    once_token,
    said_repeated,
    spent_once,
)
from core.refusals import RefusalCode, Refused
from core.views import personal_data_download
from core.widgets import PlainSelect
from etjanster.forms import (
    SORTS,
    ImportApplyForm,
    ImportPickupForm,
    ImportUploadForm,
    SchoolYearRenewForm,
    SubjectGrantForm,
    TeacherFilterForm,
    TeacherRegisterForm,
    TestAdminIssueForm,
)
from etjanster.tables import log_rows_html, teacher_rows_html
from permissions import policy
from permissions.data_export import teacher_data_export
from permissions.event_rows import event_rows, events_csv
from permissions.imports.apply import (
    csv_import_apply,
    csv_import_discard,
    csv_import_pickup_open,
    csv_import_preview,
)
from permissions.imports.parse import (
    MAX_BYTES,
    ImportFileError,
    Outcome,
    SubjectMode,
    decode_upload,
)
from permissions.imports.plan import plan_import
from permissions.models import (
    Membership,
    SubjectGrant,
    TestAdministrator,
)
from permissions.policy import KNOWN_NAMES, known_full_name
from permissions.schoolyear import school_year_label, today
from permissions.services.appointments import (
    test_admin_deactivate,
    test_admin_issue,
    test_admin_reactivate,
)
from permissions.services.codes import (
    membership_code_resend,
    teacher_password_code_send,
)
from permissions.services.exports import log_export_record
from permissions.services.memberships import (
    membership_register,
    membership_register_self,
    membership_remove,
    membership_restore,
    teacher_password_regenerate,
)
from permissions.services.school_year import (
    membership_reactivate,
    school_year_renew,
)
from permissions.services.subjects import membership_grant
from permissions.slips import (
    ETJANSTER_LOGIN_PATH,
    Slip,
    render_slips,
    send_slip_by_mail,
)
from schools.models import SchoolUnit
from web.decorators import etjanster_required
from web.reauth import Reauth, reauth_check, reauth_prompt
from web.request import audit_context
from web.responses import data_url, no_store, pdf_response
from web.resume import resumed_initial

PAGE_SIZE = 100
LOG_PAGE_SIZE = 50


# --- Lookups: one per resource, 404 outside the user's scope ------------------------


def _school_unit(request: HttpRequest, code: str, day: datetime.date) -> SchoolUnit:
    return get_object_or_404(policy.etjanster_school_units(user=request.user, today=day), code=code)


def _membership(school_unit: SchoolUnit, username: str) -> Membership:
    return get_object_or_404(
        policy.school_memberships(school_unit=school_unit).select_related("user", "school_unit"),
        user__username=username,
    )


def _test_admin(school_unit: SchoolUnit, username: str) -> TestAdministrator:
    return get_object_or_404(
        policy.school_test_admins(school_unit=school_unit).select_related("user", "school_unit"),
        user__username=username,
    )


def _context(request: HttpRequest, school_unit: SchoolUnit) -> AuditContext:
    """Who acts, from where, at this school: what every service here is given."""
    return audit_context(request, school_unit=school_unit)


def _require(allowed: bool, reason: RefusalCode | None = None) -> None:
    """Go on, or the 403 page, saying `reason` where there is more to say
    than its heading ("Du får inte göra detta"; `core.middleware.RefusedMiddleware`)."""
    if not allowed:
        raise PermissionDenied if reason is None else Refused(reason)


SLIP_WAITS = gettext_lazy(
    "A slip without password can be printed only once the teacher has confirmed the "
    "registration at this school. Until then the teacher logs in with the username and "
    "password they already have."
)


def _slip_for(membership: Membership, password: str | None) -> Slip:
    return Slip(
        name=known_full_name(membership=membership),
        username=membership.user.username,
        school_name=str(membership.school_unit),
        valid_until=membership.valid_until,
        password=password,
    )


# --- Confirmations of what cannot be undone ----------------------------------------------


def _repeated(request: HttpRequest, done_url: str, *, credentials: bool) -> HttpResponse | None:
    """A form sent again (`accounts.once`): not carried out; on to `done_url`,
    saying why (and, for `credentials`, that a password or card is shown once)."""
    if request.method == "POST" and once_repeated(request):
        return said_repeated(request, done_url, credentials=credentials)
    return None


def _confirmation(
    request: HttpRequest,
    school_unit: SchoolUnit,
    *,
    grave: bool,
    done_url: str,
    credentials: bool = False,
):
    """Where a two-step act stands.

    None: the confirmation was posted (and, for a `grave` act, a stale
    session proved the card again): act now, inside `core.once.spent_once`.
    A response: stop with it (the same confirmation was sent before: on to
    `done_url`; or the card locked during re-authentication and the session
    ended). Otherwise `(reauth, status)` for the confirmation page. A GET, or
    a POST without `confirm` (an old one-click form), only ever shows the page.
    """
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        if repeated := _repeated(request, done_url, credentials=credentials):
            return repeated
        if not grave:
            return None
        problem = reauth_check(request, school_unit=school_unit)
        if problem is None:
            return None
        if problem.ended:
            messages.error(
                request,
                _(
                    "Your matrix card locked after too many wrong answers, and you have "
                    "been logged out. Ask the one who issued your card to unlock it."
                ),
            )
            return redirect(settings.ETJANSTER_LOGIN_URL)
        return problem, 400
    return (reauth_prompt(request) if grave else Reauth()), 200


def _confirm_page(
    request: HttpRequest,
    school_unit: SchoolUnit,
    step: tuple,
    *,
    title: str,
    facts: list,
    consequences: list,
    button: str,
    cancel_url: str,
    hidden: list | None = None,
    people: list | None = None,
    people_caption: str = "",
    danger: bool = True,
) -> HttpResponse:
    reauth, status = step
    return no_store(
        render(
            request,
            "schools/confirm.html",
            {
                "school_unit": school_unit,
                "title": title,
                "facts": facts,
                "consequences": consequences,
                "button": button,
                "action_url": request.path,
                "cancel_url": cancel_url,
                "hidden": [*(hidden or []), (ONCE_FIELD, once_token())],
                "people": people or [],
                "people_caption": people_caption,
                "danger": danger,
                "reauth": reauth,
            },
            status=status,
        )
    )


def _teacher_facts(membership: Membership) -> list:
    return [
        (_("Teacher"), f"{known_full_name(membership=membership)} ({membership.user.username})"),
        (_("School unit"), str(membership.school_unit)),
    ]


# --- Start page -------------------------------------------------------------------------


@etjanster_required
@require_GET
def etjanster_home(request: HttpRequest) -> HttpResponse:
    day = today()
    live = Membership.objects.live().filter(school_unit=OuterRef("pk"))
    states = policy.MembershipState

    def in_state(state):
        return policy.memberships_in_state(memberships=live, state=state, today=day)

    def count(queryset):
        return Coalesce(
            Subquery(
                queryset.order_by().values("school_unit").annotate(n=Count("pk")).values("n")[:1]
            ),
            0,
        )

    # One query for all schools and all four counts.
    school_units = policy.etjanster_school_units(user=request.user, today=day).annotate(
        # The same states as the teacher list, from the one rule in policy.
        active_count=count(in_state(states.ACTIVE)),
        awaiting_count=count(in_state(states.AWAITING_REACTIVATION)),
        no_subjects_count=count(in_state(states.NO_SUBJECTS)),
        test_admin_attention_count=count(
            policy.test_admins_needing_attention(
                appointments=TestAdministrator.objects.filter(school_unit=OuterRef("pk")),
                today=day,
            )
        ),
    )
    return render(
        request,
        "schools/etjanster_home.html",
        {
            "school_units": school_units,
            "school_year": school_year_label(day),
        },
    )


# --- Teachers ---------------------------------------------------------------------------


# How a membership's state looks: the tag's colour (`tag-<css>`) per state.
STATE_TAG_CSS = {
    policy.MembershipState.ACTIVE: "ok",
    policy.MembershipState.AWAITING_CONFIRMATION: "warn",
    policy.MembershipState.AWAITING_REACTIVATION: "warn",
    policy.MembershipState.NO_SUBJECTS: "warn",
}


def _state_tag(state: str) -> dict:
    return {"label": policy.MembershipState(state).label, "css": STATE_TAG_CSS[state]}


@etjanster_required
@require_GET
def teacher_list(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = _school_unit(request, code, day)
    form = TeacherFilterForm(request.GET)
    # An unknown filter value is ignored rather than an error: the list still shows.
    params = form.cleaned_data if form.is_valid() else {}
    memberships = policy.school_memberships(school_unit=school_unit)
    if params.get("state"):
        memberships = policy.memberships_in_state(
            memberships=memberships, state=params["state"], today=day
        )
    if query := params.get("q"):
        memberships = memberships.annotate(**KNOWN_NAMES).filter(
            Q(known_first_name__icontains=query)
            | Q(known_last_name__icontains=query)
            | Q(user__username__icontains=query)
            | Q(user__email__icontains=query)
        )
    sort = params.get("sort") or "name"
    page = Paginator(memberships.order_by(*SORTS[sort]), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # PERFORMANCE: plain values, not model instances: the page shows five
    # columns of 100 rows, and building 100 users and 200 grants with their
    # subjects as objects cost more than the whole rest of the page. (Taken
    # from the page's slice, so that the count above needs no join.)
    values = page.object_list.values_list(
        "pk",
        "valid_until",
        "confirmed_at",
        "user__username",
        *KNOWN_NAMES.values(),
    )
    query_without_page = request.GET.copy()
    query_without_page.pop("page", None)
    return render(
        request,
        "schools/teacher_list.html",
        {
            "school_unit": school_unit,
            "form": form,
            "rows_html": teacher_rows_html(
                _teacher_rows(list(values), school_unit=school_unit, day=day)
            ),
            "page": page,
            "query": query_without_page.urlencode(),
            "states": policy.MembershipState,
        },
    )


def _teacher_rows(memberships: list[tuple], *, school_unit: SchoolUnit, day) -> list[dict]:
    """The teacher list's rows as plain values for `schools.tables`, with one
    query for the subjects of all of them.

    PERFORMANCE: whatever is the same for every row (translations, the state
    tags, the link's pattern, each distinct date) is worked out once here.
    """
    names: dict[int, list[str]] = {membership[0]: [] for membership in memberships}
    grants = (
        SubjectGrant.objects.filter(membership_id__in=names)
        .order_by("subject__name", "subject_id")
        .values_list("membership_id", "subject__name")
    )
    for membership_id, subject_name in grants:
        names[membership_id].append(subject_name)
    tags = {state: _state_tag(state) for state in STATE_TAG_CSS}
    # The detail URL differs only by the username: reverse it once.
    placeholder = "-username-"
    detail_url = reverse("etjanster:teacher_detail", args=[school_unit.code, placeholder])
    slip_label = _("Slip for %(name)s")
    dates: dict[datetime.date, str] = {}
    rows = []
    for pk, valid_until, confirmed_at, username, first_name, last_name in memberships:
        subjects = names[pk]
        # The list holds live memberships only: unconfirmed is pending.
        state = policy.membership_state(
            valid_until=valid_until,
            subject_count=len(subjects),
            today=day,
            pending=confirmed_at is None,
        )
        if valid_until not in dates:
            dates[valid_until] = date_format(valid_until)
        rows.append(
            {
                "pk": pk,
                "username": username,
                "name": f"{last_name}, {first_name}",
                "slip_label": slip_label % {"name": f"{first_name} {last_name}".strip()},
                "url": detail_url.replace(placeholder, quote(username, safe="")),
                "subjects": ", ".join(subjects) or "–",
                "valid_until": dates[valid_until],
                "state": tags[state],
            }
        )
    return rows


@etjanster_required
@require_http_methods(["GET", "POST"])
def teacher_register(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = _school_unit(request, code, day)
    form = TeacherRegisterForm(
        request.POST or None,
        initial=resumed_initial(
            request,
            names={"first_name": False, "last_name": False, "email": False, "subjects": True},
        ),
        reached_levels=policy.levels_reached_by(school_unit=school_unit),
    )
    # The result page reloaded (its password is shown only once): the teacher
    # is registered already, and nothing is done again.
    teachers = reverse("etjanster:teacher_list", args=[school_unit.code])
    if repeated := _repeated(request, teachers, credentials=True):
        return repeated
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with spent_once(request):
                registration = membership_register(
                    school_unit=school_unit,
                    context=_context(request, school_unit),
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    subjects=data["subjects"],
                    today=day,
                )
        except Refused as refusal:
            form.add_error("email", str(refusal))
        except Repeated:
            return said_repeated(request, teachers, credentials=True)
        else:
            return _registered(request, school_unit, registration, mail=data["send_email"])
    return render(
        request,
        "schools/teacher_register.html",
        {"school_unit": school_unit, "form": form, "once": once_token()},
    )


def _registered(request, school_unit, registration, *, mail: bool) -> HttpResponse:
    slip = _slip_for(registration.membership, registration.password)
    if registration.linked:
        # The teacher keeps the login they already have (SPEC: "the slip says
        # to use the existing login"), so the slip carries no username. The
        # school still sees it in its teacher list, as for every teacher there.
        slip = dataclasses.replace(slip, username="")
    # A linked account's owner gets the confirmation code instead (the service mailed it).
    mail = mail and not registration.linked
    if mail:
        send_slip_by_mail(slip=slip, email=registration.user.email)
    subjects = list(registration.membership.subjects.order_by("name"))
    return no_store(
        render(
            request,
            "schools/teacher_registered.html",
            {
                "school_unit": school_unit,
                "registration": registration,
                "subjects": subjects,
                "slip_url": data_url(render_slips([slip])),
                "mailed": mail,
            },
        )
    )


@etjanster_required
@require_POST
def teacher_register_self(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = _school_unit(request, code, day)
    try:
        registration = membership_register_self(
            school_unit=school_unit, context=_context(request, school_unit), today=day
        )
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("etjanster:teacher_list", code=school_unit.code)
    return _registered(request, school_unit, registration, mail=False)


@etjanster_required
@require_http_methods(["GET", "POST"])
def teacher_detail(request: HttpRequest, code: str, username: str) -> HttpResponse:
    day = today()
    school_unit = _school_unit(request, code, day)
    membership = _membership(school_unit, username)
    current = list(membership.subjects.order_by("level", "name"))
    form = SubjectGrantForm(
        request.POST or None,
        initial=resumed_initial(request, names={"subjects": True})
        or {"subjects": [subject.code for subject in current]},
        reached_levels=policy.levels_reached_by(school_unit=school_unit),
    )
    may_regenerate = policy.can_regenerate_teacher_password(
        user=request.user, membership=membership, today=day
    )
    state = policy.membership_state(
        valid_until=membership.valid_until,
        subject_count=len(current),
        today=day,
        pending=membership.is_pending,
    )
    if request.method == "POST" and form.is_valid():
        added, removed = membership_grant(
            membership=membership,
            subjects=form.cleaned_data["subjects"],
            context=_context(request, school_unit),
        )
        if added or removed:
            messages.success(request, _("The subjects were saved."))
        else:
            messages.info(request, _("No change: the subjects were already these."))
        return redirect("etjanster:teacher_detail", code=school_unit.code, username=username)
    return render(
        request,
        "schools/teacher_detail.html",
        {
            "school_unit": school_unit,
            "membership": membership,
            "teacher": membership.user,
            "subjects": current,
            "form": form,
            "state": state,
            "state_tag": _state_tag(state),
            "states": policy.MembershipState,
            "pending": membership.is_pending,
            "may_reactivate": not membership.is_pending
            and policy.reactivation_is_open(valid_until=membership.valid_until, today=day),
            "may_remove": policy.can_remove_membership(user=request.user, school_unit=school_unit),
            "may_export": policy.can_export_teacher_data(
                user=request.user, school_unit=school_unit
            ),
            "may_regenerate_password": may_regenerate,
            "may_print_slip": policy.can_print_slip(membership=membership),
            "may_send_password_code": not may_regenerate
            and policy.can_send_password_code(user=request.user, membership=membership, today=day),
            # SECURITY: nothing about the account's other schools while this
            # school waits for the teacher's confirmation.
            "other_schools": None if membership.is_pending else membership.other_schools_count(),
        },
    )


@etjanster_required
@require_http_methods(["GET", "POST"])
def teacher_password(request: HttpRequest, code: str, username: str) -> HttpResponse:
    day = today()
    school_unit = _school_unit(request, code, day)
    membership = _membership(school_unit, username)
    if refusal := policy.password_refusal(user=request.user, membership=membership, today=day):
        raise Refused(refusal)
    step = _confirmation(
        request, school_unit, grave=True, done_url=_teacher_url(membership), credentials=True
    )
    if isinstance(step, HttpResponse):
        return step
    if step is not None:
        return _confirm_page(
            request,
            school_unit,
            step,
            title=_("Give %(name)s a new password?")
            % {"name": known_full_name(membership=membership)},
            facts=_teacher_facts(membership),
            consequences=[
                _(
                    "The teacher's current password stops working at once and every session "
                    "of the account ends. The new password is shown once, on the next page."
                )
            ],
            button=_("Give a new password"),
            cancel_url=_teacher_url(membership),
        )
    try:
        with spent_once(request):
            password = teacher_password_regenerate(
                membership=membership, context=_context(request, school_unit), today=day
            )
    except Repeated:
        return said_repeated(request, _teacher_url(membership), credentials=True)
    return no_store(
        render(
            request,
            "schools/teacher_password.html",
            {
                "school_unit": school_unit,
                "membership": membership,
                "password": password,
                "slip_url": data_url(render_slips([_slip_for(membership, password)])),
            },
        )
    )


def _teacher_url(membership: Membership) -> str:
    return reverse(
        "etjanster:teacher_detail", args=[membership.school_unit.code, membership.user.username]
    )


@etjanster_required
@require_POST
def teacher_code_resend(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """A new confirmation code to a teacher who has not confirmed this school yet."""
    school_unit = _school_unit(request, code, today())
    membership = _membership(school_unit, username)
    if not membership.is_pending:
        messages.info(request, _("The teacher has already confirmed."))
    else:
        try:
            membership_code_resend(membership=membership, context=_context(request, school_unit))
        except Refused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(
                request,
                _("A new code was sent to %(email)s.") % {"email": membership.user.email},
            )
    return redirect("etjanster:teacher_detail", code=school_unit.code, username=username)


@etjanster_required
@require_POST
def teacher_password_code(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """The teacher of schools with different principals: a code to the
    teacher's e-mail, with which they choose a new password themselves."""
    day = today()
    school_unit = _school_unit(request, code, day)
    membership = _membership(school_unit, username)
    _require(policy.can_send_password_code(user=request.user, membership=membership, today=day))
    try:
        teacher_password_code_send(
            membership=membership, context=_context(request, school_unit), today=day
        )
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request,
            _(
                "A code was sent to %(email)s. With it the teacher chooses a new password; "
                "the current one works until then."
            )
            % {"email": membership.user.email},
        )
    return redirect("etjanster:teacher_detail", code=school_unit.code, username=username)


@etjanster_required
@require_POST
def teacher_data(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """The school's data about one teacher as JSON, on the teacher's request
    (README "Privacy"); principals only, audited."""
    school_unit = _school_unit(request, code, today())
    membership = _membership(school_unit, username)
    _require(policy.can_export_teacher_data(user=request.user, school_unit=school_unit))
    data = teacher_data_export(
        teacher=membership.user, context=_context(request, school_unit), school_unit=school_unit
    )
    return personal_data_download(data, f"uppgifter-{username}-{school_unit.code}.json")


@etjanster_required
@require_POST
def teacher_slip(request: HttpRequest, code: str, username: str) -> HttpResponse:
    """A slip without password (username, address, validity) to hand out again."""
    school_unit = _school_unit(request, code, today())
    membership = _membership(school_unit, username)
    if not policy.can_print_slip(membership=membership):
        messages.error(request, SLIP_WAITS)
        return redirect(_teacher_url(membership))
    return pdf_response(render_slips([_slip_for(membership, None)]), f"lapp-{username}.pdf")


@etjanster_required
@require_POST
def teacher_slips(request: HttpRequest, code: str) -> HttpResponse:
    """One PDF of slips (without passwords) for the chosen teachers."""
    school_unit = _school_unit(request, code, today())
    usernames = request.POST.getlist("teacher")
    memberships = list(
        policy.slip_memberships(school_unit=school_unit)
        .filter(user__username__in=usernames)
        .select_related("user", "school_unit")
        .order_by(KNOWN_NAMES["known_last_name"], KNOWN_NAMES["known_first_name"])
    )
    waiting = (
        policy.school_memberships(school_unit=school_unit)
        .pending()
        .filter(user__username__in=usernames)
        .count()
    )
    if not memberships:
        messages.error(
            request, SLIP_WAITS if waiting else _("Choose at least one teacher to print slips for.")
        )
        return redirect("etjanster:teacher_list", code=school_unit.code)
    if waiting:
        # A download leaves the page as it was: the note shows on the next one.
        messages.info(
            request,
            ngettext(
                "%(count)d chosen teacher got no slip: they have not yet confirmed the "
                "registration at this school.",
                "%(count)d chosen teachers got no slip: they have not yet confirmed the "
                "registration at this school.",
                waiting,
            )
            % {"count": waiting},
        )
    slips = [_slip_for(membership, None) for membership in memberships]
    return pdf_response(render_slips(slips), f"lappar-{school_unit.code}.pdf")


@etjanster_required
@require_POST
def teacher_reactivate(request: HttpRequest, code: str, username: str) -> HttpResponse:
    day = today()
    school_unit = _school_unit(request, code, day)
    membership = _membership(school_unit, username)
    try:
        membership_reactivate(
            membership=membership, context=_context(request, school_unit), today=day
        )
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("The membership was reactivated for this school year."))
    return redirect("etjanster:teacher_detail", code=school_unit.code, username=username)


@etjanster_required
@require_http_methods(["GET", "POST"])
def teacher_remove(request: HttpRequest, code: str, username: str) -> HttpResponse:
    school_unit = _school_unit(request, code, today())
    # Sent again after the removal (a reload, a second tab): the teacher is
    # no longer here to find, so this is asked before the look-up.
    done_url = reverse("etjanster:teacher_list", args=[school_unit.code])
    if repeated := _repeated(request, done_url, credentials=False):
        return repeated
    membership = _membership(school_unit, username)
    _require(
        policy.can_remove_membership(user=request.user, school_unit=school_unit),
        RefusalCode.PRINCIPAL_ONLY_REMOVES,
    )
    name = known_full_name(membership=membership)
    others = membership.other_schools_count()
    # Deleting the account cannot be undone: that one asks for the card again.
    step = _confirmation(request, school_unit, grave=others == 0, done_url=done_url)
    if isinstance(step, HttpResponse):
        return step
    if step is not None:
        if membership.is_pending:
            # SECURITY: nothing about the account's other schools while the
            # teacher has not confirmed this one (as on the teacher's page).
            consequence = _("The registration is withdrawn; the teacher's account is not affected.")
        elif others:
            consequence = _(
                "%(name)s loses access through this school at once. The account stays for the "
                "teacher's other schools, and you can restore the membership here within 30 days."
            ) % {"name": name}
        else:
            consequence = _(
                "The account is deleted because this is the teacher's last school: the username, "
                "the password and the personal data are gone and the teacher is logged out at "
                "once. This cannot be undone."
            )
        return _confirm_page(
            request,
            school_unit,
            step,
            title=_("Remove %(name)s from %(school)s?")
            % {"name": name, "school": school_unit.name},
            facts=_teacher_facts(membership),
            consequences=[consequence],
            button=_("Withdraw the registration")
            if membership.is_pending
            else _("Remove from this school")
            if others
            else _("Remove and delete the account"),
            cancel_url=_teacher_url(membership),
        )
    pending = membership.is_pending
    try:
        with spent_once(request):
            deleted = membership_remove(
                membership=membership, context=_context(request, school_unit)
            )
    except Repeated:
        return said_repeated(request, done_url, credentials=False)
    if pending and not deleted:
        messages.success(request, _("The registration of %(name)s was withdrawn.") % {"name": name})
    elif deleted:
        messages.success(
            request,
            _("%(name)s was removed. It was the last school, so the account was deleted.")
            % {"name": name},
        )
    else:
        messages.success(
            request,
            _(
                "%(name)s was removed from this school; the account remains for other schools. "
                "Changed your mind? “Removed teachers” restores it within 30 days."
            )
            % {"name": name},
        )
    return redirect("etjanster:teacher_list", code=school_unit.code)


@etjanster_required
@require_GET
def teacher_removed_list(request: HttpRequest, code: str) -> HttpResponse:
    """Memberships removed in the last 30 days that can still be restored."""
    school_unit = _school_unit(request, code, today())
    _require(
        policy.can_restore_membership(user=request.user, school_unit=school_unit),
        RefusalCode.PRINCIPAL_ONLY_REMOVES,
    )
    removed = (
        policy.restorable_memberships(school_unit=school_unit, now=timezone.now())
        .select_related("user")
        .order_by("-removed_at", "pk")
    )
    return render(
        request,
        "schools/teacher_removed.html",
        {
            "school_unit": school_unit,
            "removed": [
                (membership, membership.removed_at + policy.RESTORE_WINDOW)
                for membership in removed
            ],
        },
    )


@etjanster_required
@require_POST
def teacher_restore(request: HttpRequest, code: str, membership_id: int) -> HttpResponse:
    school_unit = _school_unit(request, code, today())
    _require(
        policy.can_restore_membership(user=request.user, school_unit=school_unit),
        RefusalCode.PRINCIPAL_ONLY_REMOVES,
    )
    membership = get_object_or_404(
        Membership.objects.filter(school_unit=school_unit).select_related("user"),
        pk=membership_id,
    )
    if membership.removed_at is None:
        # Restored already (the button sent twice, a second tab): say so.
        messages.info(
            request,
            _("%(name)s is already a teacher at this school again.")
            % {"name": known_full_name(membership=membership)},
        )
        return redirect(_teacher_url(membership))
    try:
        membership_restore(
            membership=membership, context=_context(request, school_unit), now=timezone.now()
        )
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("etjanster:teacher_removed", code=school_unit.code)
    messages.success(
        request,
        _("%(name)s is a teacher at this school again, with the same subjects.")
        % {"name": known_full_name(membership=membership)},
    )
    return redirect(_teacher_url(membership))


# --- CSV import -------------------------------------------------------------------------


@etjanster_required
@require_http_methods(["GET", "POST"])
def teacher_import(request: HttpRequest, code: str) -> HttpResponse:
    """Step 1 (GET) the form, step 2 (POST a file) the preview, bound to that
    upload by a token; step 3 is `teacher_import_apply`."""
    day = today()
    school_unit = _school_unit(request, code, day)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    plan = None
    token = ""
    context = _context(request, school_unit)
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                # SECURITY: refuse a large file by its size before reading it.
                if upload.size > MAX_BYTES:
                    raise ImportFileError(
                        _("The file is too large (at most %(kb)d kB).") % {"kb": MAX_BYTES // 1024}
                    )
                text = decode_upload(upload.read())
                plan = plan_import(
                    school_unit=school_unit, text=text, mode=form.cleaned_data["mode"]
                )
            except ImportFileError as error:
                form.add_error("file", str(error))
            else:
                token = csv_import_preview(
                    school_unit=school_unit,
                    context=context,
                    text=text,
                    plan=plan,
                    mode=plan.mode,
                )
        if plan is None:
            # A failed upload leaves no earlier preview to apply by mistake.
            csv_import_discard(context=context)
    return render(
        request,
        "schools/teacher_import.html",
        {
            "school_unit": school_unit,
            "form": form,
            "plan": plan,
            "summary": plan.summary() if plan else None,
            "token": token,
            "outcomes": Outcome,
            "modes": SubjectMode,
        },
        status=400 if request.method == "POST" and plan is None else 200,
    )


@etjanster_required
@require_POST
def teacher_import_apply(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = _school_unit(request, code, day)
    form = ImportApplyForm(request.POST)
    context = _context(request, school_unit)
    try:
        result = csv_import_apply(
            school_unit=school_unit,
            context=context,
            token=form.data.get("token", "") if form.is_valid() else "",
            today=day,
        )
    except (Refused, ImportFileError) as refusal:
        messages.error(request, str(refusal))
        return redirect("etjanster:teacher_import", code=school_unit.code)
    # The slips (with passwords) and the report wait sealed under a key that
    # only this page holds; the page itself stays small however many rows.
    return no_store(
        render(
            request,
            "schools/teacher_import_done.html",
            {
                "school_unit": school_unit,
                "summary": result.summary,
                "new_count": result.summary[Outcome.NEW],
                "pickup": result.pickup_id,
                "key": result.pickup_key,
            },
        )
    )


@etjanster_required
@require_POST
def teacher_import_download(request: HttpRequest, code: str) -> HttpResponse:
    """The slips PDF or the report CSV of an applied import, within the hour."""
    school_unit = _school_unit(request, code, today())
    form = ImportPickupForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(Refused(RefusalCode.IMPORT_PICKUP_GONE)))
        return redirect("etjanster:teacher_import", code=school_unit.code)
    try:
        content = csv_import_pickup_open(
            school_unit=school_unit,
            context=_context(request, school_unit),
            pickup_id=form.cleaned_data["pickup"],
            key=form.cleaned_data["key"],
            what=form.cleaned_data["what"],
        )
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("etjanster:teacher_import", code=school_unit.code)
    data = json.loads(content)
    if form.cleaned_data["what"] == "report":
        # UTF-8 with BOM so that Excel opens the Swedish letters right.
        response = HttpResponse(
            "\ufeff".encode() + data["report"].encode(), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="import-{school_unit.code}.csv"'
        return no_store(response)
    slips = [
        Slip(**{**slip, "valid_until": datetime.date.fromisoformat(slip["valid_until"])})
        for slip in data["slips"]
    ]
    return pdf_response(render_slips(slips), f"lappar-{school_unit.code}.pdf")


# --- The new school year ----------------------------------------------------------------


@etjanster_required
@require_http_methods(["GET", "POST"])
def new_school_year(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = _school_unit(request, code, day)
    may_remove = policy.can_remove_membership(user=request.user, school_unit=school_unit)
    last_year = (
        policy.school_memberships(school_unit=school_unit)
        .reactivatable(day)
        .select_related("user", "school_unit")
        .order_by("user__last_name", "user__first_name")
    )
    form = SchoolYearRenewForm(request.POST or None, memberships=last_year)
    if request.method == "POST":
        if not form.is_valid():
            return _new_school_year_page(request, school_unit, form, may_remove, day, status=400)
        remove_rest = may_remove and form.cleaned_data["remove_unkept"]
        kept_ids = {membership.pk for membership in form.cleaned_data["keep"]}
        removing = [m for m in form.offered.values() if m.pk not in kept_ids]
        if remove_rest and removing:
            # Removal in bulk: a confirmation naming everyone, and the card again
            # when the session's last proof is stale.
            step = _confirmation(request, school_unit, grave=True, done_url=request.path)
            if isinstance(step, HttpResponse):
                return step
            if step is not None:
                return _school_year_confirm_page(request, school_unit, step, kept_ids, removing)
        try:
            with spent_once(request):
                renewal = school_year_renew(
                    school_unit=school_unit,
                    keep=form.cleaned_data["keep"],
                    remove_rest=remove_rest,
                    context=_context(request, school_unit),
                    today=day,
                )
        except Repeated:
            return said_repeated(request, request.path, credentials=False)
        slips = [_slip_for(membership, None) for membership in renewal.kept]
        return render(
            request,
            "schools/new_school_year_done.html",
            {
                "school_unit": school_unit,
                "kept": renewal.kept,
                "removed": renewal.removed,
                "slips_url": data_url(render_slips(slips)) if slips else None,
            },
        )
    return _new_school_year_page(request, school_unit, form, may_remove, day)


def _school_year_confirm_page(request, school_unit, step, kept_ids, removing) -> HttpResponse:
    # The service's own rule: only a confirmed membership elsewhere keeps the account.
    staying = Membership.objects.accounts_kept_besides(removing)
    deleted = sum(1 for m in removing if m.user_id not in staying)
    kept = len(removing) - deleted
    if deleted:
        consequence = ngettext(
            "%(deleted)d of them has no other school: the account and its personal data are "
            "deleted and cannot be restored.",
            "%(deleted)d of them have no other school: their accounts and personal data are "
            "deleted and cannot be restored.",
            deleted,
        ) % {"deleted": deleted}
        if kept:
            consequence += " " + ngettext(
                "The other one can be restored within 30 days.",
                "The other %(kept)d can be restored within 30 days.",
                kept,
            ) % {"kept": kept}
    else:
        consequence = _(
            "Each of them keeps the account for another school and can be restored here "
            "within 30 days."
        )
    people = [
        (
            known_full_name(membership=m),
            m.user.username,
            _("Removed from this school; the account stays for other schools")
            if m.user_id in staying
            else _("The account is deleted (last school)"),
        )
        for m in removing
    ]
    return _confirm_page(
        request,
        school_unit,
        step,
        title=_("Remove %(count)d teachers from %(school)s?")
        % {"count": len(removing), "school": school_unit.name},
        facts=[
            (_("School unit"), str(school_unit)),
            (_("Reactivated"), str(len(kept_ids))),
            (_("Removed"), str(len(removing))),
        ],
        consequences=[consequence],
        button=_("Reactivate the kept and remove the others"),
        cancel_url=reverse("etjanster:new_school_year", args=[school_unit.code]),
        hidden=[("keep", pk) for pk in sorted(kept_ids)] + [("remove_unkept", "yes")],
        people=people,
        people_caption=_("Teachers who will be removed"),
    )


def _new_school_year_page(request, school_unit, form, may_remove, day, status=200):
    return render(
        request,
        "schools/new_school_year.html",
        {
            "school_unit": school_unit,
            "form": form,
            "memberships": list(form.offered.values()),
            "may_remove": may_remove,
            "school_year": school_year_label(day),
        },
        status=status,
    )


# --- Test administrators ----------------------------------------------------------------


@etjanster_required
@require_http_methods(["GET", "POST"])
def test_admin_list(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = _school_unit(request, code, day)
    _require(
        policy.can_manage_test_admins(user=request.user, school_unit=school_unit),
        RefusalCode.PRINCIPAL_ONLY_TEST_ADMINS,
    )
    form = TestAdminIssueForm(
        request.POST or None,
        initial=resumed_initial(
            request, names={"first_name": False, "last_name": False, "email": False}
        ),
    )
    if request.method == "POST" and form.is_valid():
        try:
            issued = test_admin_issue(
                school_unit=school_unit,
                context=_context(request, school_unit),
                today=day,
                **form.cleaned_data,
            )
        except Refused as refusal:
            form.add_error("email", str(refusal))
        else:
            return _test_admin_credentials(
                request, school_unit, issued.appointment, issued.password, issued.card
            )
    appointments = policy.test_admins_with_locked_card(
        appointments=policy.school_test_admins(school_unit=school_unit)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )
    rows = []
    for appointment in appointments:
        actions = [("losenord", _("New password")), ("kort", _("New card"))]
        if appointment.card_locked:
            actions.append(("las-upp", _("Unlock card")))
        if policy.can_deactivate_test_admin(appointment=appointment):
            actions.append(("inaktivera", _("Deactivate")))
        if policy.can_reactivate_test_admin(appointment=appointment, today=day):
            actions.append(("ateraktivera", _("Reactivate")))
        rows.append(
            {
                "appointment": appointment,
                "state": policy.test_admin_state(appointment=appointment, today=day),
                "actions": actions,
            }
        )
    return render(
        request,
        "schools/test_admin_list.html",
        {"school_unit": school_unit, "rows": rows, "form": form},
    )


def _test_admin_credentials(request, school_unit, appointment, password, card) -> HttpResponse:
    """The one page that shows a test administrator's new password and/or card.

    SECURITY: the card and the password are two factors and travel apart:
    the card's PDF never carries the password, which has its own slip.
    """
    return no_store(
        render(
            request,
            "schools/test_admin_credentials.html",
            {
                "school_unit": school_unit,
                "appointment": appointment,
                "password": password,
                "card": card,
                "card_url": data_url(render_card_pdf(user=appointment.user, card=card))
                if card is not None
                else None,
                # The card on screen too, as a table: the PDF is not tagged.
                "card_rows": card_rows(card.cells) if card is not None else None,
                "card_columns": CARD_COLUMNS,
                "slip_url": data_url(_test_admin_password_slip(appointment, password))
                if password
                else None,
            },
        )
    )


def _test_admin_password_slip(appointment, password) -> bytes:
    return render_slips(
        [
            Slip(
                name=appointment.user.get_full_name(),
                username=appointment.user.username,
                school_name=str(appointment.school_unit),
                valid_until=appointment.valid_until,
                password=password,
                login_path=ETJANSTER_LOGIN_PATH,
            )
        ]
    )


# Acts on a test administrator that show a confirmation first (GET or a POST
# without `confirm`), and whether they ask a stale session for the card again.
CONFIRMED_TEST_ADMIN_ACTIONS = {"losenord": True, "kort": True, "inaktivera": False}


@etjanster_required
@require_http_methods(["GET", "POST"])
def test_admin_action(request: HttpRequest, code: str, username: str, action: str) -> HttpResponse:
    day = today()
    school_unit = _school_unit(request, code, day)
    _require(
        policy.can_manage_test_admins(user=request.user, school_unit=school_unit),
        RefusalCode.PRINCIPAL_ONLY_TEST_ADMINS,
    )
    appointment = _test_admin(school_unit, username)
    user = appointment.user
    test_admins = reverse("etjanster:test_admin_list", args=[school_unit.code])
    credentials = action in {"losenord", "kort"}
    if action in CONFIRMED_TEST_ADMIN_ACTIONS:
        step = _confirmation(
            request,
            school_unit,
            grave=CONFIRMED_TEST_ADMIN_ACTIONS[action],
            done_url=test_admins,
            credentials=credentials,
        )
        if isinstance(step, HttpResponse):
            return step
        if step is not None:
            return _test_admin_confirm_page(request, school_unit, appointment, action, step)
    elif request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    from accounts.services.cards import (
        card_issue,
        card_unlock,
    )
    from accounts.services.passwords import password_regenerate

    context = _context(request, school_unit)
    password = card = None
    done = ""
    try:
        # What was done is said only after the transaction: a repeated
        # confirmation rolls the act back (`accounts.once`).
        with spent_once(request):
            if action == "losenord":
                password = password_regenerate(user=user, context=context)
            elif action == "kort":
                card = card_issue(user=user, context=context)
            elif action == "las-upp":
                card_unlock(user=user, context=context)
                done = _("The card was unlocked.")
            elif action == "inaktivera":
                test_admin_deactivate(appointment=appointment, context=context)
                done = _("The test administrator was deactivated.")
            elif action == "ateraktivera":
                test_admin_reactivate(appointment=appointment, context=context, today=day)
                done = _("The test administrator was reactivated for this school year.")
            else:
                raise Http404
    except Refused as refusal:
        messages.error(request, str(refusal))
    except Repeated:
        return said_repeated(request, test_admins, credentials=credentials)
    else:
        if credentials:
            return _test_admin_credentials(request, school_unit, appointment, password, card)
        messages.success(request, done)
    return redirect(test_admins)


def _test_admin_confirm_page(request, school_unit, appointment, action, step) -> HttpResponse:
    name = appointment.user.get_full_name()
    texts = {
        "losenord": (
            _("Give %(name)s a new password?"),
            _(
                "The current password stops working at once and the test administrator is "
                "logged out. The new password is shown once, on the next page."
            ),
            _("Give a new password"),
        ),
        "kort": (
            _("Give %(name)s a new matrix card?"),
            _(
                "The current card stops working at once and the test administrator is logged "
                "out. The new card is shown once, on the next page, to print."
            ),
            _("Issue a new card"),
        ),
        "inaktivera": (
            _("Deactivate %(name)s?"),
            _(
                "The test administrator can no longer log in and is logged out at once. You can "
                "reactivate the account later; it is never deleted."
            ),
            _("Deactivate"),
        ),
    }
    title, consequence, button = texts[action]
    return _confirm_page(
        request,
        school_unit,
        step,
        title=title % {"name": name},
        facts=[
            (_("Test administrator"), f"{name} ({appointment.user.username})"),
            (_("School unit"), str(school_unit)),
        ],
        consequences=[consequence],
        button=button,
        cancel_url=reverse("etjanster:test_admin_list", args=[school_unit.code]),
        danger=action != "kort",
    )


# --- The audit log ----------------------------------------------------------------------


def _school_events(request: HttpRequest, school_unit: SchoolUnit):
    """The school's events, filtered by the `action` parameter when it is a known one."""
    events = (
        policy.school_events(school_unit=school_unit)
        .select_related("school_unit")
        .order_by("-created_at", "-id")
    )
    action = request.GET.get("action", "")
    if action in AuditAction.values:
        return events.filter(action=action), action
    return events, ""


@etjanster_required
@require_GET
def audit_log(request: HttpRequest, code: str) -> HttpResponse:
    school_unit = _school_unit(request, code, today())
    events, action = _school_events(request, school_unit)
    page = Paginator(events, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "schools/audit_log.html",
        {
            "school_unit": school_unit,
            "page": page,
            # PERFORMANCE: readable rows (names, Swedish labels, details; one
            # query for the names) written out by etjanster.tables, and the
            # filter's options in Python, not template loops.
            "rows_html": log_rows_html(event_rows(page, school_unit=school_unit)),
            "action_select": PlainSelect(
                choices=[
                    ("", _("All")),
                    *sorted(
                        (
                            choice
                            for choice in AuditAction.choices
                            if choice[0] not in NEVER_AT_A_SCHOOL
                        ),
                        key=lambda choice: str(choice[1]),
                    ),
                ]
            ).render("action", action, {"id": "action"}),
            "action": action,
        },
    )


@etjanster_required
@require_POST
def audit_log_csv(request: HttpRequest, code: str) -> HttpResponse:
    """The filtered log as CSV, for a spreadsheet; the export itself is audited,
    so it is a POST (the filter stays in the query string, as the page shows it)."""
    school_unit = _school_unit(request, code, today())
    events, action = _school_events(request, school_unit)
    log_export_record(
        context=_context(request, school_unit),
        school_unit=school_unit,
        filters={"action": action} if action else {},
    )
    response = StreamingHttpResponse(
        events_csv(events, school_unit=school_unit), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="logg-{school_unit.code}.csv"'
    return no_store(response)
