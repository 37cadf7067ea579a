"""seed_demo's material: real PDFs, both levels, idempotent by slug."""

import io
import json

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from accounts.models import User
from permissions.policy import can_view_material
from permissions.schoolyear import today
from portal.models import Material

pytestmark = pytest.mark.django_db


def seed() -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_seed_demo_adds_open_and_protected_material_of_both_levels_with_real_pdfs():
    result = seed()
    slugs = {item["slug"]: item["protected"] for item in result["material"]}
    items = {m.slug: m for m in Material.objects.select_related("subject")}
    assert set(slugs) == set(items)
    kinds = {(m.level, m.is_protected) for m in items.values()}
    assert kinds == {
        ("grundskola", False),
        ("grundskola", True),
        ("gymnasial", False),
        ("gymnasial", True),
    }
    for material in items.values():
        with material.file.open("rb") as handle:
            text = PdfReader(handle).pages[0].extract_text()
        assert material.title in text

    teacher = User.objects.get(username=result["teacher"]["username"])
    opens = {
        slug
        for slug, material in items.items()
        if material.is_protected
        and can_view_material(user=teacher, material=material, today=today())
    }
    assert opens == {"matematik-ak9-np-2025"}


def test_seeding_twice_keeps_one_item_and_one_file_per_slug():
    seed()
    files = {m.slug: m.file.name for m in Material.objects.all()}
    second = seed()
    assert Material.objects.count() == len(second["material"])
    assert {m.slug: m.file.name for m in Material.objects.all()} == files
