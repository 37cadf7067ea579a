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
        params = {"limit": str(self.page_limit)}
        if modified_after is not None:
            params["meta.modified.after"] = modified_after.isoformat()
        seen_tokens: set[str] = set()
        for _page in range(MAX_PAGES):
            body = self._get_json(f"/{resource}", params)
            items = body.get("data", body.get(resource)) if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise SourceError(
                    _("The source's answer to /%(resource)s has no list of items.")
                    % {"resource": resource}
                )
            for item in items:
                if isinstance(item, dict):
                    yield item
            token = body.get("pageToken")
            if not token:
                return
            if not isinstance(token, str) or token in seen_tokens:
                raise SourceError(
                    _("The source's pages of /%(resource)s go round in a circle.")
                    % {"resource": resource}
                )
            seen_tokens.add(token)
            params = {"limit": str(self.page_limit), "pageToken": token}
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
        params = {"after": after.isoformat()}
        body = self._get_json("/deletedEntities", params)
        if not isinstance(body, dict):
            raise SourceError(_("The source's answer to /deletedEntities has no list of items."))
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
        try:
            # check_url allows http(s) only.
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                raw = response.read(MAX_PAGE_BYTES + 1)
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


def _http_message(error: urllib.error.HTTPError, *, what: str) -> str:
    status = error.code
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
