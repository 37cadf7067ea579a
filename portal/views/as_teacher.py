"""The catalogue as one teacher sees it, for that teacher's principal or
test administrator: read-only, through the gate's own functions with the
teacher's account as the user, never a session of the teacher.

PRIVACY: only what opens through the viewer's school
(`permissions.policy.material`, "The catalogue as one teacher sees it").
"""

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from core.refusals import RefusalCode
from permissions import policy
from permissions.schoolyear import today
from portal import services
from portal.forms import CatalogueFilterForm
from portal.views.catalogue import filtered_materials
from web.decorators import etjanster_required
from web.request import audit_context
from web.responses import no_store

PAGE_SIZE = 20

# Why an item does not open through this school, as its principal reads it.
THROUGH_SCHOOL = {
    RefusalCode.NO_VALID_MEMBERSHIP: _(
        "The membership at this school is not valid this school year: reactivate it."
    ),
    RefusalCode.SCHOOL_FORM: _("This school's school forms do not reach the material's level."),
    RefusalCode.SUBJECT: _("This school has not granted the teacher the subject."),
}


@etjanster_required
@require_GET
def catalogue_as_teacher(request: HttpRequest, code: str, username: str) -> HttpResponse:
    day = today()
    school_unit = get_object_or_404(
        policy.etjanster_school_units(user=request.user, today=day), code=code
    )
    membership = get_object_or_404(
        policy.school_memberships(school_unit=school_unit).select_related("user", "school_unit"),
        user__username=username,
    )
    if not policy.can_view_catalogue_as_teacher(
        user=request.user, membership=membership, today=day
    ):
        raise Http404
    form = CatalogueFilterForm(request.GET)
    form.is_valid()  # an invalid filter is shown with its error and ignored
    materials = filtered_materials(form.cleaned_data)
    materials = policy.with_material_access(
        materials=materials, user=membership.user, today=day, through=membership
    )
    page = Paginator(materials, PAGE_SIZE).get_page(request.GET.get("sida"))
    gate = policy.membership_gate(membership=membership, today=day)
    items = [
        (material, THROUGH_SCHOOL.get(policy.refusal_through(gate=gate, material=material)))
        for material in page.object_list
    ]
    if "sida" not in request.GET:
        services.catalogue_as_teacher_record(
            membership=membership, context=audit_context(request, school_unit=school_unit)
        )
    return no_store(
        render(
            request,
            "portal/catalogue_as_teacher.html",
            {
                "school_unit": school_unit,
                "membership": membership,
                "teacher": membership.user,
                "name": policy.known_full_name(membership=membership),
                "form": form,
                "page": page,
                "items": items,
                "other_schools": membership.other_schools_count(),
            },
        )
    )
