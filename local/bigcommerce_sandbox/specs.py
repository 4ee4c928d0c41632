"""BigCommerce's specs: which files, where they are found, and how `make specs` fetches them.

The contract checks read BigCommerce's own OpenAPI files, webhook payload schemas and samples, and
carrier list, from the bigcommerce/docs repository at one pinned commit. None of them is committed
here: `specs-manifest.json`, beside this module, names the commit and every file the project uses
with its SHA-256, and `python -m bigcommerce_sandbox.specs fetch` downloads them, checking each.

They are looked for, in this order: `$BIGCOMMERCE_SPECS_DIR`; `../shared/bigcommerce-api-specs`
beside the repository; the repository's own cache `.cache/bigcommerce-api-specs` (ignored by git),
which `make specs` fills.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import requests

SPECS_ENV = "BIGCOMMERCE_SPECS_DIR"
REPO_ROOT = Path(__file__).resolve().parents[2]
# The one definition of the cache's place in the repository: `make specs` fills it, the finder reads it.
CACHE_PATH = Path(".cache", "bigcommerce-api-specs")
CACHE_DIR = REPO_ROOT / CACHE_PATH
MANIFEST_FILE = Path(__file__).with_name("specs-manifest.json")
DEFAULT_BASE_URL = "https://raw.githubusercontent.com/bigcommerce/docs"

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def find_specs_dir(env: Mapping[str, str] | None = None, repo_root: Path = REPO_ROOT) -> Path:
    """Where the specs are read from: `$BIGCOMMERCE_SPECS_DIR` when it is set (taken as given, so that a
    wrong value is reported, not passed over), else `../shared/bigcommerce-api-specs` when it exists, else
    the cache - which may not exist yet (`make specs`)."""
    configured = (os.environ if env is None else env).get(SPECS_ENV)
    if configured:
        return Path(configured)
    beside = repo_root.parent / "shared" / "bigcommerce-api-specs"
    if beside.is_dir():
        return beside
    return repo_root / CACHE_PATH


class SpecsNotFoundError(FileNotFoundError):
    pass


def check_specs_dir(root: Path, needed: Sequence[str]) -> None:
    """Raises `SpecsNotFoundError`, saying what to do, unless `root` holds every file in `needed`."""
    if not root.is_dir():
        missing = "the folder does not exist"
    else:
        absent = [path for path in needed if not (root / path).is_file()]
        if not absent:
            return
        missing = f"{absent[0]} is missing" + (f", and {len(absent) - 1} more" if len(absent) > 1 else "")
    raise SpecsNotFoundError(
        f"BigCommerce's specs are not in {root} ({missing}): set {SPECS_ENV} to a folder that holds them, "
        f"or run `make specs` to download them into {CACHE_DIR}"
    )


@dataclass(frozen=True)
class Manifest:
    """A commit of bigcommerce/docs and the files taken from it: path inside that repository → SHA-256."""

    commit: str
    files: Mapping[str, str]

    def __post_init__(self) -> None:
        if not _COMMIT.match(self.commit):
            raise ValueError(f"not a full commit id: {self.commit!r}")
        for path, digest in self.files.items():
            parts = PurePosixPath(path).parts
            if not parts or PurePosixPath(path).is_absolute() or ".." in parts or "\\" in path:
                raise ValueError(f"not a relative path inside the repository: {path!r}")
            if not _SHA256.match(digest):
                raise ValueError(f"{path}: not a sha256 hex digest: {digest!r}")

    @classmethod
    def load(cls, path: Path = MANIFEST_FILE) -> Manifest:
        data = json.loads(path.read_text())
        return cls(commit=data["commit"], files=dict(data["files"]))


class FetchError(Exception):
    """One line naming the file that could not be fetched, and why."""


@dataclass(frozen=True)
class FetchReport:
    fetched: tuple[str, ...]
    present: tuple[str, ...]


def fetch(
    dest: Path = CACHE_DIR,
    *,
    base_url: str = DEFAULT_BASE_URL,
    manifest: Manifest | None = None,
    timeout_seconds: float = 30.0,
) -> FetchReport:
    """Downloads every file of the manifest into `dest` from `<base_url>/<commit>/<path>`.

    A file already there with the pinned hash is not downloaded again. A download is written only once its
    hash matches, to a temporary file renamed into place; a file there with another hash is removed first.
    So a failure (`FetchError`) leaves every file either pinned or absent, and fetching again resumes."""
    manifest = manifest or Manifest.load()
    fetched: list[str] = []
    present: list[str] = []
    with requests.Session() as http:
        for path, digest in manifest.files.items():
            target = dest / path
            if target.is_file():
                if _sha256(target.read_bytes()) == digest:
                    present.append(path)
                    continue
                target.unlink()
            url = f"{base_url.rstrip('/')}/{manifest.commit}/{path}"
            try:
                response = http.get(url, timeout=timeout_seconds)
            except requests.RequestException as error:
                raise FetchError(f"{path}: {url} could not be read ({type(error).__name__})") from error
            if response.status_code != 200:
                raise FetchError(f"{path}: HTTP {response.status_code} from {url}")
            got = _sha256(response.content)
            if got != digest:
                raise FetchError(f"{path}: sha256 {got} from {url}, where the manifest pins {digest}")
            _write_atomically(target, response.content)
            fetched.append(path)
    return FetchReport(fetched=tuple(fetched), present=tuple(present))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bigcommerce_sandbox.specs", description="BigCommerce's specs, pinned."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    fetch_command = commands.add_parser("fetch", help="download the pinned files, checking each one's sha256")
    fetch_command.add_argument("--dest", type=Path, default=CACHE_DIR, help=f"where to put them (default {CACHE_DIR})")
    fetch_command.add_argument(
        "--base-url", default=DEFAULT_BASE_URL, help=f"serves <commit>/<path> (default {DEFAULT_BASE_URL})"
    )
    fetch_command.add_argument("--manifest", type=Path, default=MANIFEST_FILE, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = fetch(args.dest, base_url=args.base_url, manifest=Manifest.load(args.manifest))
    except FetchError as error:
        print(f"specs fetch: {error}", file=sys.stderr)
        return 1
    print(f"specs: {len(report.fetched)} fetched, {len(report.present)} already present, in {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
