"""`pipx install .` on a clean machine, without the network: the package built from this repo, installed into
a fresh venv that sees only what its metadata requires, runs against the local stack.

A fresh venv cannot download its dependencies here, so it gets exactly the distributions its `Requires-Dist`
names, and theirs (the closure, resolved from this venv's installed copies): a module the CLI imports that no
requirement brings in fails the test, as it would fail `pipx install .`.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bcsync import __version__
from bcsync.cli import main as bcsync_cli
from bigcommerce_sandbox import Sandbox
from local_runtime import LocalDeployment
from tests.conftest import KNOWN_TOKENS

REPO = Path(__file__).resolve().parents[2]
# What pyproject.toml's package-dir points at: the sources a wheel is built from.
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "shared/bcsync", "layers/bigcommerce/bigcommerce_client",
           "local/bigcommerce_sandbox", "local/local_runtime"]  # fmt: skip
STORE, TOKEN = "pipx111", "tok-pipx111-install"


def _build_wheel(into: Path) -> Path:
    source = into / "src"
    for name in SOURCES:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(REPO / name, source / name)
    built = subprocess.run(
        [sys.executable, "-c", "import sys, setuptools.build_meta as b; print(b.build_wheel(sys.argv[1]))", str(into)],
        cwd=source, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return into / built.stdout.strip().splitlines()[-1]


def _closure(requirements: list[str]) -> dict[str, importlib.metadata.Distribution]:
    """Each distribution the requirements bring in, transitively, as installed here (markers evaluated)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in found or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        found[name] = importlib.metadata.distribution(requirement.name)
        # What `pip check` would say: every requirement met at its pin by what the fresh venv will see.
        assert found[name].version in requirement.specifier, f"{requirement} but {found[name].version} is installed"
        todo.extend(Requirement(text) for text in found[name].requires or [])
    return found


def _site_of(distributions: dict[str, importlib.metadata.Distribution], site: Path) -> None:
    """A site directory holding exactly these distributions: each one's top-level files, linked."""
    site.mkdir()
    for distribution in distributions.values():
        root = Path(str(distribution.locate_file("")))
        for top in {Path(str(path)).parts[0] for path in distribution.files or [] if not str(path).startswith("..")}:
            if not (site / top).exists() and top != "__pycache__":
                (site / top).symlink_to(root / top)


def test_the_built_package_installs_on_its_own_and_runs_against_the_local_stack(
    local_world: tuple[LocalDeployment, Sandbox], tmp_path: Path
) -> None:
    stack, sandbox = local_world
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"bcsync-{__version__}.dist-info/METADATA").decode()
    requires = [
        line.removeprefix("Requires-Dist: ") for line in metadata.splitlines() if line.startswith("Requires-Dist:")
    ]
    assert requires, "the wheel declares no dependencies"

    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", "--no-index", "--no-deps", str(wheel)], check=True)
    _site_of(_closure(requires), tmp_path / "deps")
    purelib = subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    Path(purelib, "requirements-closure.pth").write_text(f"{tmp_path / 'deps'}\n")

    # Nothing of this repo's venv or PYTHONPATH: the fresh venv alone, pointed at the local stack.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **stack.environment(), "BIGCOMMERCE_API_URL": sandbox.url}
    bcsync = str(venv / "bin" / "bcsync")
    version = subprocess.run([bcsync, "--version"], env=env, capture_output=True, text=True, check=False)
    assert (version.returncode, version.stdout.strip()) == (0, f"bcsync {__version__}"), version.stderr

    KNOWN_TOKENS.add(TOKEN)
    sandbox.add_store(STORE, token=TOKEN)
    connect = ["stores", "connect", STORE, "--no-webhooks", "--token-stdin"]
    assert bcsync_cli(connect, stdin=io.StringIO(TOKEN), out=io.StringIO()) == 0  # in this process: cheaper
    status = subprocess.run([bcsync, "status", "--json"], env=env, capture_output=True, text=True, check=False)
    assert status.returncode == 0, status.stderr
    (report,) = [store for store in json.loads(status.stdout) if store["store_hash"] == STORE]
    assert set(report["flows"]) == {"order_import", "product_sync", "inventory_push", "tracking_writeback", "readback"}
    assert TOKEN not in status.stdout + status.stderr
