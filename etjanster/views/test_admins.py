"""A school's test administrators: the list, issuing a new one, and the page
that shows new credentials once."""

import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.card_pdf import card_rows, render_card_pdf
from accounts.models import CARD_COLUMNS
from core.refusals import RefusalCode, Refused
from etjanster.forms import TestAdminIssueForm
from etjanster.views.shared import context_for, require, school_unit_or_404
from permissions import policy
from permissions.schoolyear import today
from permissions.services.appointments import test_admin_issue
from permissions.slips import ETJANSTER_LOGIN_PATH, Slip, render_slips
from schools.models import SchoolUnit
from web.decorators import etjanster_required
from web.responses import data_url, no_store
from web.resume import resumed_initial


@etjanster_required
@require_http_methods(["GET", "POST"])
def test_admin_list(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = school_unit_or_404(request, code, day)
    require(
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
                context=context_for(request, school_unit),
                today=day,
                **form.cleaned_data,
            )
        except Refused as refusal:
            form.add_error("email", str(refusal))
        else:
            return test_admin_credentials(
                request, school_unit, issued.appointment, issued.password, issued.card
            )
    return render(
        request,
        "etjanster/test_admin_list.html",
        {"school_unit": school_unit, "rows": _rows(school_unit, day), "form": form},
    )


def _rows(school_unit: SchoolUnit, day: datetime.date) -> list[dict]:
    """Each test administrator with its state and the acts that apply to it,
    as (URL name, button label)."""
    appointments = policy.test_admins_with_locked_card(
        appointments=policy.school_test_admins(school_unit=school_unit)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )
    rows = []
    for appointment in appointments:
        actions = [
            ("etjanster:test_admin_password", _("New password")),
            ("etjanster:test_admin_card", _("New card")),
        ]
        if appointment.card_locked:
            actions.append(("etjanster:test_admin_card_unlock", _("Unlock card")))
        if policy.can_deactivate_test_admin(appointment=appointment):
            actions.append(("etjanster:test_admin_deactivate", _("Deactivate")))
        if policy.can_reactivate_test_admin(appointment=appointment, today=day):
            actions.append(("etjanster:test_admin_reactivate", _("Reactivate")))
        rows.append(
            {
                "appointment": appointment,
                "state": policy.test_admin_state(appointment=appointment, today=day),
                "actions": actions,
            }
        )
    return rows


def test_admin_credentials(request, school_unit, appointment, password, card) -> HttpResponse:
    """The one page that shows a test administrator's new password and/or card.

    SECURITY: the card and the password are two factors and travel apart:
    the card's PDF never carries the password, which has its own slip.
    """
    return no_store(
        render(
            request,
            "etjanster/test_admin_credentials.html",
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
                "slip_url": data_url(_password_slip(appointment, password)) if password else None,
            },
        )
    )


def _password_slip(appointment, password) -> bytes:
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
