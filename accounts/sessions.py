"""Ending a user's sessions when their account is deactivated or reactivated."""

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.models import User


def sessions_end(*, user: User) -> int:
    """Delete every live session of `user`; returns how many ended.

    SECURITY (ASVS 7.4.2): a deactivated user is already refused by the
    authentication backend, but its session row would stay, kept alive by
    SESSION_SAVE_EVERY_REQUEST, and work again after reactivation. A new
    password or card ends sessions by itself (the session hash, the
    unconfirmed old card); deactivation needs this.

    Sessions are stored signed, not indexed by user, so this reads every live
    session once: cheap at the sizes here (sessions idle out after 30
    minutes), and only ever run by an explicit staff action.
    """
    wanted = str(user.pk)
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == wanted
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)
