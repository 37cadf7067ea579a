"""/huvudman/ss12000/: the huvudman's SS 12000 source: where its school
administration system answers and with which credentials (stored sealed,
never shown again), "Testa anslutningen", "Synka nu", and how the last sync
went ("senast lyckad …, fel: …")."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from backoffice.huvudman.site import Page, huvudman_site
from permissions import policy
from provisioning.client import SourceError
from provisioning.models import Source
from provisioning.sources import (
    client_for,
    connection_check,
    source_save,
    source_sync_request,
)
from web.request import audit_context


class SourceForm(forms.Form):
    base_url = forms.URLField(
        label=_("Address of the SS 12000 API"), max_length=500, assume_scheme="https"
    )
    token = forms.CharField(
        label=_("Bearer token"),
        required=False,
        widget=forms.PasswordInput,
        help_text=_("Leave empty to keep the saved one."),
    )
    client_id = forms.CharField(label=_("Client id (OAuth 2)"), required=False, max_length=200)
    client_secret = forms.CharField(
        label=_("Client secret (OAuth 2)"), required=False, widget=forms.PasswordInput
    )
    token_url = forms.URLField(
        label=_("Token address (OAuth 2)"), required=False, max_length=500, assume_scheme="https"
    )


def _seen_message(seen) -> str:
    return gettext(
        "The source answered: %(matching)d of your %(ours)d school units found by "
        "skolenhetskod, %(duties)d teaching duties there."
    ) % {"matching": seen.matching_units, "ours": seen.our_units, "duties": seen.teacher_duties}


@require_http_methods(["GET", "POST"])
def ss12000_source(request: HttpRequest) -> HttpResponse:
    huvudman = policy.huvudman_of_staff(user=request.user)
    if huvudman is None:
        raise Http404
    source = Source.objects.filter(huvudman=huvudman).first()
    initial = {"base_url": source.base_url, "client_id": source.client_id} if source else {}
    if source:
        initial["token_url"] = source.token_url
    form = SourceForm(request.POST if "save" in request.POST else None, initial=initial)
    if request.method == "POST":
        action = _act(request, huvudman=huvudman, source=source, form=form)
        if action is not None:
            return action
    return TemplateResponse(
        request,
        "huvudman/ss12000_source.html",
        {
            **huvudman_site.each_context(request),
            "title": gettext("School administration system (SS 12000)"),
            "source": source,
            "form": form,
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


def _act(request: HttpRequest, *, huvudman, source, form) -> HttpResponse | None:
    """Save, test or sync; a response, or None to show the form again."""
    context = audit_context(request)
    try:
        if "save" in request.POST:
            if not form.is_valid():
                return None
            _source, seen = source_save(huvudman=huvudman, context=context, **form.cleaned_data)
            messages.success(request, gettext("Saved.") + " " + _seen_message(seen))
        elif source is None:
            raise Http404
        elif "test" in request.POST:
            seen = connection_check(client=client_for(source), huvudman=huvudman)
            messages.info(request, _seen_message(seen))
        elif "sync" in request.POST:
            source_sync_request(source=source, context=context)
            messages.success(
                request, gettext("The sync starts within a few minutes; reload to see how it went.")
            )
    except SourceError as error:
        messages.error(request, error.message)
        return None if "save" in request.POST else redirect("huvudman:ss12000_source")
    return redirect("huvudman:ss12000_source")


huvudman_site.page_register(
    Page(
        route="ss12000/",
        view=ss12000_source,
        name="ss12000_source",
        title=_("School administration system"),
    )
)
