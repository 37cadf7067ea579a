"""The catalogue, an item's page and its file, each through the gate
(`permissions.policy.material_access`), with the refusal page when it says no."""

import datetime
import functools
import html

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Role, User
from core.downloads import material_file_delivery
from core.i18n import localized_path
from core.prepared import Prepared, PreparedList, model_columns, model_from_row
from core.storage import StorageUnavailable
from core.views import service_unavailable
from permissions import schoolyear
from permissions.models import MaterialLevel, Subject
from permissions.policy import Access, can_use_portal, material_access, with_material_access
from portal import services
from portal.forms import CatalogueFilterForm
from portal.models import Material, MaterialKind
from web.request import audit_context

CATALOGUE_PAGE_SIZE = 20


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    today = schoolyear.today()
    form = CatalogueFilterForm(request.GET)
    form.is_valid()  # an invalid filter is shown with its error and ignored
    is_teacher = can_use_portal(user=request.user)
    items = catalogue_items(data=form.cleaned_data, user=request.user, today=today)
    page = Paginator(items, CATALOGUE_PAGE_SIZE).get_page(request.GET.get("sida"))
    context = {
        "form": form,
        "page": page,
        "is_teacher": is_teacher,
        "items_html": items_html(page.object_list, is_teacher=is_teacher),
    }
    return render(request, "portal/catalogue.html", context)


ITEM = (
    '\n  <li class="material-item">\n    <h2><a href="{}" lang="sv">{}</a></h2>\n'
    '    <p class="muted"><span lang="sv">{}</span> · {} · {} · {} {}</p>\n'
    "    <p>\n      {}\n      {}\n    </p>\n  </li>\n  "
)


