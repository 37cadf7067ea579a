"""The teacher list's and the log's rows, rendered in Python: escaped, linked
and labelled exactly as the template rendered them."""

import datetime
import re
from types import SimpleNamespace

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from accounts.models import User
from audit.actions import AuditAction
from audit.context import AuditContext
from audit.log import audit_record
from etjanster.forms import TeacherBulkForm
from etjanster.tables import LOG_ROW, TEACHER_ROW, log_rows_html, teacher_rows_html
from permissions.models import Membership, Subject
from tests.conftest import END_OF_YEAR
from tests.fixtures.staff import make_teachers

pytestmark = pytest.mark.django_db

STOCKHOLM_NOON = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def school_day():
    with time_machine.travel(STOCKHOLM_NOON, tick=False):
        yield


def rows(html: str) -> list[str]:
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(r"<tr>.*?</tr>", body, re.S)


def test_a_teacher_row_links_to_the_teachers_page_and_escapes_the_name(
    principal_client, grundskola, teacher
):
    User.objects.filter(pk=teacher.pk).update(first_name='<b>"Lars"</b>', last_name="Ek & Ås")
    html = principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/larare/").content.decode()
    (row,) = rows(html)
    detail = reverse("etjanster:teacher_detail", args=[grundskola.code, teacher.username])
    assert f'<a href="{detail}">Ek &amp; Ås, &lt;b&gt;&quot;Lars&quot;&lt;/b&gt;</a>' in row
    assert re.search(r'aria-label="[^"]* &lt;b&gt;&quot;Lars&quot;&lt;/b&gt; Ek &amp; Ås"', row)
    assert "<b>" not in row
    assert f'value="{teacher.username}"' in row
    assert '<td data-label="Ämnen"><span lang="sv">Matematik, Svenska</span></td>' in row
    assert '<td data-label="Giltigt till">31 juli 2027</td>' in row
    assert '<td data-label="Status"><span class="tag tag-ok">Aktivt</span></td>' in row


def test_each_state_has_its_tag_and_no_subjects_shows_a_dash(principal_client, grundskola):
    expired, bare, pending = make_teachers(grundskola, 3)
    Membership.objects.filter(pk=expired.pk).update(valid_until=datetime.date(2026, 7, 31))
    bare.subjects.clear()
    Membership.objects.filter(pk=pending.pk).update(confirmed_at=None)
    html = principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/larare/").content.decode()
    by_user = {re.search(r'value="([^"]+)"', row).group(1): row for row in rows(html)}
    assert '<span class="tag tag-warn">Väntar på återaktivering</span>' in by_user["t000000"]
    assert '<span class="tag tag-warn">Inga ämnen</span>' in by_user["t000001"]
    assert '<td data-label="Ämnen"><span lang="sv">–</span></td>' in by_user["t000001"]
    assert '<span class="tag tag-warn">Väntar på lärarens bekräftelse</span>' in by_user["t000002"]
    assert Membership.objects.get(pk=bare.pk).valid_until == END_OF_YEAR


def test_a_log_row_shows_local_time_label_and_escapes_the_target(
    principal_client, principal, grundskola
):
    audit_record(
        action=AuditAction.MEMBERSHIP_REMOVED,
        context=AuditContext(actor=principal),
        school_unit=grundskola,
        target="<script>x</script>",
    )
    html = principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/logg/").content.decode()
    (row,) = rows(html)
    # 12:00 UTC is 13:00 in Stockholm in November.
    assert '<td data-label="Tid">2026-11-28 13:00</td>' in row
    assert '<td data-label="Händelse">Lärare borttagen</td>' in row
    assert '<td data-label="Gäller">&lt;script&gt;x&lt;/script&gt;</td>' in row
    assert "<script>" not in row
    # The name beside the username, and the role in words (readable logs).
    assert (
        f'<td data-label="Av">Rektor Testsson ({principal.username})'
        '<br><span class="muted">Rektor</span></td>'
    ) in row
    assert '<td data-label="Från adress">–</td>' in row


def test_the_log_filter_keeps_the_chosen_action(principal_client, grundskola):
    html = principal_client.get(
        f"/e-tjanster/skolor/{grundskola.code}/logg/", {"action": "login_failed"}
    ).content.decode()
    assert '<select name="action" id="action">' in html
    assert '<option value="login_failed" selected>' in html
    assert html.count(" selected>") == 1


def test_in_english_the_rows_speak_english_and_link_within_en(
    principal_client, grundskola, teacher
):
    html = principal_client.get(f"/en/e-tjanster/skolor/{grundskola.code}/larare/").content.decode()
    (row,) = rows(html)
    assert f'<a href="/en/e-tjanster/skolor/{grundskola.code}/larare/larare/">' in row
    assert '<td data-label="Subjects">' in row
    assert 'aria-label="Choose Larare Testsson"' in row
    assert '<td data-label="Valid until">31 July 2027</td>' in row


def test_rows_are_the_row_patterns_with_every_value_escaped():
    """The rows are written with f-strings; TEACHER_ROW and LOG_ROW through
    format_html are the reference."""
    tricky = 'Å <b> & "q" \'s'
    teacher_rows = [
        {
            "pk": 7,
            "username": f"u{number}{tricky}",
            "slip_label": tricky,
            "url": f"/e-tjanster/x/?a=1&b={number}",
            "name": tricky,
            "subjects": tricky if number else "–",
            "valid_until": "31 juli 2027",
            "state": {"css": "ok", "label": mark_safe("<i>Aktiv</i>") if number else tricky},
        }
        for number in range(3)
    ]
    expected = format_html_join(
        "\n",
        TEACHER_ROW,
        (
            (
                _("Choose"), row["username"], row["pk"], row["slip_label"], row["url"],
                row["name"], _("Username"), row["username"], _("Subjects"), row["subjects"],
                _("Valid until"), row["valid_until"], _("State"), row["state"]["css"],
                row["state"]["label"],
            )
            for row in teacher_rows
        ),
    )  # fmt: skip
    assert teacher_rows_html(teacher_rows) == expected
    log_rows = [
        SimpleNamespace(
            time=datetime.datetime(2026, 11, 28, 13, 0),
            action=tricky,
            actor=tricky,
            actor_role=tricky if number else "",
            target=tricky if number else "",
            details="" if number else tricky,
            event=SimpleNamespace(ip_address="10.0.0.1" if number else None),
        )
        for number in range(3)
    ]
    expected = format_html_join(
        "\n",
        LOG_ROW,
        (
            (
                _("Time"), row.time.strftime("%Y-%m-%d %H:%M"), _("Action"), row.action,
                _("By"), row.actor,
                format_html('<br><span class="muted">{}</span>', row.actor_role)
                if row.actor_role else "",
                _("Concerns"), row.target or "–", _("Details"), row.details or "–",
                _("From address"), row.event.ip_address or "–",
            )
            for row in log_rows
        ),
    )  # fmt: skip
    assert log_rows_html(log_rows) == expected


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_lists_bulk_subject_select_is_the_model_choice_fields(language):
    """The teacher list writes the bulk form's subjects from prepared rows;
    the model choice field (which a posted form still cleans with) is the
    reference."""
    with translation.override(language):
        listed = str(TeacherBulkForm(auto_id="bulk-%s", listed=True)["subject"])
        reference = str(TeacherBulkForm(auto_id="bulk-%s")["subject"])
    assert listed == reference
    assert listed.count("<option") == Subject.objects.count() + 1 > 1
