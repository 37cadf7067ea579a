"""The rows of E-tjänster's two busiest tables, the teacher list and the log,
rendered here instead of in a template loop.

PERFORMANCE: profiled under load, the teacher list spent most of its time in
the template's per-row work: each `{{ }}` of each row costs Django's
template engine some thirty function calls (lookup, localization, escaping),
plus an include, a URL reversal, a date filter and translations per row.
Here each row is one `format_html` call, which escapes every value as the
template would; what is the same for every row (translations, the link's
pattern, each distinct date) is worked out once per page. The table's head,
caption and everything around it stay in the templates. The `data-label`s
name each cell where a narrow screen stacks the table (`table.stack`).
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from permissions.event_rows import EventRow

TEACHER_ROW = (
    "<tr>"
    '<td data-label="{}"><input type="checkbox" name="teacher" value="{}" id="slip-{}"'
    ' aria-label="{}"></td>'
    '<th scope="row"><a href="{}">{}</a></th>'
    '<td data-label="{}"><code>{}</code></td>'
    '<td data-label="{}"><span lang="sv">{}</span></td>'
    '<td data-label="{}">{}</td>'
    '<td data-label="{}"><span class="tag tag-{}">{}</span></td>'
    "</tr>"
)


def teacher_rows_html(rows: Iterable[dict]) -> SafeString:
    """`rows` as `etjanster.views.teacher_list._teacher_rows` builds them."""
    slip, username, subjects = _("Choose"), _("Username"), _("Subjects")
    valid_until, state = _("Valid until"), _("State")
    return format_html_join(
        "\n",
        TEACHER_ROW,
        (
            (
                slip,
                row["username"],
                row["pk"],
                row["slip_label"],
                row["url"],
                row["name"],
                username,
                row["username"],
                subjects,
                row["subjects"],
                valid_until,
                row["valid_until"],
                state,
                row["state"]["css"],
                row["state"]["label"],
            )
            for row in rows
        ),
    )


LOG_ROW = (
    '<tr><td data-label="{}">{}</td><td data-label="{}">{}</td>'
    '<td data-label="{}">{}{}</td><td data-label="{}">{}</td>'
    '<td data-label="{}">{}</td><td data-label="{}">{}</td></tr>'
)


def log_rows_html(rows: Iterable["EventRow"]) -> SafeString:
    """One row per event (`permissions.event_rows.event_rows`): time, action,
    who (with their role), what it concerns, details, from which address."""
    time, action, by = _("Time"), _("Action"), _("By")
    concerns, details, address = _("Concerns"), _("Details"), _("From address")
    return format_html_join(
        "\n",
        LOG_ROW,
        (
            (
                time,
                row.time.strftime("%Y-%m-%d %H:%M"),
                action,
                row.action,
                by,
                row.actor,
                format_html('<br><span class="muted">{}</span>', row.actor_role)
                if row.actor_role
                else "",
                concerns,
                row.target or "–",
                details,
                row.details or "–",
                address,
                row.event.ip_address or "–",
            )
            for row in rows
        ),
    )
