"""With no app server answering, nginx itself answers in Swedish.

nginx runs the shipped deploy/nginx/behorighet.conf unchanged, in front of an
upstream on which nothing listens: what a visitor meets while every app
server is down (a deploy gone wrong, a restart of all of them)."""

import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from tests.processes import free_port, start_nginx


@pytest.fixture(autouse=True)
def _postgresql_only():
    """No database here (the folder's rule is for app servers sharing one):
    this runs on SQLite too, wherever nginx is installed."""


@dataclass
class Nobody:
    """An upstream address with no server behind it."""

    port: int


def test_with_every_app_server_down_nginx_answers_the_swedish_unavailable_page(nginx, tmp_path):
    front = start_nginx([Nobody(free_port()), Nobody(free_port())], tmp_path)
    try:
        for path in ("/", "/e-tjanster/logga-in/", "/en/"):
            try:
                urllib.request.urlopen(f"{front.url}{path}", timeout=10)  # noqa: S310 - loopback
            except urllib.error.HTTPError as error:
                response, body = error, error.read().decode()
            else:
                raise AssertionError(f"{path} answered without an app server")
            assert response.code == 503
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            assert response.headers["Retry-After"] == "60"
            assert "no-store" in response.headers["Cache-Control"]
            assert '<html lang="sv">' in body
            assert "Tjänsten är tillfälligt otillgänglig" in body
            assert "Bad Gateway" not in body and "nginx" not in body
    finally:
        front.stop()
