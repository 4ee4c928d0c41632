"""One lock: requirements-dev.txt holds every package the app, both layers, the tests and the dev tools use, at
one version each, with its hashes; each layer's requirements.txt (what `sam build` installs) is the lock's subset
for that layer. These tests hold the inputs, the lock, the venv that runs them and what `sam build` packed to
one another, so that what is deployed is what the tests ran."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

from local_runtime.template import REPO
from tests.aws import load_template

LOCK = REPO / "requirements-dev.txt"
SAM_LOCK = REPO / "requirements-sam.txt"
INPUTS = {LOCK: REPO / "requirements-dev.in", SAM_LOCK: REPO / "requirements-sam.in"}
BUILD = REPO / ".aws-sam" / "build"
# The platform the layers run on (template.yaml: python3.13, x86_64): a lock line's marker is read for it.
LAMBDA = {
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "python_version": "3.13",
}
HOW_TO_FIX = "`make lock` writes every requirements*.txt from the *.in inputs; never edit one by hand"


@dataclass(frozen=True)
class Pin:
    version: str
    marker: Marker | None
    hashes: frozenset[str]

    def applies(self, environment: dict[str, str] | None = None) -> bool:
        return self.marker is None or self.marker.evaluate(environment)


def read_lock(path: Path) -> dict[NormalizedName, Pin]:
    """The `name==version ; marker --hash=...` lines of a generated requirements file."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    pins: dict[NormalizedName, Pin] = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement_text, *hashes = re.split(r"\s+--hash=", line)
        requirement = Requirement(requirement_text)
        (specifier,) = requirement.specifier  # a lock pins one exact version
        assert specifier.operator == "==", f"{path.name}: {line!r} is not a pin. {HOW_TO_FIX}"
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"{path.name} pins {name} twice"
        pins[name] = Pin(specifier.version, requirement.marker, frozenset(hashes))
    return pins


def read_inputs(path: Path) -> dict[NormalizedName, str]:
    """Every top-level pin of an input file and of the inputs it includes (`-r`)."""
    pins: dict[NormalizedName, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins |= read_inputs(path.parent / line.removeprefix("-r ").strip())
        elif line:
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


@cache
def sources() -> dict[str, Path]:
    """Each resource `sam build` builds, by logical id, and the folder it builds from."""
    resources = load_template()["Resources"]
    return {
        logical: REPO / properties[key]
        for logical, resource in resources.items()
        for properties in [resource.get("Properties", {})]
        for key in ("ContentUri", "CodeUri")
        if isinstance(properties.get(key), str)
    }


def installed(folder: Path) -> dict[NormalizedName, str]:
    return {
        canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions(path=[str(folder)])
    }


def test_the_lock_holds_every_input_at_its_pinned_version_with_hashes() -> None:
    for lock, source in INPUTS.items():
        pins = read_lock(lock)
        for name, version in read_inputs(source).items():
            assert name in pins, f"{source.name} asks for {name}, {lock.name} lacks it. {HOW_TO_FIX}"
            assert pins[name].version == version, (
                f"{source.name} pins {name}=={version}, {lock.name} holds {pins[name].version}. {HOW_TO_FIX}"
            )
        unhashed = sorted(name for name, pin in pins.items() if not pin.hashes)
        assert not unhashed, f"{lock.name}: no hashes for {unhashed}: pip --require-hashes refuses it. {HOW_TO_FIX}"


def test_each_requirements_file_sam_build_installs_is_a_subset_of_the_lock() -> None:
    lock = read_lock(LOCK)
    built_with_requirements = {
        logical: folder for logical, folder in sources().items() if (folder / "requirements.txt").exists()
    }
    assert {"SharedLayer", "BigCommerceLayer"} <= set(built_with_requirements)
    for logical, folder in built_with_requirements.items():
        subset = read_lock(folder / "requirements.txt")
        for name, version in read_inputs(folder / "requirements.in").items():
            assert subset[name].version == version, f"{logical}: requirements.in pins {name}=={version}. {HOW_TO_FIX}"
        for name, pin in subset.items():
            assert name in lock, f"{logical} installs {name}, which the lock lacks. {HOW_TO_FIX}"
            assert (pin.version, pin.hashes) == (lock[name].version, lock[name].hashes), (
                f"{logical} installs {name}=={pin.version}, the lock holds {lock[name].version}. {HOW_TO_FIX}"
            )


def test_the_venv_running_the_tests_is_the_lock() -> None:
    """What the tests ran: every package of the lock, at the lock's version (`make venv` installs it)."""
    differences = []
    for name, pin in read_lock(LOCK).items():
        if not pin.applies():
            continue
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        if version != pin.version:
            differences.append(f"{name}: lock {pin.version}, venv {version}")
    assert not differences, f"this venv is not the lock ({'; '.join(differences)}): `make clean venv` rebuilds it"


def test_sam_build_packed_exactly_the_lock() -> None:
    """Every package in every built layer and function is the lock's, at the lock's version, and nothing the
    lock names for it is missing. Reads the build `make build` left (CI builds before it tests)."""
    if not (BUILD / "template.yaml").exists():
        if os.environ.get("CI"):
            pytest.fail(f"no sam build at {BUILD.relative_to(REPO)}: CI runs `make build` before `make test`")
        pytest.skip("no sam build here: `make build`, then this compares what it packed with the lock")
    lock = read_lock(LOCK)
    differences = []
    for logical, folder in sources().items():
        built = BUILD / logical
        # sam build puts a layer's packages under python/, a function's beside its code.
        packed = installed(built / "python") if (built / "python").is_dir() else installed(built)
        requirements = folder / "requirements.txt"
        wanted = {
            name: lock[name].version
            for name, pin in (read_lock(requirements) if requirements.exists() else {}).items()
            if pin.applies(LAMBDA)
        }
        for name in sorted(set(packed) | set(wanted)):
            if packed.get(name) != wanted.get(name):
                differences.append(f"{logical} {name}: built {packed.get(name, '-')}, lock {wanted.get(name, '-')}")
    assert not differences, (
        "the build is not what the tests ran:\n  " + "\n  ".join(differences) + "\n`make build` packs the lock's "
        "versions (each layer's requirements.txt); if it still differs, run `make lock`"
    )
