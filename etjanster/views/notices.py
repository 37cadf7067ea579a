"""The person's own notices by mail, switched on their account page."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications.preferences import notification_settings_save
from web.decorators import etjanster_required
from web.request import audit_context


@etjanster_required
@require_POST
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Save the optional notices ticked on "My account" (audited when changed)."""
    changed = notification_settings_save(
        user=request.user,
        enabled=set(request.POST.getlist("notify")),
        context=audit_context(request),
    )
    if changed:
        messages.success(request, _("Your notification settings have been saved."))
    else:
        messages.info(request, _("Your notification settings were already so."))
    return redirect(reverse("etjanster:account") + "#notifications")
