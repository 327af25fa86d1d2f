"""The lock files (`make lock`) pin every requirement of requirements*.txt with hashes, and are what gets installed."""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def requirements(name: str) -> list[Requirement]:
    """The requirements a requirements file names itself (not those of a file it includes with -r)."""
    lines = (line.split("#")[0].strip() for line in (ROOT / name).read_text().splitlines())
    return [Requirement(line) for line in lines if line and not line.startswith("-")]


def pins(name: str) -> dict[str, tuple[Version, int]]:
    """Each pinned package of a lock file: its version and how many hashes it carries."""
    found: dict[str, tuple[Version, int]] = {}
    current = None
    for line in (ROOT / name).read_text().splitlines():
        if pinned := re.match(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", line):
            current = canonicalize_name(pinned.group(1))
            found[current] = (Version(pinned.group(2)), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            found[current] = (found[current][0], found[current][1] + 1)
    return found


def outside_the_lock(requirement_files: list[str], lock: str) -> list[str]:
    locked = pins(lock)
    wanted = [req for name in requirement_files for req in requirements(name)]
    return [
        str(req)
        for req in wanted
        if canonicalize_name(req.name) not in locked or locked[canonicalize_name(req.name)][0] not in req.specifier
    ]


def test_the_runtime_lock_pins_every_runtime_requirement_within_its_range():
    assert outside_the_lock(["requirements.txt"], "requirements.lock") == []


def test_the_development_lock_pins_every_requirement_within_its_range():
    assert outside_the_lock(["requirements.txt", "requirements-dev.txt"], "requirements-dev.lock") == []


@pytest.mark.parametrize("lock", ["requirements.lock", "requirements-dev.lock"])
def test_every_pin_carries_a_hash(lock):
    assert [name for name, (_version, hashes) in pins(lock).items() if hashes == 0] == []


def test_both_locks_pin_the_same_versions_of_what_they_share():
    runtime, development = pins("requirements.lock"), pins("requirements-dev.lock")

    assert {name: runtime[name][0] for name in runtime} == {name: development[name][0] for name in runtime}


def test_requests_is_past_cve_2024_47081():
    assert pins("requirements.lock")["requests"][0] >= Version("2.32.4")


def test_make_installs_from_the_development_lock_with_hashes():
    assert "pip install --quiet --require-hashes -r requirements-dev.lock" in (ROOT / "Makefile").read_text()


def test_the_image_installs_from_the_runtime_lock_with_hashes():
    assert "pip install --no-cache-dir --require-hashes -r requirements.lock" in (ROOT / "Dockerfile").read_text()
