"""The CSV import of teachers: upload and preview, apply, and the download of
its slips and report."""

import datetime
import json

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.context import AuditContext
from core.refusals import RefusalCode, Refused
from etjanster.forms import ImportApplyForm, ImportPickupForm, ImportUploadForm
from etjanster.views.shared import context_for, school_unit_or_404
from permissions.imports.apply import (
    csv_import_apply,
    csv_import_discard,
    csv_import_pickup_open,
    csv_import_preview,
)
from permissions.imports.parse import (
    MAX_BYTES,
    ImportFileError,
    ImportPlan,
    Outcome,
    SubjectMode,
    decode_upload,
)
from permissions.imports.plan import plan_import
from permissions.schoolyear import today
from permissions.slips import SLIPS_PER_PDF, Slip, render_slips
from schools.models import SchoolUnit
from web.decorators import etjanster_required
from web.responses import no_store, pdf_response


@etjanster_required
@require_http_methods(["GET", "POST"])
def teacher_import(request: HttpRequest, code: str) -> HttpResponse:
    """Step 1 (GET) the form, step 2 (POST a file) the preview, bound to that
    upload by a token; step 3 is `teacher_import_apply`."""
    school_unit = school_unit_or_404(request, code, today())
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    plan = None
    token = ""
    if request.method == "POST":
        plan, token = _preview(
            form, school_unit=school_unit, context=context_for(request, school_unit)
        )
    return render(
        request,
        "etjanster/teacher_import.html",
        {
            "school_unit": school_unit,
            "form": form,
            "plan": plan,
            "summary": plan.summary() if plan else None,
            "token": token,
            "outcomes": Outcome,
            "modes": SubjectMode,
        },
        status=400 if request.method == "POST" and plan is None else 200,
    )


def _preview(
    form: forms.Form, *, school_unit: SchoolUnit, context: AuditContext
) -> tuple[ImportPlan | None, str]:
    """The uploaded file's plan, and the token that binds its preview to it;
    `(None, "")` when the file will not do (the form says why)."""
    plan = None
    token = ""
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            # SECURITY: refuse a large file by its size before reading it.
            if upload.size > MAX_BYTES:
                raise ImportFileError(
                    _("The file is too large (at most %(kb)d kB).") % {"kb": MAX_BYTES // 1024}
                )
            text = decode_upload(upload.read())
            plan = plan_import(school_unit=school_unit, text=text, mode=form.cleaned_data["mode"])
        except ImportFileError as error:
            form.add_error("file", str(error))
        else:
            token = csv_import_preview(
                school_unit=school_unit,
                context=context,
                text=text,
                plan=plan,
                mode=plan.mode,
            )
    if plan is None:
        # A failed upload leaves no earlier preview to apply by mistake.
        csv_import_discard(context=context)
    return plan, token


@etjanster_required
@require_POST
def teacher_import_apply(request: HttpRequest, code: str) -> HttpResponse:
    day = today()
    school_unit = school_unit_or_404(request, code, day)
    form = ImportApplyForm(request.POST)
    context = context_for(request, school_unit)
    try:
        result = csv_import_apply(
            school_unit=school_unit,
            context=context,
            token=form.data.get("token", "") if form.is_valid() else "",
            today=day,
        )
    except (Refused, ImportFileError) as refusal:
        messages.error(request, str(refusal))
        return redirect("etjanster:teacher_import", code=school_unit.code)
    # The slips (with passwords) and the report wait sealed under a key that
    # only this page holds; the page itself stays small however many rows.
    return no_store(
        render(
            request,
            "etjanster/teacher_import_done.html",
            {
                "school_unit": school_unit,
                "summary": result.summary,
                "new_count": result.summary[Outcome.NEW],
                "pickup": result.pickup_id,
                "slip_parts": slip_parts(result.slip_count),
                "key": result.pickup_key,
            },
        )
    )


@etjanster_required
@require_POST
def teacher_import_download(request: HttpRequest, code: str) -> HttpResponse:
    """The slips PDF or the report CSV of an applied import, within the hour."""
    school_unit = school_unit_or_404(request, code, today())
    form = ImportPickupForm(request.POST)
    if not form.is_valid():
        messages.error(request, str(Refused(RefusalCode.IMPORT_PICKUP_GONE)))
        return redirect("etjanster:teacher_import", code=school_unit.code)
    try:
        content = csv_import_pickup_open(
            school_unit=school_unit,
            context=context_for(request, school_unit),
            pickup_id=form.cleaned_data["pickup"],
            key=form.cleaned_data["key"],
            what=form.cleaned_data["what"],
        )
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect("etjanster:teacher_import", code=school_unit.code)
    data = json.loads(content)
    if form.cleaned_data["what"] == "report":
        return _report_csv(data["report"], school_unit=school_unit)
    part = form.cleaned_data["part"] or 1
    chosen = data["slips"][(part - 1) * SLIPS_PER_PDF : part * SLIPS_PER_PDF]
    slips = [
        Slip(**{**slip, "valid_until": datetime.date.fromisoformat(slip["valid_until"])})
        for slip in chosen
    ]
    suffix = f"-{part}" if len(data["slips"]) > SLIPS_PER_PDF else ""
    return pdf_response(render_slips(slips), f"lappar-{school_unit.code}{suffix}.pdf")


def slip_parts(count: int) -> list[tuple[int, int, int]]:
    """The parts a batch of `count` slips is printed in: (part, first, last)."""
    return [
        (number + 1, start + 1, min(start + SLIPS_PER_PDF, count))
        for number, start in enumerate(range(0, count, SLIPS_PER_PDF))
    ]


def _report_csv(report: str, *, school_unit: SchoolUnit) -> HttpResponse:
    # UTF-8 with BOM so that Excel opens the Swedish letters right.
    response = HttpResponse(
        "\ufeff".encode() + report.encode(), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="import-{school_unit.code}.csv"'
    return no_store(response)
