"""BigCommerce's specs: `specs fetch` against a loopback server, the finder's order, the pinned manifest."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bigcommerce_sandbox import specs
from bigcommerce_sandbox.contract import SPEC_FILES, ContractValidator, specs_dir
from bigcommerce_sandbox.specs import FetchError, Manifest, SpecsNotFoundError, fetch, find_specs_dir

pytestmark = pytest.mark.integration

COMMIT = "0123456789abcdef0123456789abcdef01234567"
FILES = {
    "reference/orders.v2.oas2.yml": b"openapi: 3.0.0\ninfo: {title: Orders}\n",
    "docs/webhooks/callbacks/data/store_order_created.json": b'{"scope": "store/order/created"}\n',
}
SHARED_SPECS = specs.REPO_ROOT.parent / "shared" / "bigcommerce-api-specs"


def manifest_of(files: dict[str, bytes]) -> Manifest:
    return Manifest(commit=COMMIT, files={path: hashlib.sha256(body).hexdigest() for path, body in files.items()})


@dataclass
class FileServer:
    """A folder served over HTTP on 127.0.0.1, laid out as `<commit>/<path>` like raw.githubusercontent.com."""

    root: Path
    base_url: str
    requested: list[str] = field(default_factory=list)

    def put(self, path: str, body: bytes) -> None:
        target = self.root / COMMIT / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FileServer]:
    root = tmp_path / "served"
    root.mkdir()
    requested: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        served = FileServer(root, f"http://127.0.0.1:{httpd.server_address[1]}/", requested)
        for path, body in FILES.items():
            served.put(path, body)
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def files_under(folder: Path) -> set[str]:
    return {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}


def test_fetch_writes_every_file_with_its_content(server: FileServer, tmp_path: Path) -> None:
    dest = tmp_path / "specs"
    report = fetch(dest, base_url=server.base_url, manifest=manifest_of(FILES))

    assert sorted(report.fetched) == sorted(FILES) and report.present == ()
    assert files_under(dest) == set(FILES)  # no temporary file left beside them
    for path, body in FILES.items():
        assert (dest / path).read_bytes() == body
    assert sorted(server.requested) == sorted(f"/{COMMIT}/{path}" for path in FILES)


def test_a_second_fetch_downloads_nothing(server: FileServer, tmp_path: Path) -> None:
    dest = tmp_path / "specs"
    fetch(dest, base_url=server.base_url, manifest=manifest_of(FILES))
    requests_before = len(server.requested)

    report = fetch(dest, base_url=server.base_url, manifest=manifest_of(FILES))

    assert report.fetched == () and sorted(report.present) == sorted(FILES)
    assert len(server.requested) == requests_before


def test_a_tampered_file_fails_the_fetch_by_name_and_is_not_written(server: FileServer, tmp_path: Path) -> None:
    manifest = manifest_of(FILES)
    server.put("reference/orders.v2.oas2.yml", b"openapi: 3.0.0\ninfo: {title: Not BigCommerce's}\n")
    dest = tmp_path / "specs"

    with pytest.raises(FetchError, match=r"^reference/orders\.v2\.oas2\.yml: sha256 [0-9a-f]{64} from http"):
        fetch(dest, base_url=server.base_url, manifest=manifest)

    assert not (dest / "reference" / "orders.v2.oas2.yml").exists()
    assert "reference/orders.v2.oas2.yml" not in files_under(dest)  # nor half of it under another name


def test_the_command_fails_with_one_line_naming_the_file(
    server: FileServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest_file = tmp_path / "manifest.json"
    wanted = {**FILES, "reference/inventory.v3.yml": b"openapi: 3.0.0\n"}  # not on the server: a 404
    manifest_file.write_text(json.dumps({"commit": COMMIT, "files": dict(manifest_of(wanted).files)}))
    dest = tmp_path / "specs"
    argv = ["fetch", "--dest", str(dest), "--base-url", server.base_url, "--manifest", str(manifest_file)]

    assert specs.main(argv) == 1

    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert error.startswith("specs fetch: reference/inventory.v3.yml: HTTP 404 from http://127.0.0.1:")
    assert files_under(dest) == set(FILES)  # what was fetched before stays, verified; the rest resumes later

    server.put("reference/inventory.v3.yml", wanted["reference/inventory.v3.yml"])
    assert specs.main(argv) == 0
    assert capsys.readouterr().out == f"specs: 1 fetched, 2 already present, in {dest}\n"


def test_a_file_with_another_hash_at_the_destination_is_replaced(server: FileServer, tmp_path: Path) -> None:
    dest = tmp_path / "specs"
    stale = dest / "reference" / "orders.v2.oas2.yml"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an older copy")

    report = fetch(dest, base_url=server.base_url, manifest=manifest_of(FILES))

    assert "reference/orders.v2.oas2.yml" in report.fetched
    assert stale.read_bytes() == FILES["reference/orders.v2.oas2.yml"]


def test_an_unreachable_server_fails_by_file_name(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"^reference/orders\.v2\.oas2\.yml: http://127\.0\.0\.1:9/.* could not be"):
        fetch(tmp_path / "specs", base_url="http://127.0.0.1:9/", manifest=manifest_of(FILES), timeout_seconds=5)
    assert not (tmp_path / "specs").exists()


def test_a_manifest_path_outside_the_destination_is_refused() -> None:
    with pytest.raises(ValueError, match="not a relative path"):
        Manifest(commit=COMMIT, files={"../outside.yml": "0" * 64})


def test_the_finder_takes_the_variable_then_shared_then_the_cache(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    shared = tmp_path / "shared" / "bigcommerce-api-specs"
    chosen = tmp_path / "elsewhere"

    # Nothing yet: the cache, where `make specs` puts them.
    assert find_specs_dir({}, repo) == repo / ".cache" / "bigcommerce-api-specs"
    shared.mkdir(parents=True)
    assert find_specs_dir({}, repo) == shared
    assert find_specs_dir({"BIGCOMMERCE_SPECS_DIR": str(chosen)}, repo) == chosen  # taken as given, even if absent
    assert find_specs_dir({"BIGCOMMERCE_SPECS_DIR": ""}, repo) == shared


def test_the_contract_checks_find_their_specs_the_same_way(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BIGCOMMERCE_SPECS_DIR", str(tmp_path))
    assert specs_dir() == tmp_path
    monkeypatch.delenv("BIGCOMMERCE_SPECS_DIR")
    assert specs_dir() == find_specs_dir({}) == (SHARED_SPECS if SHARED_SPECS.is_dir() else specs.CACHE_DIR)
    assert specs.CACHE_DIR == specs.REPO_ROOT / ".cache" / "bigcommerce-api-specs"
    assert specs.build_parser().parse_args(["fetch"]).dest == specs.CACHE_DIR  # `make specs` fills what is read


def test_without_specs_the_error_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SpecsNotFoundError) as missing_folder:
        ContractValidator(tmp_path / "nowhere")
    (tmp_path / "partial" / "reference").mkdir(parents=True)
    with pytest.raises(SpecsNotFoundError) as missing_file:
        ContractValidator(tmp_path / "partial")

    for error in (missing_folder, missing_file):
        message = str(error.value)
        assert "set BIGCOMMERCE_SPECS_DIR to a folder that holds them" in message
        assert f"run `make specs` to download them into {specs.CACHE_DIR}" in message
    more = len(SPEC_FILES) - 1  # every spec file the contract check loads, the first one named
    assert f"reference/orders.v2.oas2.yml is missing, and {more} more" in str(missing_file.value)


@pytest.mark.skipif(not SHARED_SPECS.is_dir(), reason="no ../shared/bigcommerce-api-specs beside the repository")
def test_the_pinned_manifest_matches_the_copies_beside_the_repository() -> None:
    manifest = Manifest.load()

    assert manifest.commit == "24f580ca6d2981728b7ed70a2049e00fc602c335"
    assert set(manifest.files) == files_under(SHARED_SPECS) - {"SOURCE.md"}
    for path, digest in manifest.files.items():
        assert hashlib.sha256((SHARED_SPECS / path).read_bytes()).hexdigest() == digest, path
