"""One refusal type: a code, its parameters, and the Swedish sentence for it."""

import datetime

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

from core.middleware import RefusedMiddleware
from core.refusals import REFUSAL_MESSAGES, RefusalCode, Refused


def test_every_code_has_a_message():
    assert set(REFUSAL_MESSAGES) == set(RefusalCode)


def test_the_message_is_swedish_and_fills_in_a_date_the_swedish_way():
    with translation.override("sv"):
        refused = Refused(RefusalCode.REACTIVATION_NOT_OPEN, date=datetime.date(2027, 7, 31))
        assert "31 juli 2027" in refused.message
        assert refused.message.startswith("Redan giltig")
    assert refused.code == "reactivation_not_open"


def test_a_code_that_does_not_exist_is_a_programming_error():
    with pytest.raises(ValueError):
        Refused("no_such_code")


def test_a_refusal_no_view_caught_is_a_403_page_naming_the_reason(db):
    request = RequestFactory().post("/e-tjanster/")

    def view(request):
        return HttpResponse("not reached")

    middleware = RefusedMiddleware(view)
    with translation.override("sv"):
        response = middleware.process_exception(request, Refused(RefusalCode.NOT_ALLOWED))
    assert response.status_code == 403
    assert "Du får inte göra detta." in response.content.decode()
    assert middleware.process_exception(request, ValueError("other")) is None
