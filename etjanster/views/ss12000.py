""" "Från skolans system": the teachers the huvudman's SS 12000 source proposes
for a school, approved by its principal (all or some; removals ask for the
card again, as removing by hand does), and the school's "approve new
teachers automatically"."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from core.once import Repeated, said_repeated, spent_once
from core.refusals import Refused
from etjanster.views.shared import (
    confirm_page,
    confirmation_step,
    context_for,
    require,
    school_unit_or_404,
)
from permissions import policy
from permissions.schoolyear import today
from provisioning.apply import proposals_apply, school_auto_approve_set
from provisioning.models import ProposalKind
from provisioning.selectors import school_proposals
from schools.models import SchoolUnit
from web.decorators import etjanster_required
from web.responses import no_store


@etjanster_required
@require_http_methods(["GET", "POST"])
def ss12000_proposals(request: HttpRequest, code: str) -> HttpResponse:
    school_unit = school_unit_or_404(request, code, today())
    require(policy.can_approve_ss12000(user=request.user, school_unit=school_unit))
    done_url = reverse("etjanster:ss12000_proposals", args=[school_unit.code])
    read = school_proposals(school_unit=school_unit)
    if request.method == "POST" and "auto_approve" in request.POST:
        enabled = request.POST["auto_approve"] == "on"
        school_auto_approve_set(
            school_unit=school_unit, enabled=enabled, context=context_for(request, school_unit)
        )
        messages.success(
            request,
            _("New teachers from the school's system are now approved automatically.")
            if enabled
            else _("New teachers from the school's system now wait for your approval."),
        )
        return redirect(done_url)
    if request.method == "POST":
        return _approve(request, school_unit, read, done_url)
    return no_store(
        render(
            request,
            "etjanster/ss12000_proposals.html",
            {"school_unit": school_unit, "read": read, "kinds": ProposalKind},
        )
    )


def _approve(request: HttpRequest, school_unit: SchoolUnit, read, done_url: str) -> HttpResponse:
    wanted = set(request.POST.getlist("proposal"))
    chosen = [p for p in read.proposals if "all" in request.POST or str(p.pk) in wanted]
    if not chosen:
        messages.error(request, _("Tick at least one proposal first."))
        return redirect(done_url)
    removals = [p for p in chosen if p.kind == ProposalKind.REMOVAL]
    step = confirmation_step(request, school_unit, grave=bool(removals), done_url=done_url)
    if isinstance(step, HttpResponse):
        return step
    if step is not None:
        return confirm_page(
            request,
            school_unit,
            step,
            title=_("Approve the proposals of the school's system"),
            facts=[],
            consequences=_consequences(chosen, removals),
            button=_("Approve"),
            cancel_url=done_url,
            hidden=[("proposal", p.pk) for p in chosen],
            people=[(f"{p.first_name} {p.last_name}", "", p.get_kind_display()) for p in chosen],
            people_caption=_("Proposals to approve"),
            danger=bool(removals),
        )
    try:
        with spent_once(request):
            applied = proposals_apply(
                school_unit=school_unit,
                proposal_ids=[p.pk for p in chosen],
                context=context_for(request, school_unit),
                today=today(),
            )
    except Repeated:
        return said_repeated(request, done_url, credentials=False)
    except Refused as refusal:
        messages.error(request, refusal.message)
        return redirect(done_url)
    messages.success(
        request,
        ngettext("%(count)d change approved.", "%(count)d changes approved.", applied.total)
        % {"count": applied.total},
    )
    return redirect(done_url)


def _consequences(chosen: list, removals: list) -> list[str]:
    lines = [
        ngettext(
            "%(count)d change is made now, all of it or nothing.",
            "%(count)d changes are made now, all of them or none.",
            len(chosen),
        )
        % {"count": len(chosen)},
        _("New teachers get their login by e-mail, at the school address the system gives."),
    ]
    if removals:
        lines.append(
            ngettext(
                "%(count)d teacher is removed from the school.",
                "%(count)d teachers are removed from the school.",
                len(removals),
            )
            % {"count": len(removals)}
        )
    return lines
