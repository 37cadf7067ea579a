"""PlainSelect writes the same HTML as Django's Select, only faster."""

import pytest
from django import forms
from django.test.html import parse_html
from django.utils import translation
from django.utils.translation import gettext_lazy

from core.widgets import PlainSelect
from permissions.models import Subject
from portal.forms import CatalogueFilterForm

CHOICES = [("", "Alla"), ("a", "A & B"), ("Grupp", [("x", "X <y>"), ("a", "igen")]), ("z", "Z")]


def form_class(widget, required):
    class Form(forms.Form):
        choice = forms.ChoiceField(choices=CHOICES, required=required, widget=widget)

    return Form


@pytest.mark.parametrize("data", [{}, {"choice": "a"}, {"choice": "x"}, {"choice": "nope"}])
@pytest.mark.parametrize("required", [True, False])
@pytest.mark.parametrize("bound", [True, False])
def test_plain_select_renders_what_djangos_select_renders(data, required, bound):
    def rendered(widget):
        form_type = form_class(widget, required)
        form = form_type(data) if bound else form_type(initial=data)
        return parse_html(str(form["choice"]))

    assert rendered(PlainSelect) == rendered(forms.Select)


def test_only_the_first_option_with_the_value_is_selected():
    html = str(form_class(PlainSelect, False)({"choice": "a"})["choice"])
    assert html.count(" selected") == 1
    assert '<option value="a" selected>A &amp; B</option>' in html
    assert "X &lt;y&gt;" in html


def test_the_catalogue_subject_filter_lists_every_subject_with_its_level(db):
    html = str(CatalogueFilterForm({"subject": "GRGRMAT01"})["subject"])
    assert html.count("<option") == Subject.objects.count() + 1
    assert '<option value="GRGRMAT01" selected>Matematik (grundskola)</option>' in html
    assert '<option value="MAT">Matematik (gymnasial)</option>' in html


def test_a_kept_select_follows_its_choices_and_language():
    """The markup is kept per input, and the choices and the language are
    inputs: a subject added, renamed or shown in English is never stale."""

    def rendered(choices):
        return PlainSelect(choices=choices).render("subject", "a", {"id": "subject"})

    first = rendered([("a", "Matematik")])
    assert rendered([("a", "Matematik")]) == first
    assert "Matematik 1" in rendered([("a", "Matematik 1")])
    assert 'value="b"' in rendered([("a", "Matematik"), ("b", "Svenska")])
    lazy = [("", gettext_lazy("All"))]
    with translation.override("sv"):
        swedish = rendered(lazy)
    with translation.override("en"):
        english = rendered(lazy)
    assert (">Alla<" in swedish, ">All<" in english) == (True, True)
