"""A small HTTP client for the tests against real servers: keeps cookies
itself, follows no redirects, fills in the CSRF token, and can send from
another loopback address.

Production settings mark cookies Secure; a browser would not send them over
the plain HTTP these tests use between loopback processes, so the client
keeps its own cookie jar and sends them regardless.
"""

import http.client
import re
import uuid
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_COOKIE = "__Host-csrftoken"
SESSION_COOKIE = "__Host-sessionid"


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    @property
    def upstream(self) -> str:
        """Which app server answered, as nginx saw it (X-Upstream, test only)."""
        return self.headers.get("X-Upstream", "")


class Browser:
    def __init__(self, port: int, source: str = "127.0.0.1"):
        self.port = port
        self.source = source
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(self.source, 0)
        )
        all_headers = {"Host": "127.0.0.1", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=all_headers)
            raw = connection.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def _csrf(self, path: str) -> str:
        if CSRF_COOKIE not in self.cookies:
            self.get(path)
        return self.cookies[CSRF_COOKIE]

    def post(
        self, path: str, data: dict, headers: dict[str, str] | None = None, csrf_from: str = ""
    ) -> Response:
        """A form post with the CSRF token (the cookie is fetched from
        `csrf_from`, or `path`, when there is none yet)."""
        fields = {"csrfmiddlewaretoken": self._csrf(csrf_from or path), **data}
        body = urlencode(fields, doseq=True).encode()
        return self.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )

    def post_multipart(
        self, path: str, data: dict, files: dict[str, tuple[str, bytes, str]], csrf_from: str = ""
    ) -> Response:
        fields = {"csrfmiddlewaretoken": self._csrf(csrf_from or path), **data}
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        for name, (filename, content, content_type) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                + content
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            "POST",
            path,
            body=b"".join(parts),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )


def asked_cells(page: str) -> list[str]:
    return re.findall(r'name="([A-H](?:10|[1-9]))"', page)
