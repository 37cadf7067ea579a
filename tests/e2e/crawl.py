"""A crawler for the accessibility tests: every same-site page a person can
reach by following links, checked as a person with any of many needs would.

On each page: axe-core with the WCAG 2.1 A and AA rules (no violation of any
impact), no sideways scrolling at 320 CSS px (WCAG 1.4.10), the page's
`<html lang>`, image alt texts that are words (not the admin's "True"),
field borders at 3:1 against their surroundings (WCAG 1.4.11, which axe does
not check), and `novalidate` on every form with a required field (the
server's Swedish messages and the error summary, not the browser's bubble).

Pages are grouped by their URL route, language and query-parameter names;
a few of each group are visited, so a new page is covered the day a link to
it appears, without the crawl growing with the number of rows.
"""

import collections
import dataclasses
import time
import urllib.parse

from axe_playwright_python.sync_playwright import Axe
from django.urls import Resolver404, resolve
from django.utils import translation
from playwright.sync_api import Page

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 720}
# Links that end a session or hand out a file are never followed.
SKIPPED_PATHS = ("/logga-ut/", "/fil/", "/jsi18n/", "/qrcode/", "/logout/")

_axe = Axe()

PAGE_CHECKS = r"""() => {
  const problems = [];
  for (const img of document.querySelectorAll("img")) {
    const alt = img.getAttribute("alt");
    if (["True", "False", "None"].includes(alt)) problems.push(`img alt="${alt}"`);
  }
  for (const form of document.querySelectorAll("form")) {
    if (form.querySelector("[required]") && !form.noValidate) {
      problems.push(`form ${form.id || form.action} has required fields but no novalidate`);
    }
  }
  // WCAG 1.4.11: a field's border against what surrounds it, at least 3:1.
  const channels = (colour) => (colour.match(/[\d.]+/g) || []).map(Number);
  const luminance = (colour) => {
    const [r, g, b] = channels(colour).slice(0, 3).map((value) => {
      const v = value / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const opaque = (colour) => { const c = channels(colour); return c.length < 4 || c[3] > 0; };
  const backdrop = (element) => {
    for (let el = element; el; el = el.parentElement) {
      const colour = getComputedStyle(el).backgroundColor;
      if (opaque(colour)) return colour;
    }
    return "rgb(255, 255, 255)";
  };
  const fields = document.querySelectorAll(
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit])" +
    ":not([type=button]), select, textarea");
  for (const field of fields) {
    const style = getComputedStyle(field);
    if (!field.getClientRects().length || parseFloat(style.borderBottomWidth) === 0) continue;
    const [a, b] = [luminance(style.borderBottomColor), luminance(backdrop(field.parentElement))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const name = field.name || field.id;
    if (ratio < 3) problems.push(`${name}: border contrast ${ratio.toFixed(2)}:1`);
  }
  return {lang: document.documentElement.lang, problems};
}"""


@dataclasses.dataclass
class Report:
    """What one crawl saw: the pages checked and every problem found."""

    pages: list[str] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    def merge(self, other: "Report") -> None:
        self.pages += other.pages
        self.problems += other.problems
        self.seconds += other.seconds


def language_of(path: str) -> str:
    return "en" if path == "/en/" or path.startswith("/en/") else "sv"


# The admin sites' pages that one template draws the same for every model.
ADMIN_GENERIC = ("_history", "_delete")


def route_of(path: str) -> str:
    """The route's name (language-independent), or the path when none matches.

    An admin site's history and delete pages are one route for all models.
    """
    with translation.override(language_of(path)):
        try:
            match = resolve(path)
        except Resolver404:
            return path
    name = match.view_name or path
    if match.namespace in ADMIN_SITES and name.endswith(ADMIN_GENERIC):
        return f"{match.namespace}:*{name[name.rindex('_') :]}"
    return name


ADMIN_SITES = {"admin", "huvudman"}


def group_of(url: str) -> tuple:
    """Pages that one view draws alike: route, language and, outside the admin
    sites (whose sorting and filter links are the same page), the names of
    the query parameters."""
    parts = urllib.parse.urlsplit(url)
    route = route_of(parts.path)
    query = ()
    if route.split(":", 1)[0] not in ADMIN_SITES:
        query = tuple(sorted(urllib.parse.parse_qs(parts.query, keep_blank_values=True)))
    return route, language_of(parts.path), query


def check_page(page: Page, label: str | None = None) -> Report:
    """Run every check on the page the browser shows now. After a click that
    leads to another page, wait for that page first (`expect` on something
    only it shows): axe run between two pages finds no document."""
    report = Report()
    url = page.url
    name = label or urllib.parse.urlsplit(url).path
    path = urllib.parse.urlsplit(url).path
    results = _axe.run(page, options=AXE_OPTIONS)
    for violation in results.response["violations"]:
        targets = [node["target"] for node in violation["nodes"]][:3]
        report.problems.append(f"{name}: axe {violation['id']} ({violation['impact']}) {targets}")
    facts = page.evaluate(PAGE_CHECKS)
    if facts["lang"] != language_of(path):
        report.problems.append(
            f"{name}: <html lang={facts['lang']!r}>, expected {language_of(path)}"
        )
    report.problems += [f"{name}: {problem}" for problem in facts["problems"]]
    page.set_viewport_size(NARROW)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    if width > NARROW["width"]:
        report.problems.append(f"{name}: scrolls sideways at 320 px (scrollWidth {width})")
    report.pages.append(name if label is None else label)
    return report


def crawl(
    page: Page,
    base: str,
    start: list[str],
    *,
    per_route: int = 2,
    limit: int = 150,
    skip: tuple[str, ...] = (),
) -> Report:
    """Follow every same-site link from `start` (paths), breadth first."""
    started = time.monotonic()
    report = Report()
    origin = urllib.parse.urlsplit(base)
    queue = collections.deque(base + path for path in start)
    queued = set(queue)
    visits: collections.Counter = collections.Counter()
    page.set_viewport_size(DESKTOP)
    while queue and len(report.pages) < limit:
        url = queue.popleft()
        group = group_of(url)
        if visits[group] >= per_route:
            continue
        visits[group] += 1
        response = page.goto(url)
        landed = urllib.parse.urlsplit(page.url)
        if landed.netloc != origin.netloc:
            continue
        content_type = (response.headers.get("content-type", "") if response else "").lower()
        if "text/html" not in content_type:
            continue
        shown = landed.path + (f"?{landed.query}" if landed.query else "")
        checked = check_page(page, label=shown)
        report.merge(checked)
        if response is not None and response.status >= 500:
            report.problems.append(f"{shown}: HTTP {response.status}")
        links = page.eval_on_selector_all(
            "a[href]:not([download])", "links => links.map(link => link.href)"
        )
        for link in links:
            target = urllib.parse.urlsplit(link)
            if target.scheme not in {"http", "https"} or target.netloc != origin.netloc:
                continue
            if any(part in target.path for part in SKIPPED_PATHS + skip):
                continue
            clean = urllib.parse.urlunsplit(target._replace(fragment=""))
            if clean not in queued:
                queued.add(clean)
                queue.append(clean)
    report.seconds = time.monotonic() - started
    return report
