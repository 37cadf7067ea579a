"""The test SS 12000 server (a process of its own, one per test run and
worker) and a source of the cast's huvudman pointed at it."""

import copy
import json
import subprocess
import sys
import urllib.request

import pytest

from audit.context import AuditContext
from provisioning.client import Client
from provisioning.sources import source_save
from tests.processes import ROOT

BASE = json.loads((ROOT / "tests/provisioning/fixtures/ss12000.json").read_text())
# Far after any pull of the tests: an item "modified" now for an incremental pull.
LATER = {"created": "2026-08-01T08:00:00+00:00", "modified": "2099-01-01T00:00:00+00:00"}


class SS12000:
    def __init__(self, url: str):
        self.url = url
        self.data = copy.deepcopy(BASE)

    def control(self, **state) -> None:
        request = urllib.request.Request(  # noqa: S310 (loopback)
            self.url + "/_control", data=json.dumps(state).encode(), method="POST"
        )
        urllib.request.urlopen(request, timeout=5).read()  # noqa: S310

    def serve(self, **state) -> None:
        """Serve `self.data` (as changed by the test): no fault, the right
        token and `data` lists unless `state` says otherwise."""
        self.control(
            **{"fault": None, "token": "test-token", "list_key": "data", **state}, dataset=self.data
        )

    def log(self) -> list[dict]:
        with urllib.request.urlopen(self.url + "/_log", timeout=5) as response:  # noqa: S310
            return json.loads(response.read())

    def item(self, resource: str, item_id: str) -> dict:
        return next(i for i in self.data[resource] if i["id"] == item_id)

    def change(self, resource: str, item_id: str, **fields) -> dict:
        item = self.item(resource, item_id)
        item.update(fields, meta=LATER)
        return item

    def client(self, **options) -> Client:
        return Client(base_url=self.url, token="test-token", **options)


@pytest.fixture(scope="session")
def ss12000_server():
    process = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [sys.executable, "-m", "tests.ss12000_server"], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    line = process.stdout.readline()
    assert line.startswith("PORT "), line
    yield f"http://127.0.0.1:{int(line.split()[1])}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def ss12000(ss12000_server) -> SS12000:
    server = SS12000(ss12000_server)
    server.serve()
    return server


@pytest.fixture
def source(ss12000, huvudman, grundskola, gymnasium):
    source, _seen = source_save(
        huvudman=huvudman,
        context=AuditContext.system(),
        base_url=ss12000.url,
        token="test-token",
        check=False,
    )
    return source
