"""The catalogue, an item's page and its file, each through the gate
(`permissions.policy.material_access`), with the refusal page when it says no."""

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from core.downloads import material_file_delivery
from core.i18n import localized_path
from core.storage import StorageUnavailable
from core.views import service_unavailable
from permissions import schoolyear
from permissions.policy import Access, can_use_portal, material_access, with_material_access
from portal import services
from portal.forms import CatalogueFilterForm
from portal.models import Material
from web.request import audit_context

CATALOGUE_PAGE_SIZE = 20


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    today = schoolyear.today()
    form = CatalogueFilterForm(request.GET)
    form.is_valid()  # an invalid filter is shown with its error and ignored
    materials = with_material_access(
        materials=filtered_materials(form.cleaned_data), user=request.user, today=today
    )
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


def filtered_materials(data: dict) -> QuerySet[Material]:
    """The catalogue's items matching its filter form's cleaned `data`, newest first."""
    materials = Material.objects.select_related("subject").order_by("-published_on", "title")
    if data.get("q"):
        materials = materials.filter(title__icontains=data["q"])
    if data.get("level"):
        materials = materials.filter(level=data["level"])
    if data.get("subject"):
        materials = materials.filter(subject=data["subject"])
    if data.get("kind"):
        materials = materials.filter(kind=data["kind"])
    return materials


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
