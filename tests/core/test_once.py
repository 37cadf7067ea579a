"""`core.once`: the act and the spending of its form's token are one
transaction (a review found the session-based first version racy)."""

import datetime

import pytest
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import User
from core.models import SpentFormToken
from core.once import Repeated, once_repeated, spent_once
from core.refusals import RefusalCode, Refused

pytestmark = pytest.mark.django_db


def posted(user, token="tok-1"):
    request = RequestFactory().post("/", {"once": token, "confirm": "yes"})
    request.user = user
    return request


def test_an_act_spends_its_token_and_a_repeat_is_seen(principal):
    request = posted(principal)
    assert not once_repeated(request)
    with spent_once(request):
        User.objects.filter(pk=principal.pk).update(first_name="Efter")
    assert once_repeated(request)
    assert not once_repeated(posted(principal, "tok-2"))


def test_a_token_spent_meanwhile_by_another_request_rolls_this_act_back(principal):
    """Two sends at once both pass the check before acting; the unique pair
    stops the later one inside its transaction, act included."""
    request = posted(principal)
    with pytest.raises(Repeated), spent_once(request):
        User.objects.filter(pk=principal.pk).update(first_name="Dubbel")
        # Stands for the other request's spend, there first (on PostgreSQL
        # the later INSERT waits for it and then fails the same way).
        SpentFormToken.objects.create(user=principal, token="tok-1")
    # The act went with the failed spend.
    assert User.objects.get(pk=principal.pk).first_name != "Dubbel"


def test_a_refused_act_spends_nothing_so_the_form_may_be_sent_again(principal):
    request = posted(principal)
    with pytest.raises(Refused), spent_once(request):
        raise Refused(RefusalCode.NOT_ALLOWED)
    assert not once_repeated(request)


def test_tokens_are_per_user_and_old_ones_are_pruned(principal, teacher):
    SpentFormToken.objects.create(
        user=principal, token="old", spent_at=timezone.now() - datetime.timedelta(days=2)
    )
    with spent_once(posted(principal)):
        pass
    assert not once_repeated(posted(teacher))  # another user's token is not this one's
    assert set(SpentFormToken.objects.values_list("token", flat=True)) == {"tok-1"}


def test_a_form_without_a_token_or_with_a_huge_one_acts_as_before(principal):
    for token in ("", "x" * 65):
        with spent_once(posted(principal, token)):
            pass
    assert not SpentFormToken.objects.exists()
