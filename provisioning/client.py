"""A streaming SS 12000 client: one page in memory at a time.

Only what the sync needs: `GET /organisations`, `/persons`, `/duties`,
`/activities`, `/syllabuses` and `/deletedEntities`, paged with `limit` and an
opaque `pageToken` (null at the end), incremental with `meta.modified.after`
(which SS 12000 does not combine with `pageToken`: only the first request
carries it). Lists answer `{"data": [...]}`, some servers name the list after
the resource (`{"organisations": [...]}`). Authentication is a bearer token,
or OAuth 2 client credentials exchanged for one.

Every fault (refused credentials, 429, 5xx, a timeout, malformed JSON, a page
token that loops) raises one `SourceError` with a Swedish sentence; callers
run the whole sync in one transaction, so a fault changes nothing.
"""

import base64
import datetime
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

from django.conf import settings
from django.utils.translation import gettext as _

# Items a page asks for; the server may send fewer.
PAGE_LIMIT = 500
# SECURITY: a source that never ends its pages would hold the sync forever.
MAX_PAGES = 10_000
TIMEOUT_SECONDS = 20
# A page of 500 items is well under this; more is a broken or hostile server.
MAX_PAGE_BYTES = 32 * 1024 * 1024
# SECURITY: TIMEOUT_SECONDS bounds each socket operation only; a server
# trickling a byte at a time would keep a read going forever. One answer,
# headers to last byte, must arrive within this.
RESPONSE_SECONDS = 60
READ_CHUNK = 64 * 1024


class SourceError(Exception):
    """The source could not be read; `message` says why, in the user's words."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def check_url(url: str) -> str:
    """The URL without a trailing slash, or SourceError unless http(s) with a host."""
    parts = urllib.parse.urlsplit(url.strip())
    schemes = ("https", "http") if settings.SS12000_ALLOW_HTTP else ("https",)
    if parts.scheme not in schemes or not parts.netloc:
        raise SourceError(_("The address must start with https:// and name a server."))
    return url.strip().rstrip("/")


class Client:
    def __init__(
        self,
        *,
        base_url: str,
        token: str = "",
        client_id: str = "",
        client_secret: str = "",
        token_url: str = "",
        timeout: float = TIMEOUT_SECONDS,
        page_limit: int = PAGE_LIMIT,
    ):
        self.base_url = check_url(base_url)
        self._token = token
        self._client_id = client_id
        self._client_secret = client_secret
        self._token_url = check_url(token_url) if token_url else ""
        self.timeout = timeout
        self.page_limit = page_limit

    # --- Reading -------------------------------------------------------------

    def items(self, resource: str, *, modified_after: datetime.datetime | None = None) -> Iterator:
        """Every item of `resource`, page by page."""
        first = {"limit": str(self.page_limit)}
        if modified_after is not None:
            first["meta.modified.after"] = modified_after.isoformat()
        for body in self._pages(resource, first, {"limit": str(self.page_limit)}):
            items = body.get("data", body.get(resource))
            if not isinstance(items, list):
                raise SourceError(
                    _("The source's answer to /%(resource)s has no list of items.")
                    % {"resource": resource}
                )
            for item in items:
                if isinstance(item, dict):
                    yield item

    def _pages(self, resource: str, first: dict, following: dict) -> Iterator[dict]:
        """Each page's body: `first` as parameters, then `following` and the
        page token, until the token is null."""
        params = first
        seen_tokens: set[str] = set()
        for _page in range(MAX_PAGES):
            body = self._get_json(f"/{resource}", params)
            if not isinstance(body, dict):
                raise SourceError(
                    _("The source's answer to /%(resource)s has no list of items.")
                    % {"resource": resource}
                )
            yield body
            token = body.get("pageToken")
            if not token:
                return
            if not isinstance(token, str) or token in seen_tokens:
                raise SourceError(
                    _("The source's pages of /%(resource)s go round in a circle.")
                    % {"resource": resource}
                )
            seen_tokens.add(token)
            params = {**following, "pageToken": token}
        raise SourceError(
            _("The source's pages of /%(resource)s never end.") % {"resource": resource}
        )

    def deleted(self, *, after: datetime.datetime) -> dict[str, set[str]]:
        """Ids the source deleted after `after`, by type (`Person`, `Duty`, `Activity` …)."""
        deleted: dict[str, set[str]] = {}
        for item in self.items_deleted(after=after):
            for kind, ids in item.items():
                if isinstance(ids, list):
                    deleted.setdefault(kind.lower(), set()).update(str(i) for i in ids)
        return deleted

    def items_deleted(self, *, after: datetime.datetime) -> Iterator[dict]:
        for body in self._pages("deletedEntities", {"after": after.isoformat()}, {}):
            data = body.get("data", body)
            yield from (data if isinstance(data, list) else [data])

    # --- HTTP ----------------------------------------------------------------

    def _get_json(self, path: str, params: dict):
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(  # noqa: S310 (check_url: http(s) only)
            url, headers={"Authorization": f"Bearer {self._bearer()}", "Accept": "application/json"}
        )
        return self._send(request, what=path)

    def _bearer(self) -> str:
        if self._token:
            return self._token
        if not self._token_url:
            raise SourceError(_("The source has neither a token nor a token address."))
        basic = base64.b64encode(f"{self._client_id}:{self._client_secret}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 (check_url: http(s) only)
            self._token_url,
            data=urllib.parse.urlencode({"grant_type": "client_credentials"}).encode(),
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        body = self._send(request, what=_("the token address"))
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise SourceError(_("The token address gave no access token."))
        self._token = token
        return token

    def _send(self, request: urllib.request.Request, *, what: str):
        deadline = time.monotonic() + RESPONSE_SECONDS
        try:
            # check_url allows http(s) only.
            with _OPENER.open(request, timeout=self.timeout) as response:
                raw = _read(response, deadline=deadline, what=what)
        except urllib.error.HTTPError as error:
            raise SourceError(_http_message(error, what=what)) from None
        except TimeoutError:
            raise SourceError(
                _("The source did not answer within %(seconds)s seconds (%(what)s).")
                % {"seconds": int(self.timeout), "what": what}
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError | socket.timeout):
                raise SourceError(
                    _("The source did not answer within %(seconds)s seconds (%(what)s).")
                    % {"seconds": int(self.timeout), "what": what}
                ) from None
            raise SourceError(
                _("The source could not be reached (%(what)s): %(reason)s.")
                % {"what": what, "reason": reason}
            ) from None
        if len(raw) > MAX_PAGE_BYTES:
            raise SourceError(_("The source's answer is too large (%(what)s).") % {"what": what})
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise SourceError(
                _("The source's answer is not valid JSON (%(what)s).") % {"what": what}
            ) from None


class _RefuseRedirect(urllib.request.HTTPRedirectHandler):
    """SECURITY: urllib would follow a 30x with the Authorization header (the
    bearer token, the client secret) to wherever it points; instead the 30x
    is an error (`_http_message`)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirect)


