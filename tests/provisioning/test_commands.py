"""`manage.py ss12000_source` and `manage.py ss12000_sync`, as scripts call them."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from provisioning.models import Proposal, Source
from provisioning.sources import client_for


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_source_is_saved_with_its_token_sealed(ss12000, huvudman, grundskola, gymnasium):
    output = run(
        "ss12000_source",
        "--huvudman",
        huvudman.organisationsnummer,
        "--url",
        ss12000.url,
        "--token",
        "test-token",
    )

    assert "2 av 2" in output  # both of our units found at the source
    source = Source.objects.get(huvudman=huvudman)
    assert b"test-token" not in bytes(source.sealed_secret)
    assert client_for(source)._token == "test-token"


def test_client_credentials_are_exchanged_for_a_token(ss12000, huvudman, grundskola):
    run(
        "ss12000_source",
        "--huvudman",
        huvudman.organisationsnummer,
        "--url",
        ss12000.url,
        "--client-id",
        "portalen",
        "--client-secret",
        "hemligt-klientlosen",
        "--token-url",
        ss12000.url + "/token",
    )

    assert Source.objects.get(huvudman=huvudman).auth_kind == "client_credentials"


@pytest.mark.parametrize(
    ("url", "token", "words"),
    [
        ("ftp://example.se", "test-token", "https://"),
        ("SERVER", "wrong-token", "HTTP 401"),
    ],
)
def test_a_bad_url_or_token_saves_nothing(ss12000, huvudman, url, token, words):
    with pytest.raises(CommandError, match=words):
        run(
            "ss12000_source",
            "--huvudman",
            huvudman.organisationsnummer,
            "--url",
            url.replace("SERVER", ss12000.url),
            "--token",
            token,
        )

    assert not Source.objects.exists()


def test_sync_prints_each_school_and_the_totals_as_json(source):
    output = json.loads(run("ss12000_sync", "--huvudman", "212000-0142", "--json"))

    assert output["totals"]["new_teachers"] == 3
    assert {school["school"] for school in output["schools"]} == {"11111111", "22222222"}
    assert set(output["schools"][0]) >= {
        "school",
        "new_teachers",
        "linked_existing",
        "subject_grants",
        "proposed_removals",
        "ignored",
    }
    assert Proposal.objects.count() == 3


def test_a_dry_run_changes_nothing(source):
    output = run("ss12000_sync", "--huvudman", "212000-0142", "--dry-run")

    assert '"new_teachers": 1' in output
    assert not Proposal.objects.exists()


def test_without_a_huvudman_every_due_source_syncs_and_a_failing_one_says_why(source, ss12000):
    ss12000.serve(fault={"kind": "500"})
    err = io.StringIO()

    call_command("ss12000_sync", stdout=io.StringIO(), stderr=err)

    assert "HTTP 500" in err.getvalue()
    source.refresh_from_db()
    assert "HTTP 500" in source.last_error


def test_a_plain_http_address_is_refused_in_production(ss12000, huvudman, settings):
    settings.SS12000_ALLOW_HTTP = False

    with pytest.raises(CommandError, match="https://"):
        run("ss12000_source", "--huvudman", huvudman.organisationsnummer, "--url", ss12000.url)

    assert not Source.objects.exists()
