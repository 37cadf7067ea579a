import pytest

from accounts.services.cards import card_issue
from audit.context import AuditContext


def answer_token(card, cells) -> str:
    """What the holder types for `cells`, in their order."""
    return "".join(card.cells[cell] for cell in cells)


@pytest.fixture
def principal_card(principal):
    return card_issue(user=principal, context=AuditContext.system())
