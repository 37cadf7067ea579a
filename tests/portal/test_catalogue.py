"""The catalogue: filters, marks, pagination, and a constant number of queries."""

import datetime

import pytest
from django import forms
from django.db import connection
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from permissions.models import MaterialLevel, Subject
from portal.models import Material, MaterialKind
from portal.views.catalogue import items_html
from tests.fixtures.material import make_material

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("school_day")]

URL = "/bedomningsportalen/"


def fill(count: int) -> None:
    """Add items up to `count`: mixed levels, subjects, open and protected, one shared file."""
    subjects = [
        (Subject.objects.get(code="GRGRMAT01"), MaterialLevel.GRUNDSKOLA),
        (Subject.objects.get(code="GRGRENG01"), MaterialLevel.GRUNDSKOLA),
        (Subject.objects.get(code="MAT"), MaterialLevel.GYMNASIAL),
    ]
    start = Material.objects.count()
    Material.objects.bulk_create(
        [
            Material(
                title=f"Material {index:03d}",
                slug=f"material-{index:03d}",
                subject=subjects[index % 3][0],
                level=subjects[index % 3][1],
                kind=MaterialKind.BEDOMNINGSSTOD,
                is_protected=bool(index % 2),
                protection_reason="upphovsratt" if index % 2 else "",
                file="material/shared.pdf",
            )
            for index in range(start, count)
        ]
    )


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("who", ["anonymous", "teacher"])
def test_catalogue_costs_the_same_queries_for_5_and_200_items(client, teacher, who):
    if who == "teacher":
        client.force_login(teacher)
    fill(5)
    few = queries_for(client, URL)
    fill(200)
    assert Material.objects.count() == 200
    many = queries_for(client, URL)
    assert few == many
    assert queries_for(client, URL + "?sida=3") == many
    # Filters and search add no queries either (the subject filter looks up its code).
    assert queries_for(client, URL + "?q=material&level=grundskola&kind=bedomningsstod") == many


def test_a_teacher_sees_which_protected_items_open_for_them(
    client, teacher, math_item, english_item, open_item
):
    client.force_login(teacher)
    html = client.get(URL).content.decode()
    math_entry = html[html.index(math_item.title) :][:600]
    english_entry = html[html.index(english_item.title) :][:600]
    assert "Öppnas för dig" in math_entry
    assert "Öppnas inte för dig" in english_entry
    assert "Öppet" in html[html.index(open_item.title) :][:600]


def test_anonymous_sees_open_and_protected_marks_but_no_personal_marks(
    client, math_item, open_item
):
    html = client.get(URL).content.decode()
    assert "Skyddat" in html
    assert "Öppet" in html
    assert "Öppnas för dig" not in html
    assert "Öppnas inte för dig" not in html


def test_catalogue_filters_by_level_subject_kind_and_searches_titles(client, db):
    make_material("grund-matte", title="Algebra i årskurs 9", protected=False)
    make_material(
        "gy-svenska",
        subject_code="SVE",
        level=MaterialLevel.GYMNASIAL,
        kind=MaterialKind.DIAGNOSTISKT,
        title="Läsförståelse",
    )

    def titles(query: str) -> set[str]:
        page = client.get(URL + query).context["page"]
        return {item["title"] for item in page.object_list}

    assert titles("") == {"Algebra i årskurs 9", "Läsförståelse"}
    assert titles("?level=gymnasial") == {"Läsförståelse"}
    assert titles("?subject=GRGRMAT01") == {"Algebra i årskurs 9"}
    assert titles("?kind=diagnostiskt") == {"Läsförståelse"}
    assert titles("?q=algebra") == {"Algebra i årskurs 9"}
    assert titles("?q=algebra&level=gymnasial") == set()


def test_an_invalid_filter_is_ignored_with_a_message_not_an_error(client, open_item):
    response = client.get(URL + "?level=universitet&subject=NOPE&q=" + "x" * 500)
    assert response.status_code == 200
    assert {item["slug"] for item in response.context["page"].object_list} == {open_item.slug}
    errors = response.context["form"].errors
    assert set(errors) == {"level", "subject", "q"}
    # An unknown subject gets a model choice's own message, as it always did.
    assert errors["subject"] == [
        str(forms.ModelChoiceField.default_error_messages["invalid_choice"])
    ]


def test_catalogue_is_paginated_keeping_the_filters(client, db):
    for index in range(25):
        make_material(f"m-{index:02d}", protected=False, title=f"Titel {index:02d}")
    first = client.get(URL + "?q=Titel")
    assert len(first.context["page"].object_list) == 20
    assert "?q=Titel&amp;sida=2" in first.content.decode()
    second = client.get(URL + "?q=Titel&sida=2")
    assert len(second.context["page"].object_list) == 5
    # A page number out of range shows the last page rather than failing.
    assert client.get(URL + "?sida=999").status_code == 200


# The loop the catalogue's template had before its items were written in
# Python (portal.views.catalogue.items_html): the reference markup.
ITEMS_TEMPLATE = """{% load i18n %}{% for material in items %}
  <li class="material-item">
    <h2><a href="{% url 'portal:material' material.slug %}" lang="sv">{{ material.title }}</a></h2>
    <p class="muted"><span lang="sv">{{ material.subject__name }}</span> · {{ material.level_display }} · {{ material.kind_display }} · {% translate "published" %} {{ material.published_on|date }}</p>
    <p>
      {% if material.is_protected %}<span class="tag tag-warn">{% translate "Protected" %}</span>{% else %}<span class="tag tag-ok">{% translate "Open" %}</span>{% endif %}
      {% if is_teacher and material.is_protected %}
        {% if material.opens %}<span class="tag tag-ok">{% translate "Opens for you" %}</span>{% else %}<span class="tag tag-error">{% translate "Does not open for you" %}</span>{% endif %}
      {% endif %}
    </p>
  </li>
  {% endfor %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["sv", "en"])
@pytest.mark.parametrize("is_teacher", [True, False])
def test_items_are_written_as_the_template_wrote_them(language, is_teacher):
    items = [
        {
            "slug": f"item-{number}",
            "title": 'Prov <"åk 9"> & mer',
            "subject__name": "Matematik",
            "level": MaterialLevel.GRUNDSKOLA if number % 2 else MaterialLevel.GYMNASIAL,
            "kind": MaterialKind.DIAGNOSTISKT,
            "published_on": datetime.date(2026, 8, number + 1),
            "is_protected": number != 0,
            "opens": number == 1,
        }
        for number in range(3)
    ]
    with translation.override(language):
        shown = [
            {
                **item,
                "level_display": dict(MaterialLevel.choices)[item["level"]],
                "kind_display": dict(MaterialKind.choices)[item["kind"]],
            }
            for item in items
        ]
        expected = (
            engines["django"]
            .from_string(ITEMS_TEMPLATE)
            .render({"items": shown, "is_teacher": is_teacher})
        )
        assert items_html(items, is_teacher=is_teacher) == expected
