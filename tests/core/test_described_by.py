"""Every aria-describedby on the site's pages names an element that exists
(a black-box walk found inputs pointing at help texts that were never given
their id)."""

import re

import pytest
from django.test import Client

from tests.conftest import verify_session

pytestmark = pytest.mark.django_db


def dangling(html: str) -> set[str]:
    ids = set(re.findall(r'\sid="([^"]+)"', html))
    named = {
        name for value in re.findall(r'aria-describedby="([^"]+)"', html) for name in value.split()
    }
    return named - ids


@pytest.mark.parametrize(
    "path", ["/bedomningsportalen/kod/", "/bedomningsportalen/logga-in/", "/e-tjanster/logga-in/"]
)
def test_public_forms_describe_their_fields_with_elements_that_exist(client, path):
    assert dangling(client.get(path).content.decode()) == set()


def test_the_principals_account_page_describes_with_elements_that_exist(principal):
    html = verify_session(Client(), principal).get("/e-tjanster/mitt-konto/").content.decode()
    assert "new_password1" in html
    assert dangling(html) == set()


def test_the_check_finds_a_dangling_reference():
    assert dangling('<input aria-describedby="x_helptext" id="x">') == {"x_helptext"}
