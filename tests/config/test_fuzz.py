"""Never a 500 on input, and no-store wherever a logged-in person looks.

Walks every URL pattern of the resolver (both admin sites and their
autocomplete included) as each role, and sends each one junk: in its path
parameters, in its query, and in every field of every form its page shows
(junk text, NUL bytes, 10 kB strings, huge numbers, several values where one
is expected, control characters, files that are not files). Any 500 or
uncaught exception fails the test, naming the request.
"""

import re
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urljoin, urlparse

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLResolver, get_resolver

from accounts.models import User
from permissions.models import Membership
from tests.conftest import verify_session

pytestmark = pytest.mark.django_db


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


ROUTES = list(_walk(get_resolver().url_patterns))
ROUTE_IDS = [route or "/" for route, _pattern in ROUTES]

ROLES = ["anonymous", "teacher", "principal", "test_admin", "huvudman_staff", "national_admin"]

# What a person (or a script) may send where one value is expected.
JUNK = {
    "junk": "x'\"<script>;--\u202e\ufeff\x1b",  # markup, SQL, control characters
    "nul": "a\x00b",
    # Longer than every max_length (10,000 at most) and not ASCII. One "å" and
    # then ASCII: 10,000 "å" in each of ~30 query names made the server side
    # percent-decode 1.8 MB per request, most of the walk's time.
    "long": "å" + "x" * 10_000,
    "huge": "-" + "9" * 40,  # no integer or date holds it
    "many": ["1", "x", "\x01"],  # a list where one value is expected
}
# Query parameters pages and admin lists read, beside their forms' fields.
QUERY_NAMES = [
    "q", "page", "sida", "action", "state", "sort", "level", "subject", "kind", "role",
    "o", "p", "e", "_to_field", "_popup", "_changelist_filters", "next",
    "created_at__year", "created_at__month", "created_at__day", "status",
    "term", "app_label", "model_name", "field_name",
]  # fmt: skip


def _first_alternative(match: re.Match) -> str:
    name, body = match.group(1), match.group(2)
    if name == "url":
        return "finns-inte/"
    return body.split("|")[0].strip("()")


class Cast:
    """Real values for the path parameters, so that each view gets past its look-ups."""

    def __init__(self, *, grundskola, teacher, test_admin, principal, material):
        self.values = {
            "code": grundskola.code,
            "username": teacher.username,
            "action": "losenord",
            "slug": material.slug,
            "membership_id": str(Membership.objects.filter(user=teacher).first().pk),
            "content_type_id": str(ContentType.objects.get_for_model(User).pk),
        }
        self.test_admin = test_admin
        self.principal = principal

    def concrete(self, route: str, pattern, junk: str | None = None, only: str = "") -> str:
        """The route with its parameters filled in: real values, or `junk` in `only`."""
        model_admin = getattr(pattern.callback, "model_admin", None)

        def value(name: str) -> str:
            if junk is not None and name == only:
                return quote(junk, safe="")
            if name == "object_id":
                obj = model_admin.get_queryset_for_fuzz() if model_admin else None
                return str(obj.pk) if obj is not None else "1"
            if name == "username" and "provadministratorer" in route:
                return self.test_admin.username
            return self.values.get(name, "x")

        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m.group(1)), route)
        path = re.sub(r"\(\?P<(\w+)>([^)]*\)?)\)", _first_alternative, path)
        return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def _first_object(model_admin):
    return model_admin.model._default_manager.order_by("pk").first()


@pytest.fixture
def cast(grundskola, teacher, test_admin, principal):
    from django.contrib.admin import ModelAdmin

    from tests.fixtures.material import make_material

    ModelAdmin.get_queryset_for_fuzz = lambda self: _first_object(self)
    yield Cast(
        grundskola=grundskola,
        teacher=teacher,
        test_admin=test_admin,
        principal=principal,
        material=make_material("fuzz-prov"),
    )
    del ModelAdmin.get_queryset_for_fuzz


@pytest.fixture
def clients(cast, teacher, huvudman_staff, national_admin):
    people = {
        "teacher": teacher,
        "principal": cast.principal,
        "test_admin": cast.test_admin,
        "huvudman_staff": huvudman_staff,
        "national_admin": national_admin,
    }
    made = {"anonymous": (Client(raise_request_exception=False), None)}
    for role, user in people.items():
        client = Client(raise_request_exception=False)
        made[role] = (_log_in(client, user), user)
    return made


def _log_in(client: Client, user: User) -> Client:
    if user.is_teacher:
        client.force_login(user)
        return client
    return verify_session(client, user)


