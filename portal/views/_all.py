"""Bedömningsportalen (catalogue, item pages, the gate, the teacher's account)
and the public support pages."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, update_session_auth_hash
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.doors import Door
from accounts.models import User
from core.i18n import localized_path
from core.network import client_address
from core.ratelimit import rate_limit_hit
from core.refusals import RefusalCode, Refused
from core.storage import StorageUnavailable, material_file_open
from core.views import personal_data_download, service_unavailable
from permissions import schoolyear
from permissions.data_export import teacher_data_export
from permissions.models import (
    LevelPolicy,
    MaterialLevel,
    Membership,
    Subject,
)
from permissions.policy import Access, can_use_portal, material_access, with_material_access
from permissions.services.confirmations import CodeOutcome, email_code_redeem
from portal import services
from portal.forms import CatalogueFilterForm, ContactForm, EmailCodeForm, HuvudmanLookupForm
from portal.models import (
    Material,
    TicketCategory,
)
from schools.models import SchoolForm, SchoolFormCode
from web.decorators import teacher_required
from web.forms import OwnPasswordChangeForm, with_retry_time
from web.login import own_password_change_view
from web.request import audit_context

CATALOGUE_PAGE_SIZE = 20
CONTACT_LIMIT_PER_ADDRESS = 5
LOOKUP_LIMIT_PER_ADDRESS = 5
LOOKUP_LIMIT_PER_EMAIL = 3


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


# --- The catalogue and the gate ----------------------------------------------


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    today = schoolyear.today()
    form = CatalogueFilterForm(request.GET)
    form.is_valid()  # an invalid filter is shown with its error and ignored
    data = form.cleaned_data
    materials = Material.objects.select_related("subject").order_by("-published_on", "title")
    if data.get("q"):
        materials = materials.filter(title__icontains=data["q"])
    if data.get("level"):
        materials = materials.filter(level=data["level"])
    if data.get("subject"):
        materials = materials.filter(subject=data["subject"])
    if data.get("kind"):
        materials = materials.filter(kind=data["kind"])
    materials = with_material_access(materials=materials, user=request.user, today=today)
    page = Paginator(materials, CATALOGUE_PAGE_SIZE).get_page(request.GET.get("sida"))
    return render(
        request,
        "portal/catalogue.html",
        {
            "form": form,
            "page": page,
            "is_teacher": can_use_portal(user=request.user),
        },
    )


def _material_or_404(slug: str) -> Material:
    return get_object_or_404(Material.objects.select_related("subject"), slug=slug)


def _refusal(
    request: HttpRequest, *, material: Material, access: Access, what: str
) -> HttpResponse:
    """The 403 page: which condition failed and whom to contact. Never the bytes."""
    if request.user.is_authenticated:
        services.material_refusal_record(
            material=material, access=access, context=audit_context(request), what=what
        )
    detail_url = reverse("portal:material", args=[material.slug])
    login_path = localized_path(settings.PORTAL_LOGIN_URL)
    login_url = f"{login_path}?{urlencode({REDIRECT_FIELD_NAME: detail_url})}"
    response = render(
        request,
        "portal/refused.html",
        {
            "material": material,
            "access": access,
            "login_url": login_url,
            "other_role": request.user.is_authenticated and not can_use_portal(user=request.user),
        },
        status=403,
    )
    # The page names the teacher's schools and principals: keep it out of caches.
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
def material_detail(request: HttpRequest, slug: str) -> HttpResponse:
    material = _material_or_404(slug)
    access = material_access(user=request.user, material=material, today=schoolyear.today())
    if not access.allowed:
        return _refusal(request, material=material, access=access, what="page")
    return render(request, "portal/material.html", {"material": material, "access": access})


@require_GET
def material_file(request: HttpRequest, slug: str) -> HttpResponse:
    material = _material_or_404(slug)
    access = material_access(user=request.user, material=material, today=schoolyear.today())
    if not access.allowed:
        return _refusal(request, material=material, access=access, what="file")
    try:
        handle = material_file_open(file=material.file)
    except (FileNotFoundError, ValueError) as missing:
        # A row whose file is gone is a broken item, not a server error.
        raise Http404 from missing
    except StorageUnavailable:
        # Nothing was sent and nothing audited: the teacher may simply retry.
        return service_unavailable("errors/storage.html", request)
    if material.is_protected:
        services.material_download_record(
            material=material, access=access, context=audit_context(request)
        )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=material.download_name,
        content_type="application/pdf",
    )
    # SECURITY: a protected file must not stay in a shared cache or in the
    # browser cache of a shared staff-room computer. Open files are private
    # too: a logged-in user's response may carry the session cookie (the
    # idle timeout's once-a-minute save), which a shared cache must never replay.
    response["Cache-Control"] = (
        "private, no-store" if material.is_protected else "private, max-age=3600"
    )
    return response


# --- The teacher's account ---------------------------------------------------


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
    memberships = (
        Membership.objects.live()
        .filter(user=user)
        .select_related("school_unit__huvudman")
        .prefetch_related(Prefetch("subjects", queryset=Subject.objects.order_by("name")))
        .order_by("school_unit__name")
    )
    rows = [
        {"membership": m, "active": m.is_valid_on(today), "subjects": list(m.subjects.all())}
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
    return render(
        request,
        "portal/account.html",
        {
            "rows": rows,
            "pending": pending,
            "password_form": password_form,
            "school_year": schoolyear.school_year_label(today),
            "any_active": any(row["active"] for row in rows),
        },
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
            message = refusal.message
            retry_at = refusal.params.get("retry_at")
            if refusal.code == RefusalCode.CODE_WRONG and retry_at is not None:
                message = with_retry_time(message, retry_at)
            form.add_error(None, message)
        except ValidationError as error:
            form.add_error("new_password2", error)
        else:
            if request.user.is_authenticated and request.user.pk == result.user.pk:
                # Confirmed from the portal while logged in: this session stays.
                update_session_auth_hash(request, result.user)
            messages.success(request, _code_done_message(result))
            if can_use_portal(user=request.user):
                return redirect("portal:account")
            return redirect(settings.PORTAL_LOGIN_URL)
    return render(request, "portal/email_code.html", {"form": form}, status=status)


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
    """The teacher's own data as JSON (README "Privacy"). A POST: it writes
    an audit event, and no link prefetcher may trigger it."""
    user: User = request.user
    data = teacher_data_export(teacher=user, context=audit_context(request))
    return personal_data_download(data, f"mina-uppgifter-{user.username}.json")


# --- Public support pages ----------------------------------------------------


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    # The form-to-level answers are read from the policy table, so help never
    # contradicts the gate after a national admin changes the rule.
    reached: dict[str, list[str]] = {}
    for rule in LevelPolicy.objects.order_by("level"):
        reached.setdefault(rule.school_form_id, []).append(rule.level)
    forms = [
        {"form": form, "levels": reached.get(form.code, [])}
        for form in sorted(
            SchoolForm.objects.all(), key=lambda f: SchoolFormCode.values.index(f.code)
        )
    ]
    by_code = {row["form"].code: row for row in forms}
    adult_and_intro = [
        {
            "form": by_code[code]["form"],
            "reaches_grundskola": MaterialLevel.GRUNDSKOLA in by_code[code]["levels"],
        }
        for code in (SchoolFormCode.KOMMUNAL_VUXENUTBILDNING, SchoolFormCode.INTRODUKTIONSPROGRAM)
        if code in by_code
    ]
    return render(request, "portal/help.html", {"forms": forms, "adult_and_intro": adult_and_intro})


# The date the accessibility statement was last reviewed (DIGG's model asks for it).
ACCESSIBILITY_REVIEWED = datetime.date(2026, 11, 30)


@require_GET
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    """Tillgänglighetsredogörelse, after DIGG's model (lagen om tillgänglighet
    till digital offentlig service, 2018:1937)."""
    return render(request, "portal/accessibility.html", {"reviewed_on": ACCESSIBILITY_REVIEWED})


def _address_key(request: HttpRequest) -> str:
    return f"addr:{client_address(request) or 'unknown'}"


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    # ?kategori=tillganglighet (the accessibility statement's link) picks the category.
    initial = {}
    if request.GET.get("kategori") == "tillganglighet":
        initial["category"] = TicketCategory.ACCESSIBILITY
    form = ContactForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        if not rate_limit_hit(
            scope="contact", keys={_address_key(request): CONTACT_LIMIT_PER_ADDRESS}
        ):
            form.add_error(
                None,
                _(
                    "Too many messages have been sent from your network in the last hour. "
                    "Please try again later."
                ),
            )
            status = 429
        else:
            data = form.cleaned_data
            # SECURITY: a filled honeypot is a bot. Answer as if all went well,
            # store nothing and mail nothing, so it learns nothing.
            if not data["website"]:
                services.support_ticket_submit(
                    category=data["category"],
                    name=data["name"],
                    email=data["email"],
                    subject=data["subject"],
                    message=data["message"],
                    client_address=client_address(request),
                )
            messages.success(
                request, _("Thank you. Your message has been sent to support; we answer by e-mail.")
            )
            return redirect("support:contact")
    elif request.method == "POST":
        status = 400
    return render(request, "portal/contact.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def huvudman_lookup(request: HttpRequest) -> HttpResponse:
    form = HuvudmanLookupForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        keys = {
            _address_key(request): LOOKUP_LIMIT_PER_ADDRESS,
            # Nor may anyone flood one principal's mailbox from many addresses.
            f"email:{data['email'].lower()}": LOOKUP_LIMIT_PER_EMAIL,
        }
        if not rate_limit_hit(scope="huvudman_lookup", keys=keys):
            form.add_error(
                None,
                _("Too many look-ups have been made in the last hour. Please try again later."),
            )
            status = 429
        else:
            services.huvudman_contact_send(skolenhetskod=data["skolenhetskod"], email=data["email"])
            # SECURITY: the same answer whether or not the pair matched, so the
            # page cannot be used to learn who is principal where.
            messages.success(
                request,
                _(
                    "If the e-mail address belongs to a principal of that school unit, we have "
                    "now sent the huvudman's contact details to it. Check your inbox in a few "
                    "minutes."
                ),
            )
            return redirect("support:huvudman_lookup")
    elif request.method == "POST":
        status = 400
    return render(request, "portal/huvudman_lookup.html", {"form": form}, status=status)
