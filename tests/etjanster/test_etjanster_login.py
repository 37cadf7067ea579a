"""The E-tjänster login: password, then three pinned cells of the matrix card."""

import datetime
import re

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import CardState, MatrixCardDevice
from accounts.services.cards import card_issue, card_unlock
from audit.context import AuditContext
from audit.models import AuditEvent
from tests.fixtures.logins import LOGIN, MATRIX, asked_cells, log_in_with_password


def answer(client: Client, card, cells, **override):
    data = {cell: card.cells[cell] for cell in cells} | override
    return client.post(MATRIX, data)


@pytest.fixture
def half_logged_in(client, principal, principal_card):
    response = log_in_with_password(client)
    assert response.status_code == 302 and response["Location"] == MATRIX
    return client


def test_password_then_card_opens_e_tjanster(half_logged_in, principal_card, grundskola):
    response = half_logged_in.get(MATRIX)
    cells = asked_cells(response)
    assert len(set(cells)) == 3
    for cell in cells:
        assert f'<label for="cell-{cell}">' in response.content.decode()
    key_before = half_logged_in.session.session_key
    response = answer(half_logged_in, principal_card, cells)
    assert response.status_code == 302 and response["Location"] == "/e-tjanster/"
    assert half_logged_in.session.session_key != key_before
    assert half_logged_in.session[DEVICE_ID_SESSION_KEY] == principal_card.device.persistent_id
    home = half_logged_in.get("/e-tjanster/")
    assert home.status_code == 200
    assert grundskola.name in home.content.decode()
    # One "login succeeded" per completed login: the password step alone is not one.
    steps = list(
        AuditEvent.objects.filter(action__in=["login_succeeded", "password_accepted"])
        .order_by("pk")
        .values_list("action", "details__factor")
    )
    assert steps == [("password_accepted", "password"), ("login_succeeded", "matrix_card")]


def test_matrix_page_shows_no_card_values(half_logged_in, principal_card):
    page = half_logged_in.get(MATRIX).content.decode()
    outline = page[page.index('<table class="matrix-outline"') :]
    outline = outline[: outline.index("</table>")]
    # Only the asked cells are marked, by name; every other cell is empty.
    marked = re.findall(r"<td[^>]*>([^<]+)</td>", outline)
    assert sorted(marked) == sorted(asked_cells(half_logged_in.get(MATRIX)))
    assert outline.count("<td></td>") == 80 - 3 + 1  # plus the empty corner


