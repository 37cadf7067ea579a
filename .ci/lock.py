"""Write requirements.lock (every dependency of pyproject.toml and its test
extra) and requirements.prod.lock (the application's alone, for the image),
pinned, with the sha256 hashes of their files (uv pip compile).

    make lock          # after changing a dependency in pyproject.toml

`make install`, CI (.ci/run, through make) and the Containerfile install from
the lock with `pip install --require-hashes`, so every machine runs the very
files that were locked. The lock's first line carries a digest of the
dependency lists it was made from; tests/test_lock.py fails when
pyproject.toml says otherwise (a stale lock).
"""

import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PROD_LOCK = ROOT / "requirements.prod.lock"
DIGEST_PREFIX = "# pyproject dependencies sha256: "


def dependencies_digest(pyproject: Path = ROOT / "pyproject.toml") -> str:
    project = tomllib.loads(pyproject.read_text())["project"]
    lists = {
        "dependencies": sorted(project.get("dependencies", [])),
        "requires-python": project.get("requires-python", ""),
        **{
            f"extra:{name}": sorted(items)
            for name, items in sorted(project.get("optional-dependencies", {}).items())
        },
    }
    return hashlib.sha256(repr(sorted(lists.items())).encode()).hexdigest()


def _compile(*extra: str) -> str:
    uv = Path(sys.executable).with_name("uv")
    return subprocess.run(  # noqa: S603 (fixed arguments)
        [
            str(uv),
            "pip",
            "compile",
            "pyproject.toml",
            *extra,
            "--generate-hashes",
            "--python-version",
            "3.11",
            "--python-platform",
            "x86_64-manylinux_2_28",
            "--no-header",
            "--quiet",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def main() -> int:
    header = (
        f"{DIGEST_PREFIX}{dependencies_digest()}\n"
        "# Made by `make lock` (.ci/lock.py, uv pip compile --generate-hashes); do not edit.\n"
    )
    # Everything (make install, CI), and the application's own for the image.
    LOCK.write_text(header + _compile("--extra", "test"))
    PROD_LOCK.write_text(header + _compile())
    return 0


if __name__ == "__main__":
    sys.exit(main())
