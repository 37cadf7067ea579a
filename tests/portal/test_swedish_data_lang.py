"""Swedish data on English pages (material titles, descriptions, subject
names) is marked lang="sv", so a screen reader reads it in Swedish."""

from tests.conftest import verify_session


def test_the_catalogue_and_an_item_mark_swedish_titles_and_subjects(client, open_item, school_day):
    catalogue = client.get("/en/bedomningsportalen/").content.decode()
    assert f'lang="sv">{open_item.title}</a>' in catalogue
    assert f'<span lang="sv">{open_item.subject.name}</span>' in catalogue
    page = client.get(f"/en/bedomningsportalen/material/{open_item.slug}/").content.decode()
    assert f'<h1 lang="sv">{open_item.title}</h1>' in page


def test_the_teacher_list_and_the_subject_picker_mark_subject_names(
    client, principal, grundskola, teacher
):
    staff = verify_session(client, principal)
    listed = staff.get(f"/en/e-tjanster/skolor/{grundskola.code}/larare/").content.decode()
    assert '<span lang="sv">Matematik, Svenska</span>' in listed
    form = staff.get(f"/en/e-tjanster/skolor/{grundskola.code}/larare/ny/").content.decode()
    assert '<ul lang="sv">' in form