def test_password_alone_reaches_no_e_tjanster_page(half_logged_in):
    response = half_logged_in.get("/e-tjanster/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    # …and the login page sends the half-logged-in user on to the card.
    response = half_logged_in.get(response["Location"])
    assert response.status_code == 302 and response["Location"].startswith(MATRIX)


def test_safe_next_is_followed_and_unsafe_next_is_ignored(client, principal, principal_card):
    response = log_in_with_password(client, next="/e-tjanster/?sida=2")
    assert response["Location"] == MATRIX + "?next=%2Fe-tjanster%2F%3Fsida%3D2"
    cells = asked_cells(client.get(response["Location"]))
    response = client.post(
        MATRIX, {**{c: principal_card.cells[c] for c in cells}, "next": "/e-tjanster/?sida=2"}
    )
    assert response["Location"] == "/e-tjanster/?sida=2"

    other = Client()
    log_in_with_password(other, next="https://evil.example/")
    cells = asked_cells(other.get(MATRIX))
    response = other.post(
        MATRIX, {**{c: principal_card.cells[c] for c in cells}, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/e-tjanster/"


def test_the_same_cells_after_a_wrong_answer_a_reload_and_a_new_login(
    half_logged_in, principal_card
):
    cells = asked_cells(half_logged_in.get(MATRIX))
    assert asked_cells(half_logged_in.get(MATRIX)) == cells
    response = answer(half_logged_in, principal_card, cells, **{cells[0]: "ZZ"})
    assert asked_cells(response) == cells
    # Another browser, another login: still the same three cells.
    other = Client()
    log_in_with_password(other)
    assert asked_cells(other.get(MATRIX)) == cells


def test_wrong_answer_says_try_again_at_local_time_and_never_which_cell(
    half_logged_in, principal_card
):
    moment = datetime.datetime(2026, 11, 28, 13, 4, 30, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        cells = asked_cells(half_logged_in.get(MATRIX))
        response = answer(half_logged_in, principal_card, cells, **{cells[1]: "ZZ"})
    page = response.content.decode()
    # 13:04:31 UTC is 14:04:31 in Stockholm in November.
    assert "försök igen kl. 14:04:31" in page.lower()
    error = re.search(r'id="error-summary".*?<ul>(.*?)</ul>', page, re.S).group(1)
    for cell in cells:
        assert cell not in error
    assert half_logged_in.get("/e-tjanster/").status_code == 302


def test_longer_waits_are_shown_in_minutes(half_logged_in, principal_card):
    device = principal_card.device
    moment = datetime.datetime(2026, 11, 28, 13, 4, 30, tzinfo=datetime.UTC)
    with time_machine.travel(moment, tick=False):
        cells = asked_cells(half_logged_in.get(MATRIX))
        MatrixCardDevice.objects.filter(pk=device.pk).update(
            throttling_failure_count=4, throttling_failure_timestamp=timezone.now()
        )
        response = answer(half_logged_in, principal_card, cells)
    # Four failures: 8 s; the answer is not even looked at.
    assert "kl. 14:04:38" in response.content.decode()
    MatrixCardDevice.objects.filter(pk=device.pk).update(throttling_failure_count=7)
    with time_machine.travel(moment, tick=False):
        response = answer(half_logged_in, principal_card, cells)
    assert "kl. 14:05" in response.content.decode()


@pytest.mark.parametrize(
    ("tamper", "counted"),
    [
        # An asked cell left empty or not sent: nothing was tested, nothing counts.
        ("other_cells", 0),
        ("missing_cell", 0),
        ("blank_cell", 0),
        ("nothing", 0),
        # Every asked cell answered: a guess, whatever else came with it.
        ("extra_field", 1),
        ("long_answer", 1),
    ],
)
def test_malformed_answers_never_500_and_count_only_when_every_cell_is_answered(
    half_logged_in, principal_card, tamper, counted
):
    cells = asked_cells(half_logged_in.get(MATRIX))
    data = {cell: principal_card.cells[cell] for cell in cells}
    if tamper == "other_cells":
        other = next(c for c in principal_card.cells if c not in cells)
        data = {other: principal_card.cells[other], **{c: data[c] for c in cells[1:]}}
    elif tamper == "missing_cell":
        del data[cells[0]]
    elif tamper == "extra_field":
        data["H10" if "H10" not in cells else "A1"] = "ZZ"
    elif tamper == "long_answer":
        data[cells[0]] = "x" * 5000
    elif tamper == "blank_cell":
        data[cells[1]] = "  "
    elif tamper == "nothing":
        data = {}
    events = AuditEvent.objects.count()
    response = half_logged_in.post(MATRIX, data)
    assert response.status_code == 200
    assert asked_cells(response) == cells
    principal_card.device.refresh_from_db()
    assert principal_card.device.throttling_failure_count == counted
    page = response.content.decode()
    if counted:
        assert "Svaret stämde inte med ditt kort" in page
        assert AuditEvent.objects.count() == events + 1  # login_failed
    else:
        assert "Fyll i alla tre rutorna. Inget räknades." in page
        assert AuditEvent.objects.count() == events
        # And the right answers still open E-tjänster at once: no delay began.
        response = answer(half_logged_in, principal_card, cells)
        assert response["Location"] == "/e-tjanster/"


def test_answers_ignore_case_and_spaces(half_logged_in, principal_card):
    cells = asked_cells(half_logged_in.get(MATRIX))
    data = {c: " " + " ".join(principal_card.cells[c].lower()) + " " for c in cells}
    response = half_logged_in.post(MATRIX, data)
    assert response["Location"] == "/e-tjanster/"


def test_five_wrong_answers_lock_the_card_and_name_the_contact(
    client, principal, principal_card, huvudman
):
    log_in_with_password(client)
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        cells = asked_cells(client.get(MATRIX))
        for _ in range(5):
            response = answer(client, principal_card, cells, **{cells[2]: "ZZ"})
            traveller.shift(datetime.timedelta(seconds=30))
    page = response.content.decode()
    assert "Din inloggningsmatris är spärrad" in page
    assert huvudman.contact_name in page and huvudman.contact_email in page
    assert MatrixCardDevice.objects.get(pk=principal_card.device.pk).state == CardState.LOCKED
    assert AuditEvent.objects.filter(action="card_locked", target="rektor").exists()
    # A fresh password login is told the same, and gets no matrix step.
    response = log_in_with_password(Client())
    assert response.status_code == 200
    assert huvudman.contact_email in response.content.decode()


def test_after_unlock_the_right_answer_works(client, principal, principal_card, huvudman_staff):
    MatrixCardDevice.objects.filter(pk=principal_card.device.pk).update(
        state=CardState.LOCKED, throttling_failure_count=5
    )
    assert log_in_with_password(client).status_code == 200
    card_unlock(user=principal, context=AuditContext(actor=huvudman_staff))
    assert log_in_with_password(client)["Location"] == MATRIX
    cells = asked_cells(client.get(MATRIX))
    assert answer(client, principal_card, cells)["Location"] == "/e-tjanster/"


def test_locked_test_admin_is_told_to_ask_the_principal(client, test_admin, principal):
    card = card_issue(user=test_admin, context=AuditContext(actor=principal))
    MatrixCardDevice.objects.filter(pk=card.device.pk).update(state=CardState.LOCKED)
    response = log_in_with_password(client, "provadmin", "provadmin-password-1234")
    page = response.content.decode()
    assert principal.email in page and principal.get_full_name() in page


def test_daily_cap_of_challenges_is_explained(client, principal, principal_card):
    MatrixCardDevice.objects.filter(pk=principal_card.device.pk).update(
        challenge_day=timezone.localdate(), challenges_on_day=10
    )
    log_in_with_password(client)
    response = client.get(MATRIX)
    assert response.status_code == 200
    assert "För många inloggningsförsök i dag" in response.content.decode()
    assert client.get("/e-tjanster/").status_code == 302


def test_ten_abandoned_challenges_in_a_day_close_the_card_step_until_tomorrow(
    client, principal, principal_card
):
    # From 09:00, so that the ten 16-minute waits stay within one Stockholm day.
    morning = timezone.make_aware(datetime.datetime(2026, 11, 30, 9, 0))
    with time_machine.travel(morning, tick=False) as traveller:
        log_in_with_password(client)
        for _ in range(10):
            assert len(asked_cells(client.get(MATRIX))) == 3
            traveller.shift(datetime.timedelta(minutes=16))
        refused = client.get(MATRIX).content.decode()
        assert "För många inloggningsförsök i dag" in refused
        principal_card.device.refresh_from_db()
        # Abandoned challenges are no failures: nothing towards the lock.
        assert principal_card.device.throttling_failure_count == 0
        traveller.move_to(morning + datetime.timedelta(days=1))
        fresh = Client()
        log_in_with_password(fresh)
        assert len(asked_cells(fresh.get(MATRIX))) == 3


def test_an_expired_challenge_gets_new_cells_without_counting(half_logged_in, principal_card):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        cells = asked_cells(half_logged_in.get(MATRIX))
        traveller.shift(datetime.timedelta(minutes=16))
        response = answer(half_logged_in, principal_card, cells)
    assert response.status_code == 200
    assert len(asked_cells(response)) == 3
    principal_card.device.refresh_from_db()
    assert principal_card.device.throttling_failure_count == 0


def test_teacher_credentials_get_a_pointer_to_bedomningsportalen(client, teacher):
    response = log_in_with_password(client, "larare", "larare-password-1234")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="/bedomningsportalen/logga-in/"' in page
    assert "_auth_user_id" not in client.session


def test_admin_credentials_do_not_open_e_tjanster(client, huvudman_staff):
    response = log_in_with_password(client, "personal", "personal-password-1234")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_principal_without_card_is_told_whom_to_ask(client, principal, huvudman):
    response = log_in_with_password(client)
    assert response.status_code == 200
    assert huvudman.contact_email in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_totp_device_does_not_count_as_the_card(client, principal):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.conftest import verify_session

    verify_session(client, principal, TOTPDevice.objects.create(user=principal, name="x"))
    response = client.get("/e-tjanster/")
    assert response.status_code == 302
    # …and the login sends such a session to the card step, not round in a loop.
    response = client.get(response["Location"])
    assert response["Location"].startswith(MATRIX)


def test_idle_session_ends_after_30_minutes(half_logged_in, principal_card):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        cells = asked_cells(half_logged_in.get(MATRIX))
        answer(half_logged_in, principal_card, cells)
        traveller.shift(datetime.timedelta(minutes=29))
        assert half_logged_in.get("/e-tjanster/").status_code == 200
        # Each request pushed the expiry on; now stay away for 31 minutes.
        traveller.shift(datetime.timedelta(minutes=31))
        response = half_logged_in.get("/e-tjanster/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_after_only_the_password_the_header_names_nobody(half_logged_in, principal_card):
    html = half_logged_in.get(MATRIX).content.decode()
    assert "Inloggad som" not in html
    assert "Rektor Testsson" not in html
    # The matrix page offers Cancel instead, a POST that logs out.
    assert re.search(r'<form method="post" action="/logga-ut/"[^>]*>.*?Avbryt', html, re.S)
    assert half_logged_in.get("/hjalp/").content.decode().count("Inloggad som") == 0


def test_after_the_card_the_header_names_the_user(half_logged_in, principal_card):
    cells = asked_cells(half_logged_in.get(MATRIX))
    answer(half_logged_in, principal_card, cells)
    html = half_logged_in.get("/hjalp/").content.decode()
    assert "Inloggad som Rektor Testsson" in html


def test_cancel_on_the_matrix_page_logs_out(half_logged_in, principal_card):
    response = half_logged_in.post("/logga-ut/")
    assert response.status_code == 302
    assert "_auth_user_id" not in half_logged_in.session


def test_an_unknown_username_is_audited_and_counted_only_as_a_keyed_hash(client, principal):
    from accounts.models import PasswordFailure

    typed = "MittHemligaLosenord"
    log_in_with_password(client, username=typed, password="x")
    event = AuditEvent.objects.get(action="login_failed")
    assert event.target.startswith("okänt användarnamn (hash ")
    assert typed.lower() not in event.target.lower()
    failure = PasswordFailure.objects.get()
    assert typed.lower() not in failure.username.lower()
    # The same text gives the same hash: repeated attempts can be told apart.
    log_in_with_password(client, username=typed, password="y")
    targets = set(AuditEvent.objects.filter(action="login_failed").values_list("target", flat=True))
    assert targets == {event.target}


def test_a_wrong_password_for_a_known_account_is_recorded_under_its_school(client, test_admin):
    log_in_with_password(client, username="provadmin", password="fel")
    event = AuditEvent.objects.get(action="login_failed")
    assert event.target == "provadmin"
    assert event.school_unit is not None
