"""/huvudman/aviseringar/: the staff member's own notices by mail (a
principal's card locked, a unit without a principal), the optional ones
switched here."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from backoffice.huvudman.site import Page, huvudman_site
from notifications.preferences import choices_for, notification_settings_save
from web.request import audit_context


@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        changed = notification_settings_save(
            user=user, enabled=set(request.POST.getlist("notify")), context=audit_context(request)
        )
        if changed:
            messages.success(request, gettext("Your notification settings have been saved."))
        else:
            messages.info(request, gettext("Your notification settings were already so."))
        return redirect("huvudman:notifications")
    return TemplateResponse(
        request,
        "huvudman/notifications.html",
        {
            **huvudman_site.each_context(request),
            "title": gettext("Notices by e-mail"),
            "choices": choices_for(user=user),
        },
    )


huvudman_site.page_register(
    Page(
        route="aviseringar/",
        view=notification_settings,
        name="notifications",
        title=_("Notices by e-mail"),
    )
)
