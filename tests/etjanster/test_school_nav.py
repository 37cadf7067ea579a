"""The school pages' navigation, written once per language and set of links
(`{% school_nav %}`), is the links template's markup for every school."""

import itertools
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from etjanster.templatetags.school_nav import FLAGS


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_navigation_is_the_links_templates_markup(language):
    schools = [
        SimpleNamespace(code="11111111", name="Testskolan F–9"),
        SimpleNamespace(code="22222222", name='Å <b> & "q" \'s SchoolNavName7340021'),
        SimpleNamespace(code="SchoolNavName7340021", name="SchoolNavCode7340021"),
        # A code the URL quotes is written by the template itself.
        SimpleNamespace(code="a b&c", name="Skolan"),
    ]
    with translation.override(language):
        for school, shown in itertools.product(schools, itertools.product((False, True), repeat=4)):
            context = {"school_unit": school, **dict(zip(FLAGS, shown, strict=True))}
            expected = render_to_string("etjanster/_school_nav_links.html", context)
            assert render_to_string("etjanster/_school_nav.html", context) == expected
            # And again, from what the first page kept.
            assert render_to_string("etjanster/_school_nav.html", context) == expected


def test_the_links_follow_what_the_policy_answered(principal_client, grundskola):
    html = principal_client.get(f"/e-tjanster/skolor/{grundskola.code}/logg/").content.decode()
    assert f'<a href="/e-tjanster/skolor/{grundskola.code}/larare/">' in html
    assert f"Testskolan F–9 ({grundskola.code})" in html
