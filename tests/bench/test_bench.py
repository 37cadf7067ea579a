"""`make bench`'s own pieces: the bench-only URLs stay out of production, and
the loader builds the cast the run logs in with."""

import pytest
from django.db import connection
from django.test import RequestFactory
from django.urls import Resolver404, resolve

from bench import views
from bench.data import SCHOOL_A, SCHOOL_B, username_for


def test_the_hello_views_exist_only_in_the_bench_urlconf(client, db):
    assert resolve("/bench/hello/", urlconf="bench.urls").func is views.hello
    assert resolve("/bench/admin/", urlconf="bench.urls")
    with pytest.raises(Resolver404):
        resolve("/bench/hello/")
    assert client.get("/bench/hello/").status_code == 404
    assert client.get("/bench/admin/").status_code == 404


def test_the_logged_in_hello_refuses_a_request_without_a_login():
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/bench/hello/inloggad/")
    request.user = AnonymousUser()
    assert views.hello_logged_in(request).status_code == 403


def test_generated_usernames_never_collide():
    names = {username_for(number) for number in range(1, 160_001)}
    assert len(names) == 160_000
    assert all(len(name) == 8 for name in list(names)[:100])


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the loader uses COPY (PostgreSQL; CI runs it)"
)
def test_the_loader_builds_the_cast_that_the_run_logs_in_with(settings):
    from accounts.models import MatrixCardDevice, User, cell_mac
    from bench.data import A_TEACHERS, B_TEACHERS, load
    from permissions.models import Membership
    from portal.models import Material

    cast = load("single")

    assert cast["counts"]["school_units"] == 2
    assert Membership.objects.filter(school_unit__code=SCHOOL_A).count() == A_TEACHERS
    assert Membership.objects.filter(school_unit__code=SCHOOL_B).count() == B_TEACHERS
    principal = User.objects.get(username=cast["principal"]["username"])
    assert principal.led_school_units.count() == 2
    card = MatrixCardDevice.objects.get(user=principal)
    assert card.cell_macs["A1"] == cell_mac(
        user_id=principal.pk, serial=card.serial, cell="A1", value=cast["principal"]["card"]["A1"]
    )
    teacher = User.objects.get(username=cast["teacher"]["username"])
    assert teacher.check_password(cast["password"])
    assert teacher.memberships.count() == 2
    assert len(cast["login_teachers"]) >= 4
    assert Material.objects.filter(slug=cast["material"], is_protected=True).exists()
    # The ids handed out continue after the copied rows.
    assert User.objects.create(username="ny", role="teacher").pk > teacher.pk
