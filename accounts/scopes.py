"""Where an account's audit events belong: its school unit or huvudman.

Which school a test administrator serves, which huvudman a principal works
for and at which schools a teacher is a confirmed member are facts of the
apps above this one (schools, permissions). They hand this module their
answer once at start-up (`provide`, from `PermissionsConfig.ready`), so the
login and credential services here record events where each school and
huvudman reads them, without importing the layers above.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

from accounts.models import User


@dataclass(frozen=True)
class Scopes:
    # The one scope of an account's own events (credentials, card, sessions).
    home: Callable[[User], dict]
    # Where its logins are recorded (a teacher's: at each confirmed school).
    logins: Callable[[User], list[dict]]


_provided: Scopes | None = None


def provide(scopes: Scopes) -> None:
    global _provided
    _provided = scopes


def _scopes() -> Scopes:
    if _provided is None:
        raise ImproperlyConfigured("No app provided the accounts' audit scopes.")
    return _provided


def home_scope(user: User) -> dict:
    """The school unit (or huvudman) an account's audit events belong to."""
    return _scopes().home(user)


def login_scopes(user: User) -> list[dict]:
    """Where a login of `user` is recorded; at least one scope (maybe `{}`)."""
    return _scopes().logins(user) or [{}]


def given_or_home_scope(user: User, *, school_unit=None, huvudman=None) -> dict:
    """The scope a caller names, else the account's own."""
    if school_unit is not None:
        return {"school_unit": school_unit}
    if huvudman is not None:
        return {"huvudman": huvudman}
    return home_scope(user)
