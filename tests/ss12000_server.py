"""A test SS 12000 server as a process of its own, on a free port.

`python -m tests.ss12000_server` binds port 0, prints `PORT <n>` and serves
until it is stopped. It answers the shapes of Skolverket's SS 12000 subset
from a dataset (`tests/provisioning/fixtures/ss12000.json` at start):
`/organisations`, `/persons`, `/duties`, `/activities`, `/syllabuses` paged
with `limit` and an opaque `pageToken`, `meta.modified.after` (refused with
400 beside a `pageToken`, as the standard says), `/deletedEntities?after=`,
(paged when the dataset's `deleted` is a list of pages), bearer
authentication, and `/token` (OAuth 2 client credentials, HTTP basic).

Tests change it through `POST /_control` (JSON): `dataset` replaces the data,
`token` the bearer token, `fault` ({"kind": "401" | "429" | "500" | "slow" |
"trickle" | "redirect" | "malformed" | "loop", "path": "/duties"}) makes that
path fail ("trickle": a byte every 50 ms; "redirect": 302 to `/_elsewhere`); `list_key`
"resource" answers lists under the resource's name instead of `data`. `GET /_log` lists
the requests served (path and query).
"""

import base64
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURE = Path(__file__).parent / "provisioning" / "fixtures" / "ss12000.json"
RESOURCES = ("organisations", "persons", "duties", "activities", "syllabuses")
CLIENT_ID, CLIENT_SECRET = "portalen", "hemligt-klientlosen"

STATE = {
    "dataset": json.loads(FIXTURE.read_text()),
    "token": "test-token",
    "fault": None,
    "list_key": "data",
    "log": [],
}
LOCK = threading.Lock()


def _token(offset: int, after: str | None) -> str:
    return base64.urlsafe_b64encode(json.dumps([offset, after]).encode()).decode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the tests read /_log instead
        pass

    def _send(self, status: int, body, headers=None) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path == "/_control":
            with LOCK:
                STATE.update(json.loads(raw))
                STATE["log"] = []
            return self._send(200, {"ok": True})
        if self.path == "/token":
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                return self._send(401, {"error": "invalid_client"})
            return self._send(200, {"access_token": STATE["token"], "token_type": "Bearer"})
        return self._send(404, {"code": "NotFound", "message": "No such path"})

    def do_GET(self):  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/_log":
            return self._send(200, STATE["log"])
        with LOCK:
            STATE["log"].append({"path": url.path, "query": query})
        if self.headers.get("Authorization") != f"Bearer {STATE['token']}":
            return self._send(401, {"code": "Unauthorized", "message": "Bad token"})
        fault = STATE["fault"]
        if fault and fault.get("path", url.path) == url.path:
            handled = self._fault(fault["kind"], query)
            if handled:
                return None
        if url.path == "/deletedEntities":
            return self._deleted(query)
        resource = url.path.strip("/")
        if resource not in RESOURCES:
            return self._send(404, {"code": "NotFound", "message": "No such path"})
        return self._list(resource, query)

    def _fault(self, kind: str, query: dict) -> bool:
        if kind in ("401", "500"):
            self._send(int(kind), {"code": "Fault", "message": f"fault {kind}"})
        elif kind == "429":
            self._send(429, {"code": "TooMany", "message": "slow down"}, {"Retry-After": "120"})
        elif kind == "malformed":
            self._send(200, b'{"data": [{"id": "x"')
        elif kind == "slow":
            time.sleep(3)
            self._send(200, {"data": [], "pageToken": None})
        elif kind == "trickle":
            self._trickle(json.dumps({"data": [], "pageToken": None}).ljust(60).encode())
        elif kind == "redirect":
            self._send(302, {}, {"Location": "/_elsewhere"})
        elif kind == "loop":
            self._send(200, {"data": [], "pageToken": "samma-sida"})
        else:
            return False
        return True

    def _trickle(self, raw: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        try:
            for byte in raw:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:  # the client gave up
            self.close_connection = True

    def _deleted(self, query: dict):
        deleted = STATE["dataset"].get("deleted", {})
        if not isinstance(deleted, list):
            return self._send(200, {"data": deleted})
        page = int(query.get("pageToken") or 0)
        more = page + 1 < len(deleted)
        return self._send(
            200, {"data": deleted[page], "pageToken": str(page + 1) if more else None}
        )

    def _list(self, resource: str, query: dict):
        after = query.get("meta.modified.after")
        if after and query.get("pageToken"):
            return self._send(400, {"code": "BadRequest", "message": "filter with pageToken"})
        offset = 0
        if query.get("pageToken"):
            offset, after = json.loads(base64.urlsafe_b64decode(query["pageToken"]))
        items = STATE["dataset"].get(resource, [])
        if after:
            items = [i for i in items if i.get("meta", {}).get("modified", "") > after]
        limit = int(query.get("limit") or 100)
        page = items[offset : offset + limit]
        more = offset + limit < len(items)
        key = resource if STATE["list_key"] == "resource" else "data"
        return self._send(
            200,
            {key: page, "pageToken": _token(offset + limit, after) if more else None},
        )


def main() -> None:
    # `--dataset PATH`: serve that file instead of the fixture (`python -m bench.ss12000`).
    if len(sys.argv) == 3 and sys.argv[1] == "--dataset":
        STATE["dataset"] = json.loads(Path(sys.argv[2]).read_text())
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