def _read(response, *, deadline: float, what: str) -> bytes:
    """The body, chunk by chunk, or SourceError once past `deadline` or MAX_PAGE_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_PAGE_BYTES:
        if time.monotonic() > deadline:
            raise SourceError(
                _("The source did not finish its answer within %(seconds)s seconds (%(what)s).")
                % {"seconds": int(RESPONSE_SECONDS), "what": what}
            )
        chunk = response.read1(READ_CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _http_message(error: urllib.error.HTTPError, *, what: str) -> str:
    status = error.code
    if 300 <= status < 400:
        return _(
            "The source sent us on to another address (HTTP %(status)s, %(what)s), which the "
            "portal does not follow: enter the address the source answers at."
        ) % {"status": status, "what": what}
    if status in (401, 403):
        return _(
            "The source refused the credentials (HTTP %(status)s, %(what)s): check the token "
            "or the client id and secret."
        ) % {"status": status, "what": what}
    if status == 429:
        retry = (error.headers.get("Retry-After") or "").strip()
        if retry.isdigit():
            return _(
                "The source asks us to wait (HTTP 429, %(what)s): try again in %(seconds)s seconds."
            ) % {"what": what, "seconds": retry}
        return _("The source asks us to wait (HTTP 429, %(what)s): try again later.") % {
            "what": what
        }
    if status >= 500:
        return _("The source had an error of its own (HTTP %(status)s, %(what)s).") % {
            "status": status,
            "what": what,
        }
    message = ""
    try:
        body = json.loads(error.read(64 * 1024) or b"{}")
        if isinstance(body, dict):
            message = str(body.get("message") or body.get("code") or "")[:200]
    except (ValueError, OSError):
        pass
    text = _("The source answered HTTP %(status)s (%(what)s) %(message)s") % {
        "status": status,
        "what": what,
        "message": message,
    }
    return text.strip()
