"""Material fixtures for the portal tests."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.files.base import ContentFile

from permissions.models import (
    MaterialLevel,
    Subject,
)
from portal.models import (
    Material,
    MaterialKind,
    ProtectionReason,
)
from tests.conftest import SCHOOL_DAY

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
PDF_BYTES = b"%PDF-1.4\n% test material\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def make_material(
    slug: str,
    *,
    subject_code: str = "GRGRMAT01",
    level: str = MaterialLevel.GRUNDSKOLA,
    protected: bool = True,
    title: str | None = None,
    kind: str = MaterialKind.BEDOMNINGSSTOD,
) -> Material:
    material = Material(
        title=title or slug.replace("-", " ").capitalize(),
        slug=slug,
        subject=Subject.objects.get(code=subject_code),
        level=level,
        kind=kind,
        is_protected=protected,
        protection_reason=ProtectionReason.PROVSEKRETESS if protected else "",
    )
    material.file.save(f"{slug}.pdf", ContentFile(PDF_BYTES), save=False)
    material.save()
    return material


@pytest.fixture
def school_day():
    """Noon in Stockholm on an ordinary school day of 2026/27."""
    moment = datetime.datetime.combine(SCHOOL_DAY, datetime.time(12), tzinfo=STOCKHOLM)
    with time_machine.travel(moment, tick=False) as traveller:
        yield traveller


@pytest.fixture
def open_item(db) -> Material:
    return make_material("oppet-material", protected=False)


@pytest.fixture
def math_item(db) -> Material:
    """Protected grundskola material in GRGRMAT01, which the `teacher` fixture has."""
    return make_material("matte-prov", subject_code="GRGRMAT01")


@pytest.fixture
def english_item(db) -> Material:
    """Protected grundskola material in a subject the `teacher` fixture lacks."""
    return make_material("engelska-prov", subject_code="GRGRENG01")


@pytest.fixture
def gymnasial_item(db) -> Material:
    return make_material("gy-matte-prov", subject_code="MAT", level=MaterialLevel.GYMNASIAL)
