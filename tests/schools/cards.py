"""Answering a matrix card in tests, the way the login's card step does."""

import re

from django.test import override_settings

from accounts.models import (
    LOCK_AFTER_FAILURES,
    CardState,
)
from accounts.services.cards import (
    AnswerOutcome,
    card_answer,
    card_challenge,
    current_card,
)
from audit.context import AuditContext


def answer(user, cells: dict[str, str]) -> bool:
    """Ask for the pinned challenge and answer it from `cells`: accepted?"""
    asked = card_challenge(user=user)
    answers = {cell: cells[cell] for cell in asked}
    result = card_answer(user=user, answers=answers, context=AuditContext.system())
    return result.outcome == AnswerOutcome.ACCEPTED


def lock_card(user) -> None:
    """Five wrong answers in a row, without waiting out the growing delay."""
    with override_settings(OTP_MATRIX_THROTTLE_FACTOR=0):
        for _ in range(LOCK_AFTER_FAILURES):
            asked = card_challenge(user=user)
            card_answer(
                user=user, answers={cell: "??" for cell in asked}, context=AuditContext.system()
            )
    assert current_card(user=user).state == CardState.LOCKED


def page_cells(page: str) -> dict[str, str]:
    """The card's cells as the credentials page shows them."""
    columns = "ABCDEFGH"
    cells = {}
    for row, tds in re.findall(r'<th scope="row">(\d+)</th>(.*?)</tr>', page, re.S):
        for column, value in zip(columns, re.findall(r"<code>(\w\w)</code>", tds), strict=True):
            cells[f"{column}{row}"] = value
    return cells
