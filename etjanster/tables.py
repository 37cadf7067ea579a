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

import html
from collections.abc import Iterable
from typing import TYPE_CHECKING

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


def _escaped(value) -> str:
    """What format_html does to each value (Django's conditional_escape),
    without its lazy-string wrapper: a hundred rows of a dozen values each
    spent more in that wrapper than in the escaping."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def teacher_rows_html(rows: Iterable[dict]) -> SafeString:
    """`rows` as `etjanster.views.teacher_list._teacher_rows` builds them;
    TEACHER_ROW's markup, each value escaped, the labels once per page."""
    # Each msgid literal, so that makemessages finds it.
    slip, username, subjects = (
        _escaped(_("Choose")),
        _escaped(_("Username")),
        _escaped(_("Subjects")),
    )
    valid_until, state = _escaped(_("Valid until")), _escaped(_("State"))
    lines = []
    # The row's own values are plain text (`_teacher_rows`), so html.escape
    # is what conditional_escape does to them; the state tag may be markup.
    escape = html.escape
    # PERFORMANCE: what many rows share (a date, a list of subjects, the
    # state's tag: the same dict in every row of that state) is escaped once.
    shared: dict[str, str] = {}
    # (The tag dict is kept beside its markup so that its id is not reused.)
    tags: dict[int, tuple[dict, str]] = {}
    for row in rows:
        name = escape(row["username"])
        subjects_text, valid_until_text, state_tag = (
            row["subjects"],
            row["valid_until"],
            row["state"],
        )
        if (subjects_html := shared.get(subjects_text)) is None:
            subjects_html = shared[subjects_text] = escape(subjects_text)
        if (valid_until_html := shared.get(valid_until_text)) is None:
            valid_until_html = shared[valid_until_text] = escape(valid_until_text)
        if (tag := tags.get(id(state_tag))) is None:
            tag = tags[id(state_tag)] = (
                state_tag,
                f'<span class="tag tag-{_escaped(state_tag["css"])}">'
                f"{_escaped(state_tag['label'])}</span>",
            )
        lines.append(
            f'<tr><td data-label="{slip}"><input type="checkbox" name="teacher" value="{name}"'
            f' id="slip-{escape(str(row["pk"]))}" aria-label="{escape(row["slip_label"])}"></td>'
            f'<th scope="row"><a href="{escape(row["url"])}">{escape(row["name"])}</a></th>'
            f'<td data-label="{username}"><code>{name}</code></td>'
            f'<td data-label="{subjects}"><span lang="sv">{subjects_html}</span></td>'
            f'<td data-label="{valid_until}">{valid_until_html}</td>'
            f'<td data-label="{state}">{tag[1]}</td></tr>'
        )
    return SafeString("\n".join(lines))


LOG_ROW = (
    '<tr><td data-label="{}">{}</td><td data-label="{}">{}</td>'
    '<td data-label="{}">{}{}</td><td data-label="{}">{}</td>'
    '<td data-label="{}">{}</td><td data-label="{}">{}</td></tr>'
)


def log_rows_html(rows: Iterable["EventRow"]) -> SafeString:
    """One row per event (`permissions.event_rows.event_rows`): time, action,
    who (with their role), what it concerns, details, from which address;
    LOG_ROW's markup, each value escaped, the labels once per page."""
    time, action, by = _escaped(_("Time")), _escaped(_("Action")), _escaped(_("By"))
    concerns, details = _escaped(_("Concerns")), _escaped(_("Details"))
    address = _escaped(_("From address"))
    lines = []
    for row in rows:
        role = (
            f'<br><span class="muted">{_escaped(row.actor_role)}</span>' if row.actor_role else ""
        )
        lines.append(
            f'<tr><td data-label="{time}">{_escaped(row.time.strftime("%Y-%m-%d %H:%M"))}</td>'
            f'<td data-label="{action}">{_escaped(row.action)}</td>'
            f'<td data-label="{by}">{_escaped(row.actor)}{role}</td>'
            f'<td data-label="{concerns}">{_escaped(row.target or "–")}</td>'
            f'<td data-label="{details}">{_escaped(row.details or "–")}</td>'
            f'<td data-label="{address}">{_escaped(row.event.ip_address or "–")}</td></tr>'
        )
    return SafeString("\n".join(lines))
