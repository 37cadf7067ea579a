"""requirements.lock pins every dependency with its hashes, and is not stale.

`make install`, CI and the Containerfile install from it with
`pip install --require-hashes`; `make lock` (.ci/lock.py) remakes it. The
lock records a digest of pyproject.toml's dependency lists: changing a
dependency without `make lock` fails here."""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lock_module():
    spec = importlib.util.spec_from_file_location("ci_lock", ROOT / ".ci" / "lock.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _locked() -> dict[str, str]:
    text = (ROOT / "requirements.lock").read_text()
    return {
        name.lower().replace("_", "-"): version
        for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", text, re.M)
    }


def test_the_lock_was_made_from_the_dependencies_pyproject_lists_now():
    lock = _lock_module()
    first = (ROOT / "requirements.lock").read_text().splitlines()[0]
    assert first == lock.DIGEST_PREFIX + lock.dependencies_digest(), (
        "requirements.lock is stale: pyproject.toml's dependencies changed. Run `make lock`."
    )


def test_every_direct_dependency_is_locked_at_the_version_pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = project["dependencies"] + project["optional-dependencies"]["test"]
    locked = _locked()
    for requirement in direct:
        name, version = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", requirement).groups()
        assert locked.get(name.lower().replace("_", "-")) == version, requirement


@pytest.mark.parametrize("name", ["requirements.lock", "requirements.prod.lock"])
def test_every_locked_package_carries_a_hash_and_both_locks_are_fresh(name):
    lines = (ROOT / name).read_text().split("\n", 2)
    lock = _lock_module()
    assert lines[0] == lock.DIGEST_PREFIX + lock.dependencies_digest(), f"{name} is stale"
    entries = re.split(r"\n(?=[A-Za-z0-9])", lines[2].strip())
    assert len(entries) > 40
    for entry in entries:
        assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_the_image_lock_is_the_full_lock_without_the_test_tools():
    full = _locked()
    text = (ROOT / "requirements.prod.lock").read_text()
    for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", text, re.M):
        assert full[name.lower().replace("_", "-")] == version, name
    assert "pytest==" not in text and "playwright==" not in text


def test_make_install_ci_and_the_image_install_from_the_lock_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes" in makefile and "-r requirements.lock" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()  # CI installs through make
    image = (ROOT / "deploy" / "Containerfile").read_text()
    assert "--require-hashes" in image and "requirements.prod.lock" in image
