"""Paths in the language of the page being served.

The public-contract paths (settings such as ETJANSTER_LOGIN_URL, the links
printed on slips) are the Swedish ones. English lives under /en/ with the
same paths after the prefix, so a path is localized by prefixing it.
"""

from django.conf import settings
from django.utils import translation


def localized_path(path: str, language: str | None = None) -> str:
    """`path` (a Swedish, unprefixed path) as served in `language` (default: the active one)."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    if language == settings.LANGUAGE_CODE or not path.startswith("/"):
        return path
    return f"/{language}{path}"


def path_in_language(path: str, language: str) -> str:
    """A path of this site (Swedish or /en/…) as served in `language`; any
    other value (another site, not a path) unchanged."""
    if not path.startswith("/") or path.startswith(("//", "/\\")):
        return path
    local = path
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if code != settings.LANGUAGE_CODE and path.startswith(prefix):
            local = path[len(prefix) - 1 :]
            break
    if local.startswith(("//", "/\\")):
        # "/en//host/" would become another site's address: leave it as it was.
        return path
    return localized_path(local, language)
