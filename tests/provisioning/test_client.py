"""The client's defences against a hostile or broken source: a trickling
answer, a redirect that would carry the token elsewhere, and every page of
/deletedEntities."""

import datetime

import pytest

from provisioning import client as client_module
from provisioning.client import SourceError

AFTER = datetime.datetime(2026, 8, 1, tzinfo=datetime.UTC)


def test_an_answer_trickling_past_the_deadline_is_cut_off(ss12000, monkeypatch):
    # Each byte comes well within the socket timeout; the whole answer does not.
    monkeypatch.setattr(client_module, "RESPONSE_SECONDS", 0.3, raising=False)
    ss12000.serve(fault={"kind": "trickle", "path": "/persons"})

    with pytest.raises(SourceError, match="finish|klar"):
        list(ss12000.client(timeout=1).items("persons"))


def test_a_redirect_is_refused_and_the_token_goes_nowhere_else(ss12000):
    ss12000.serve(fault={"kind": "redirect", "path": "/persons"})

    with pytest.raises(SourceError, match="302"):
        list(ss12000.client().items("persons"))

    assert [entry["path"] for entry in ss12000.log()] == ["/persons"]


def test_every_page_of_deleted_entities_is_read(ss12000):
    ss12000.data["deleted"] = [{"Person": ["p-1"]}, {"Person": ["p-2"], "Duty": ["d-1"]}]
    ss12000.serve()

    deleted = ss12000.client().deleted(after=AFTER)

    assert deleted == {"person": {"p-1", "p-2"}, "duty": {"d-1"}}
    assert [entry["query"] for entry in ss12000.log()] == [
        {"after": AFTER.isoformat()},
        {"pageToken": "1"},
    ]
