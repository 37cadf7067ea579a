"""What the walk found in the CSV import: codes written as a list with
commas, rows that leave a teacher without subjects, the result page in the
past tense, no slip for a link that waits for its owner, and large batches
of slips printed in parts."""

import io
import re

from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from accounts.models import Role, User
from etjanster.views.imports import slip_parts
from permissions.models import Membership
from tests.conftest import END_OF_YEAR, make_user

HEADER = "Förnamn;Efternamn;E-post;Ämnen\n"


def upload(text: str):
    return SimpleUploadedFile("larare.csv", text.encode(), content_type="text/csv")


def base(school, lang="") -> str:
    return f"{lang}/e-tjanster/skolor/{school.code}/larare/importera/"


def token_of(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def preview_and_apply(client, school, text: str, lang="/en") -> tuple[str, str]:
    preview = client.post(base(school, lang), {"file": upload(text)}).content.decode()
    done = client.post(base(school, lang) + "genomfor/", {"token": token_of(preview)})
    return preview, done.content.decode()


def test_subject_codes_separated_by_commas_are_accepted(principal_client, grundskola):
    text = HEADER + "Ada;Ek;ada@skola.example;GRGRMAT01, GRGRENG01\n"
    preview, _done = preview_and_apply(principal_client, grundskola, text)
    assert "Unknown subject code" not in preview
    membership = Membership.objects.get(user__email="ada@skola.example")
    assert set(membership.subjects.values_list("code", flat=True)) == {"GRGRMAT01", "GRGRENG01"}


def test_a_row_without_subjects_is_warned_of_in_the_preview_and_the_result(
    principal_client, grundskola
):
    text = HEADER + "Ada;Ek;ada@skola.example;GRGRMAT01\nBo;Al;bo@skola.example;\n"
    preview, done = preview_and_apply(principal_client, grundskola, text)
    assert "1 teacher would have no subject at this school" in preview
    assert "No subjects" in preview
    assert "1 imported teacher has no subject at this school" in done
    assert "Teachers without subjects" in done


def test_the_result_page_says_what_was_done(principal_client, grundskola):
    _preview, done = preview_and_apply(
        principal_client, grundskola, HEADER + "Ada;Ek;ada@skola.example;GRGRMAT01\n"
    )
    assert "New accounts created" in done
    assert "1 row was imported." in done


def test_a_row_linked_to_another_schools_account_gets_no_slip(
    principal_client, grundskola, other_school
):
    elsewhere = make_user("annanlarare", Role.TEACHER)
    Membership.objects.create(user=elsewhere, school_unit=other_school, valid_until=END_OF_YEAR)
    text = HEADER + f"Ada;Ek;ada@skola.example;GRGRMAT01\nAnna;Lärare;{elsewhere.email};\n"
    _preview, done = preview_and_apply(principal_client, grundskola, text)
    pickup = re.search(r'name="pickup" value="(\d+)"', done).group(1)
    key = re.search(r'name="key" value="([^"]+)"', done).group(1)
    slips = principal_client.post(
        base(grundskola) + "hamta/", {"pickup": pickup, "key": key, "what": "slips"}
    )
    reader = PdfReader(io.BytesIO(slips.content))
    assert len(reader.pages) == 1
    assert "Ada Ek" in reader.pages[0].extract_text()


def test_a_large_batch_of_slips_is_printed_in_parts(principal_client, grundskola, monkeypatch):
    assert slip_parts(0) == []
    assert slip_parts(200) == [(1, 1, 200)]
    assert slip_parts(401) == [(1, 1, 200), (2, 201, 400), (3, 401, 401)]
    monkeypatch.setattr("etjanster.views.imports.SLIPS_PER_PDF", 2)
    rows = "".join(f"T{n};Ek;t{n}@skola.example;GRGRMAT01\n" for n in range(3))
    _preview, done = preview_and_apply(principal_client, grundskola, HEADER + rows)
    assert "Download slips 1–2 (PDF)" in done
    assert "Download slips 3–3 (PDF)" in done
    pickup = re.search(r'name="pickup" value="(\d+)"', done).group(1)
    key = re.search(r'name="key" value="([^"]+)"', done).group(1)
    second = principal_client.post(
        base(grundskola) + "hamta/", {"pickup": pickup, "key": key, "what": "slips", "part": 2}
    )
    assert second["Content-Disposition"].endswith('-2.pdf"')
    assert len(PdfReader(io.BytesIO(second.content)).pages) == 1
    assert User.objects.filter(role=Role.TEACHER).count() == 3
