"""Both catalogues (locale/sv, locale/en) are complete and current.

`make messages` is run here on a copy of the sources: if the code or the
templates have a string the committed catalogue lacks (or the catalogue keeps
one the code dropped), the refreshed copy differs from the committed file.
Strings added on any branch are caught by this test, not by a reader.
"""

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

LANGUAGES = [code for code, _name in settings.LANGUAGES]
# gettext's msgfmt, which makemessages and compilemessages need anyway.
MSGFMT = shutil.which("msgfmt") or "msgfmt"
MSGCAT = shutil.which("msgcat") or "msgcat"
SOURCES = [
    "core",
    "audit",
    "accounts",
    "schools",
    "permissions",
    "federation",
    "provisioning",
    "notifications",
    "web",
    "etjanster",
    "portal",
    "backoffice",
    "demo",
    "config",
    "templates",
]
# The same flags as `make messages` (Makefile: MAKEMESSAGES_FLAGS).
IGNORED = [".venv/*", "staticfiles/*", "tests/*"]
HOW_TO_FIX = (
    "Run `make messages`, fill the new empty msgstr in locale/sv (Swedish), check "
    "locale/en and remove every '#, fuzzy' flag, then run `make messages` again."
)


def catalogue(root: Path, language: str) -> Path:
    return root / "locale" / language / "LC_MESSAGES" / "django.po"


def normalized(path: Path) -> str:
    """The catalogue's entries without line wrapping (gettext's tools wrap
    differently), in msgid order (makemessages orders them by the files they
    come from, so moving a file reorders the catalogue but changes no
    string), without the header's creation date or "#|" notes of earlier
    msgids (left behind when a fuzzy flag is removed by hand)."""
    text = subprocess.run(
        [MSGCAT, "--no-wrap", "--sort-output", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    text = re.sub(r"^#\|.*\n", "", text, flags=re.M)
    return re.sub(r'"POT-Creation-Date: [^"]*"\n', "", text)


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory) -> Path:
    """The sources and catalogues copied, and makemessages run on the copy."""
    root = tmp_path_factory.mktemp("catalogues")
    base = Path(settings.BASE_DIR)
    for name in SOURCES:
        shutil.copytree(
            base / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
        )
    for language in LANGUAGES:
        catalogue(root, language).parent.mkdir(parents=True)
        shutil.copy(catalogue(base, language), catalogue(root, language))
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.chdir(root)
    try:
        with override_settings(LOCALE_PATHS=[root / "locale"]):
            call_command(
                "makemessages",
                locale=LANGUAGES,
                no_location=True,
                no_obsolete=True,
                ignore_patterns=IGNORED,
                verbosity=0,
            )
    finally:
        monkeypatch.undo()
    return root


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_every_string_of_the_code_and_no_other(refreshed, language):
    committed = normalized(catalogue(Path(settings.BASE_DIR), language))
    current = normalized(catalogue(refreshed, language))
    new = sorted(
        set(re.findall(r'^msgid "(.+)"$', current, re.M))
        - set(re.findall(r'^msgid "(.+)"$', committed, re.M))
    )
    assert current == committed, (
        f"locale/{language} is not current (first new msgids: {new[:5]}). {HOW_TO_FIX}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_no_fuzzy_or_empty_translation(refreshed, language):
    result = subprocess.run(
        [MSGFMT, "--statistics", "-o", "/dev/null", str(catalogue(refreshed, language))],
        capture_output=True,
        text=True,
        check=True,
    )
    statistics = result.stderr.strip()
    assert "fuzzy" not in statistics and "untranslated" not in statistics, (
        f"locale/{language}: {statistics}. {HOW_TO_FIX}"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_its_source(tmp_path, language):
    po = catalogue(Path(settings.BASE_DIR), language)
    fresh = tmp_path / "django.mo"
    subprocess.run([MSGFMT, "-o", str(fresh), str(po)], check=True)
    with fresh.open("rb") as compiled, po.with_suffix(".mo").open("rb") as committed:
        assert gettext.GNUTranslations(compiled)._catalog == (
            gettext.GNUTranslations(committed)._catalog
        ), f"locale/{language}/LC_MESSAGES/django.mo is stale: run `make messages`."