class Forms(HTMLParser):
    """The forms of a page: action, method and field names (with file inputs)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": attrs.get("action") or "",
                    "method": (attrs.get("method") or "get").lower(),
                    "fields": set(),
                    "files": set(),
                }
            )
        elif tag in {"input", "select", "textarea", "button"} and self.forms and attrs.get("name"):
            kind = (attrs.get("type") or "").lower()
            target = self.forms[-1]["files" if kind == "file" else "fields"]
            target.add(attrs["name"])


def _forms(response) -> list[dict]:
    if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
        return []
    parser = Forms()
    parser.feed(response.content.decode(errors="replace"))
    return parser.forms


def _data(fields, files, value) -> dict:
    data = {name: value for name in fields if name != "csrfmiddlewaretoken"}
    for name in files:
        text = value if isinstance(value, str) else "\n".join(value)
        data[name] = SimpleUploadedFile("fuzz.csv", text.encode(errors="replace"), "text/csv")
    return data


class Failures:
    def __init__(self):
        self.seen: list[str] = []
        self.requests = 0

    def check(self, response, role: str, method: str, url: str, kind: str) -> None:
        self.requests += 1
        if response.status_code >= 500:
            self.seen.append(f"{role} {method} {url[:120]!r} ({kind}): {response.status_code}")


def _keep_logged_in(clients, role):
    client, user = clients[role]
    if user is not None and "_auth_user_id" not in client.session:
        _log_in(client, user)
    return client


# A role the page turns away (redirect, 403, 404) gets these kinds only: the
# refusal happens before any input is read, and the walk stays fast enough
# for every run of the suite.
TURNED_AWAY = ("long", "many")
LOGOUTS = {"/logga-ut/", "/admin/logout/", "/huvudman/logout/"}


def _post_targets(url: str, forms: list[dict], query_names: set[str]) -> dict[str, dict]:
    """Each place the page's POST forms send to, with the union of their fields
    (the header's logout form is left out: logging out is its own route)."""
    targets: dict[str, dict] = {url: {"fields": set(query_names), "files": {"file"}}}
    for form in forms:
        if form["method"] != "post":
            continue
        target = urljoin(url, form["action"]) if form["action"] else url
        if urlparse(target).netloc or urlparse(target).path in LOGOUTS:
            continue
        entry = targets.setdefault(target, {"fields": set(), "files": set()})
        entry["fields"] |= form["fields"]
        entry["files"] |= form["files"]
    return targets


@pytest.mark.parametrize(("route", "pattern"), ROUTES, ids=ROUTE_IDS)
def test_every_url_pattern_as_every_role_answers_junk_without_a_500_and_stores_nothing(
    route, pattern, cast, clients
):
    failures = Failures()
    cacheable: list[str] = []
    params = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)
    names = [a or b for a, b in params]
    url = cast.concrete(route, pattern)
    for role in ROLES:
        client = _keep_logged_in(clients, role)
        page = client.get(url)
        failures.check(page, role, "GET", url, "real")
        # SECURITY: what a logged-in person sees is kept in no cache.
        control = page.get("Cache-Control", "")
        if role != "anonymous" and page.status_code == 200 and "no-store" not in control:
            cacheable.append(f"{role}: {control or 'no Cache-Control'}")
        forms = _forms(page)
        reached = page.status_code in (200, 405)
        kinds = {kind: value for kind, value in JUNK.items() if reached or kind in TURNED_AWAY}
        # Junk in each path parameter.
        for name in names:
            for kind, value in kinds.items():
                if isinstance(value, str):
                    junk_url = cast.concrete(route, pattern, junk=value, only=name)
                    response = client.get(junk_url)
                    failures.check(response, role, "GET", junk_url, f"{name}={kind}")
        # Junk in the query: the page's own GET forms' fields and the usual names.
        query_names = set(QUERY_NAMES)
        for form in forms:
            if form["method"] == "get":
                query_names |= form["fields"]
        for kind, value in kinds.items():
            query = urlencode({name: value for name in query_names}, doseq=True)
            response = client.get(f"{url}?{query}")
            failures.check(response, role, "GET", url, f"query {kind}")
        # Junk in every field of every form on the page, posted where the form
        # posts, and in a POST to the URL itself.
        for target, form in _post_targets(url, forms, query_names).items():
            for kind, value in kinds.items():
                response = client.post(target, _data(form["fields"], form["files"], value))
                failures.check(response, role, "POST", target, f"form {kind}")
                client = _keep_logged_in(clients, role)
    assert not failures.seen, "\n".join(failures.seen)
    assert not cacheable, f"{url} may be cached: " + "; ".join(cacheable)
    assert failures.requests >= len(ROLES) * (1 + 2 * len(TURNED_AWAY))


def test_the_walk_covers_both_admin_sites_and_their_autocomplete():
    routes = [route for route, _pattern in ROUTES]
    assert "admin/autocomplete/" in routes and "huvudman/autocomplete/" in routes
    assert any(route.startswith("huvudman/schools/principal/") for route in routes)
    assert "e-tjanster/skolor/<str:code>/larare/<str:username>/ta-bort/" in routes
    assert len(routes) > 150
