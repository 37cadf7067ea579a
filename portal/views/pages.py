"""The public pages that only inform: the start page, help, and the
accessibility statement."""

import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from permissions.models import LevelPolicy, MaterialLevel
from schools.models import SchoolForm, SchoolFormCode

# DIGG's model asks for the website's publication date and the date of the
# latest assessment (and of the statement's update), and how soon we answer.
WEBSITE_PUBLISHED = datetime.date(2026, 11, 2)
ACCESSIBILITY_REVIEWED = datetime.date(2026, 12, 7)
ACCESSIBILITY_ANSWER_DAYS = 5


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    forms = _school_forms_and_levels()
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


def _school_forms_and_levels() -> list[dict]:
    """Each school form, in `SchoolFormCode`'s order, with the levels of material it reaches."""
    # The form-to-level answers are read from the policy table, so help never
    # contradicts the gate after a national admin changes the rule.
    reached: dict[str, list[str]] = {}
    for rule in LevelPolicy.objects.order_by("level"):
        reached.setdefault(rule.school_form_id, []).append(rule.level)
    return [
        {"form": form, "levels": reached.get(form.code, [])}
        for form in sorted(
            SchoolForm.objects.all(), key=lambda f: SchoolFormCode.values.index(f.code)
        )
    ]


@require_GET
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    """Tillgänglighetsredogörelse, after DIGG's model (lagen om tillgänglighet
    till digital offentlig service, 2018:1937)."""
    return render(
        request,
        "portal/accessibility.html",
        {
            "reviewed_on": ACCESSIBILITY_REVIEWED,
            "published_on": WEBSITE_PUBLISHED,
            "support_email": settings.SUPPORT_EMAIL,
            "answer_days": ACCESSIBILITY_ANSWER_DAYS,
        },
    )