def items_html(items: list[dict], *, is_teacher: bool) -> SafeString:
    """The catalogue's items, as its template wrote them (a `{% for %}` of
    url, translate, date and if tags per item), in Python: ITEM's markup per
    item, every value escaped; the labels translated, the link reversed and
    each distinct date written once per page."""
    escape = html.escape
    levels = {value: escape(str(label)) for value, label in MaterialLevel.choices}
    kinds = {value: escape(str(label)) for value, label in MaterialKind.choices}
    # Each msgid outside the f-strings below, so that makemessages finds it.
    published, protected, open_label = _("published"), _("Protected"), _("Open")
    opens_label, closed_label = _("Opens for you"), _("Does not open for you")
    published = escape(published)
    protected = f'<span class="tag tag-warn">{escape(protected)}</span>'
    open_tag = f'<span class="tag tag-ok">{escape(open_label)}</span>'
    opens = f'\n        <span class="tag tag-ok">{escape(opens_label)}</span>\n      '
    closed = f'\n        <span class="tag tag-error">{escape(closed_label)}</span>\n      '
    # The link differs only by the slug (letters, digits, - and _: nothing
    # to quote): reverse it once.
    placeholder = "-slug-"
    link = escape(reverse("portal:material", args=[placeholder]))
    dates: dict[datetime.date, str] = {}
    parts = []
    for item in items:
        day = item["published_on"]
        if day not in dates:
            dates[day] = escape(formats.date_format(day))
        opening = ""
        if is_teacher and item["is_protected"]:
            opening = opens if item["opens"] else closed
        parts.append(
            ITEM.format(
                link.replace(placeholder, escape(item["slug"])),
                escape(item["title"]),
                escape(item["subject__name"]),
                levels[item["level"]],
                kinds[item["kind"]],
                published,
                dates[day],
                protected if item["is_protected"] else open_tag,
                opening,
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


# What the catalogue shows of each item.
CATALOGUE_COLUMNS = (
    "slug",
    "title",
    "subject__name",
    "level",
    "kind",
    "published_on",
    "is_protected",
    "opens",
)
# The filters whose statements are prepared; a title search runs through the ORM.
PREPARED_FILTERS = {"level": str, "subject": int, "kind": str}


def catalogue_items(*, data: dict, user, today: datetime.date):
    """The catalogue's items matching the filter form's cleaned `data`, with
    `opens` from the gate, as `.values(*CATALOGUE_COLUMNS)` rows for Django's
    paginator: a count and a page, each one statement.

    PERFORMANCE: without a title search the two statements are prepared
    (core.prepared): building the gate's EXISTS and compiling it was most of
    the page's CPU. The same querysets, the same SQL.
    """
    values = {name: data.get(name) for name in ("q", *PREPARED_FILTERS)}
    used = {name: value for name, value in values.items() if value}
    if "q" in used:
        materials = materials_matching(**used)
        return with_material_access(materials=materials, user=user, today=today).values(
            *CATALOGUE_COLUMNS
        )
    is_teacher = can_use_portal(user=user)
    rows, counted = _catalogue_statements(is_teacher, tuple(sorted(used)))
    arguments = {
        name: used.get(name, "" if kind is str else 0) for name, kind in PREPARED_FILTERS.items()
    }
    return PreparedList(
        rows=rows,
        counted=counted,
        arguments={**arguments, "user_id": user.pk if is_teacher else 0, "day": today},
        counted_arguments=arguments,
    )


@functools.cache
def _catalogue_statements(is_teacher: bool, filters: tuple[str, ...]) -> tuple[Prepared, Prepared]:
    """The rows and the count for a teacher or anyone else, with these filters
    set (each combination is its own statement)."""

    def materials(**values) -> QuerySet[Material]:
        return materials_matching(**{name: values[name] for name in filters})

    def rows(*, user_id: int, day: datetime.date, **values) -> QuerySet:
        user = (
            User(pk=user_id, role=Role.TEACHER, is_active=True) if is_teacher else AnonymousUser()
        )
        return with_material_access(materials=materials(**values), user=user, today=day).values(
            *CATALOGUE_COLUMNS
        )

    def counted(**values) -> QuerySet:
        return materials(**values).order_by().values("pk")

    return (
        Prepared(rows, user_id=int, day=datetime.date, **PREPARED_FILTERS),
        Prepared(counted, **PREPARED_FILTERS),
    )


def filtered_materials(data: dict) -> QuerySet[Material]:
    """The catalogue's items matching its filter form's cleaned `data`, newest first."""
    return materials_matching(
        **{name: data[name] for name in ("q", "level", "subject", "kind") if data.get(name)}
    )


def materials_matching(*, q=None, level=None, subject=None, kind=None) -> QuerySet[Material]:
    """The items matching each filter given (not None), newest first."""
    materials = Material.objects.select_related("subject").order_by("-published_on", "title")
    if q is not None:
        materials = materials.filter(title__icontains=q)
    if level is not None:
        materials = materials.filter(level=level)
    if subject is not None:
        materials = materials.filter(subject=subject)
    if kind is not None:
        materials = materials.filter(kind=kind)
    return materials


def _material_or_404(slug: str) -> Material:
    rows = _MATERIAL(slug=slug)
    if not rows:
        raise Http404
    material = model_from_row(Material, rows[0])
    material.subject = model_from_row(Subject, rows[0], "subject__")
    return material


# PERFORMANCE: an item and its subject by slug (an item's page and its file),
# compiled once (core.prepared): building the ORM's query was a quarter of
# the item's page.
_MATERIAL = Prepared(
    lambda slug: Material.objects.filter(slug=slug).values(
        *model_columns(Material), *model_columns(Subject, "subject__")
    ),
    slug=str,
)


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
        # Streamed by this worker, or handed to nginx (NGINX_SENDS_FILES).
        delivery = material_file_delivery(file=material.file)
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
    response = delivery.response(filename=material.download_name, content_type="application/pdf")
    # SECURITY: a protected file must not stay in a shared cache or in the
    # browser cache of a shared staff-room computer. Open files are private
    # too: a logged-in user's response may carry the session cookie (the
    # idle timeout's once-a-minute save), which a shared cache must never replay.
    response["Cache-Control"] = (
        "private, no-store" if material.is_protected else "private, max-age=3600"
    )
    return response
