"""`{% constant %}` writes its markup once per language, and refuses anything
that could depend on the page: a variable, a filter, another tag."""

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.utils import translation

SOURCE = (
    "{% load i18n static site %}"
    "{% constant %}<a href=\"{% url 'support:help' %}\">{% translate 'Help' %}</a>"
    "<link href=\"{% static 'css/site.css' %}\">{% endconstant %}"
)


def test_the_markup_is_the_same_as_without_the_tag_in_each_language(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    once = Template(SOURCE)
    plain = Template(SOURCE.replace("{% constant %}", "").replace("{% endconstant %}", ""))
    for language in ("sv", "en", "sv"):
        with translation.override(language):
            assert once.render(Context()) == plain.render(Context())
    with translation.override("sv"):
        assert "Hjälp" in once.render(Context())
    with translation.override("en"):
        assert "Help" in once.render(Context())


@pytest.mark.parametrize(
    "inside",
    [
        "{{ user }}",
        "{% translate name %}",
        "{% translate 'Help' as help %}",
        "{% url 'etjanster:teacher_list' code %}",
        "{% url 'support:help' as link %}",
        "{% static path %}",
        "{% if x %}x{% endif %}",
        "{% csrf_token %}",
        "{{ 'a'|upper }}",
        "{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}",
        "{% blocktranslate with name=user %}Hi {{ name }}{% endblocktranslate %}",
        "{% blocktranslate count n=3 %}one{% plural %}many{% endblocktranslate %}",
        "{% blocktranslate asvar text %}Hi{% endblocktranslate %}",
    ],
)
def test_anything_that_could_depend_on_the_page_is_refused(inside):
    with pytest.raises(TemplateSyntaxError, match="constant"):
        Template("{% load i18n static site %}{% constant %}" + inside + "{% endconstant %}")


def test_a_blocktranslate_of_text_alone_is_constant():
    source = (
        "{% load i18n site %}{% constant %}{% blocktranslate trimmed %}\n  Help\n"
        "{% endblocktranslate %}{% endconstant %}"
    )
    with translation.override("sv"):
        assert Template(source).render(Context()) == "Hjälp"
