"""`pipeline.download` against HTTP servers on 127.0.0.1 that serve files the tests create: a plain file
server with Range support (and a switch to drop a connection halfway), and the fake Hub of
tests/hub_server.py for Hugging Face datasets."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import threading
import zipfile
from dataclasses import replace
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hub_server import FakeHub, Repo

from pipeline import download
from pipeline.__main__ import main
from pipeline.download import ChecksumMismatch, DownloadError, download_source, fetch
from pipeline.model import Download, RawFile, RawForm, Source, detect_form
from pipeline.registry import get

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


class FileServer:
    """Serves `files` (URL path -> bytes) with ETag, Last-Modified and single-range requests; records
    every request. A path in `drop_once` is cut off after half its body the first time it is asked for."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.drop_once: set[str] = set()
        self.statuses: list[int] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_HEAD(self) -> None:
                self._serve(head=True)

            def do_GET(self) -> None:
                self._serve(head=False)

            def _serve(self, head: bool) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append((self.command, self.path, headers))
                body = server.files.get(self.path)
                if body is None:
                    return self._reply(404, b"not found", {}, head)
                etag = f'"{hashlib.md5(body).hexdigest()}"'
                extra = {"ETag": etag, "Last-Modified": formatdate(0, usegmt=True), "Accept-Ranges": "bytes"}
                wanted = headers.get("range", "")
                if wanted.startswith("bytes=") and headers.get("if-range", etag) == etag:
                    start = int(wanted[6:].split("-")[0])
                    if start >= len(body):
                        return self._reply(416, b"", {"Content-Range": f"bytes */{len(body)}"}, head)
                    extra["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
                    return self._reply(206, body[start:], extra, head)
                if self.path in server.drop_once and not head:
                    server.drop_once.discard(self.path)
                    server.statuses.append(200)
                    self.send_response(200)
                    for k, v in {**extra, "Content-Length": str(len(body))}.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._reply(200, body, extra, head)

            def _reply(self, status: int, body: bytes, extra: dict, head: bool) -> None:
                server.statuses.append(status)
                self.send_response(status)
                for k, v in {**extra, "Content-Length": str(len(body))}.items():
                    self.send_header(k, v)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def gets(self) -> list[tuple[str, str, dict[str, str]]]:
        return [r for r in self.requests if r[0] == "GET"]


@pytest.fixture
def server():
    files = FileServer()
    files.thread.start()
    yield files
    files.httpd.shutdown()
    files.httpd.server_close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def tar_gz_bytes(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
    return buffer.getvalue()


TABLE = b"id,text\n" + b"".join(b"%d,row number %d\n" % (i, i) for i in range(5000))
RELEASE_ZIP = zip_bytes({"corpus-1.0/train.tsv": b"a\tb\n", "corpus-1.0/test.tsv": b"c\td\n", "corpus-1.0/x.pdf": b"%"})
GITHUB_TAR = tar_gz_bytes(
    {
        "corpus-0123abc/README.md": b"# corpus\n",
        "corpus-0123abc/data/labels/1.txt": b"label one\n",
        "corpus-0123abc/data/labels/2.txt": b"label two\n",
        "corpus-0123abc/code/convert.py": b"print()\n",
    }
)
NOTES_GZ = gzip.compress(b"note one\nnote two\n")


def fake_source(url: str, **changes) -> Source:
    """An open corpus published as a plain file, a release zip, a GitHub-style archive and a .gz file."""
    downloads = (
        Download(f"{url}/files/table.csv", "table.csv", sha256=sha(TABLE), size=len(TABLE)),
        Download(
            f"{url}/releases/corpus-1.0.zip",
            "corpus-1.0.zip",
            sha256=sha(RELEASE_ZIP),
            unpack="zip",
            members=(("corpus-1.0/*.tsv", "splits/"),),
        ),
        Download(
            f"{url}/archive/0123abc.tar.gz", "corpus.tar.gz", unpack="tar.gz", members=(("*/data/labels/", "labels/"),)
        ),
        Download(f"{url}/files/notes.txt.gz", "notes.txt.gz", unpack="gz"),
    )
    form = RawForm(
        "release",
        (
            RawFile("table", ("table.csv",)),
            RawFile("train", ("splits/train.tsv",)),
            RawFile("labels", ("labels/*.txt",)),
            RawFile("notes", ("notes.txt",)),
        ),
    )
    fields = dict(
        id="fake_corpus",
        name="Fake corpus",
        homepage="https://example.org/fake",
        license="CC0",
        access="open",
        citation="",
        obtain="Download it from https://example.org/fake.",
        forms=(form,),
        downloads=downloads,
    )
    return Source(**(fields | changes))


def publish_release(server: FileServer) -> None:
    server.files.update(
        {
            "/files/table.csv": TABLE,
            "/releases/corpus-1.0.zip": RELEASE_ZIP,
            "/archive/0123abc.tar.gz": GITHUB_TAR,
            "/files/notes.txt.gz": NOTES_GZ,
        }
    )


def test_complete_download_lays_files_out_as_the_converter_expects(server: FileServer, tmp_path: Path) -> None:
    publish_release(server)
    raw = tmp_path / "fake_corpus"
    result = download_source(fake_source(server.url), raw, progress=False)
    assert result.status == "downloaded", result.message
    assert (raw / "table.csv").read_bytes() == TABLE
    assert sorted(p.relative_to(raw).as_posix() for p in raw.rglob("*") if ".downloads" not in p.parts) == [
        "labels",
        "labels/1.txt",
        "labels/2.txt",
        "notes.txt",
        "splits",
        "splits/test.tsv",
        "splits/train.tsv",
        "table.csv",
    ]  # only the mapped members; the archives themselves and every .part file are gone
    assert (raw / "labels" / "2.txt").read_bytes() == b"label two\n"
    assert (raw / "notes.txt").read_bytes() == b"note one\nnote two\n"
    assert detect_form(fake_source(server.url), raw).form.name == "release"
    assert result.form == "release"


def test_checksum_mismatch_is_a_clear_error_and_the_bad_file_is_not_kept(server: FileServer, tmp_path: Path) -> None:
    server.files["/files/table.csv"] = TABLE.replace(b"row number 42\n", b"row number 43\n")
    raw = tmp_path / "fake_corpus"
    item = fake_source(server.url).downloads[0]
    with pytest.raises(ChecksumMismatch) as caught:
        fetch(item, raw, progress=False)
    message = str(caught.value)
    assert f"{server.url}/files/table.csv" in message
    assert sha(TABLE) in message and sha(server.files["/files/table.csv"]) in message
    assert not (raw / "table.csv").exists()
    assert [p.name for p in raw.iterdir() if p.is_file()] == []  # no .part, no half file under the final name

    source_result = download_source(fake_source(server.url), raw, progress=False)
    assert source_result.status == "failed" and "sha256 mismatch" in source_result.message


def test_size_mismatch_names_both_sizes(server: FileServer, tmp_path: Path) -> None:
    server.files["/files/table.csv"] = TABLE
    item = replace(fake_source(server.url).downloads[0], sha256=None, size=len(TABLE) + 1)
    with pytest.raises(ChecksumMismatch, match=f"expected {len(TABLE) + 1} bytes, received {len(TABLE)}"):
        fetch(item, tmp_path, progress=False)
    assert not (tmp_path / "table.csv").exists() and not (tmp_path / "table.csv.part").exists()


def test_interrupted_download_resumes_with_a_range_request(server: FileServer, tmp_path: Path) -> None:
    server.files["/files/table.csv"] = TABLE
    server.drop_once.add("/files/table.csv")
    item = fake_source(server.url).downloads[0]

    with pytest.raises(DownloadError, match="Run the same command again to resume"):
        fetch(item, tmp_path, progress=False, retries=0)
    part = tmp_path / "table.csv.part"
    kept = part.stat().st_size
    assert 0 < kept < len(TABLE) and not (tmp_path / "table.csv").exists()

    files, transferred = fetch(item, tmp_path, progress=False, retries=0)
    assert (files, transferred) == (["table.csv"], True)
    assert (tmp_path / "table.csv").read_bytes() == TABLE and not part.exists()
    last = server.gets()[-1][2]
    assert last["range"] == f"bytes={kept}-" and last["if-range"].startswith('"')
    assert server.statuses[-1] == 206


def test_a_retry_within_one_run_resumes_too(server: FileServer, tmp_path: Path) -> None:
    server.files["/files/table.csv"] = TABLE
    server.drop_once.add("/files/table.csv")
    files, _ = fetch(fake_source(server.url).downloads[0], tmp_path, progress=False, retries=1)
    assert (tmp_path / files[0]).read_bytes() == TABLE
    assert [r[2].get("range") for r in server.gets()] == [None, f"bytes={len(TABLE) // 2}-"]


def test_a_file_changed_on_the_server_is_fetched_again_whole(server: FileServer, tmp_path: Path) -> None:
    server.files["/files/table.csv"] = TABLE
    server.drop_once.add("/files/table.csv")
    item = replace(fake_source(server.url).downloads[0], sha256=None, size=None)
    with pytest.raises(DownloadError):
        fetch(item, tmp_path, progress=False, retries=0)
    server.files["/files/table.csv"] = b"a new release\n" * 100  # the owners replaced the file meanwhile
    fetch(item, tmp_path, progress=False, retries=0)
    assert (tmp_path / "table.csv").read_bytes() == b"a new release\n" * 100  # not old prefix + new tail
    assert server.gets()[-1][2]["range"] and server.statuses[-1] == 200  # If-Range failed: whole file sent


def test_rerun_is_a_no_op_without_any_request(server: FileServer, tmp_path: Path) -> None:
    publish_release(server)
    raw = tmp_path / "fake_corpus"
    assert download_source(fake_source(server.url), raw, progress=False).status == "downloaded"
    seen = len(server.requests)
    again = download_source(fake_source(server.url), raw, progress=False)
    assert again.status == "up to date" and again.form == "release"
    assert len(server.requests) == seen

    (raw / "labels" / "1.txt").write_bytes(b"damaged")  # a changed file: that archive is fetched again
    assert download_source(fake_source(server.url), raw, progress=False).status == "downloaded"
    assert (raw / "labels" / "1.txt").read_bytes() == b"label one\n"
    assert [r[1] for r in server.gets()[-1:]] == ["/archive/0123abc.tar.gz"]


def test_a_verified_file_already_in_place_is_adopted_without_a_request(server: FileServer, tmp_path: Path) -> None:
    (tmp_path / "table.csv").write_bytes(TABLE)  # placed by hand, and it is the declared file
    files, transferred = fetch(fake_source(server.url).downloads[0], tmp_path, progress=False)
    assert (files, transferred) == (["table.csv"], False) and server.requests == []


def test_unsafe_archive_members_are_refused(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    escape = tmp_path / "zip"
    escape.write_bytes(zip_bytes({"../outside.txt": b"x", "ok.txt": b"y"}))
    with pytest.raises(DownloadError, match="outside the raw folder"):
        download.unpack(escape, "zip", (), raw)
    assert not (tmp_path / "outside.txt").exists()

    linked = tmp_path / "tar"
    linked.write_bytes(tar_gz_bytes({"pkg/a.txt": b"a"}, links={"pkg/passwd": "/etc/passwd"}))
    with pytest.raises(DownloadError, match="not a regular file"):
        download.unpack(linked, "tar.gz", (("pkg/", ""),), raw)
    assert not (raw / "passwd").exists()

    with pytest.raises(DownloadError, match="no member matching 'pkg/missing/'"):
        download.unpack(linked, "tar.gz", (("pkg/missing/", ""),), raw)


def test_a_declaration_that_no_longer_matches_the_release_is_reported(server: FileServer, tmp_path: Path) -> None:
    publish_release(server)
    source = fake_source(server.url)
    moved = replace(source.downloads[1], members=(("corpus-2.0/*.tsv", "splits/"),))
    result = download_source(replace(source, downloads=(source.downloads[0], moved)), tmp_path, progress=False)
    assert result.status == "failed"
    assert "no member matching 'corpus-2.0/*.tsv'" in result.message and "Source.downloads" in result.message


def test_hub_dataset_is_fetched_with_huggingface_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parquet_bytes = b"PAR1 not really parquet"
    with FakeHub() as hub:
        hub.repos["owner/corpus"] = Repo(
            files={"data/train-00000-of-00001.parquet": parquet_bytes, "README.md": b"# card", "other/x.bin": b"1"}
        )
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        # conftest puts the Hub libraries offline for every other test; this one talks to a loopback hub.
        monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
        item = Download(hf_dataset="owner/corpus", files=("data/*.parquet",))
        files, transferred = fetch(item, tmp_path, progress=False)
        assert (files, transferred) == (["data/train-00000-of-00001.parquet"], True)
        assert (tmp_path / files[0]).read_bytes() == parquet_bytes
        assert not (tmp_path / "other").exists() and not (tmp_path / "README.md").exists()
        seen = len(hub.requests)
        assert fetch(item, tmp_path, progress=False) == (files, False) and len(hub.requests) == seen

        hub.gated.add("owner/corpus")
        with pytest.raises(DownloadError, match="is gated: accept its terms"):
            fetch(replace(item, path="again"), tmp_path, progress=False)


def test_gated_source_is_refused_with_instructions(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["download", "--source", "mimic_iv", "--raw-dir", str(tmp_path / "mimic")]) == 3
    said = capsys.readouterr()
    assert "never downloads it" in said.err and "credentialed access" in said.err
    assert "https://physionet.org/content/mimic-iv-note/2.2/" in said.err
    assert "note/radiology.csv.gz" in said.err and "note/discharge.csv.gz" in said.err
    assert not (tmp_path / "mimic").exists()

    with pytest.raises(ValueError, match="never downloaded by the pipeline"):
        replace(get("mimic_iv").source, downloads=(Download("https://example.org/x", "x"),))


def test_all_open_fetches_the_open_sources_and_lists_what_it_skipped(
    server: FileServer, tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_release(server)
    fake = replace(get("pubmedqa"), source=fake_source(server.url))
    chosen = {"fake_corpus": fake, "mimic_iv": get("mimic_iv"), "seer": get("seer"), "mashqa": get("mashqa")}
    monkeypatch.setattr("pipeline.__main__.converters", lambda: chosen)
    assert main(["download", "--all-open", "--raw-dir", str(tmp_path), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 downloadable sources complete" in out
    assert (tmp_path / "fake_corpus" / "table.csv").read_bytes() == TABLE
    for skipped in ("mimic_iv [credentialed]", "seer [registration]", "mashqa [open]"):
        assert skipped in out
    assert "physionet.org" in out and "seer.cancer.gov" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake_corpus"]


def test_list_says_how_each_source_is_obtained(capsys: pytest.CaptureFixture) -> None:
    assert main(["list", "--raw-dir", str(SAMPLES)]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["pubmedqa"].rstrip().endswith("download")
    assert "by hand: credentialed access" in rows["mimic_iv"]
    assert "by hand (download --source mashqa says how)" in rows["mashqa"]


# --- a real declaration, served from the local mirror ------------------------------------------------


def mirror_path(url: str) -> str:
    """Where `download --mirror` asks the local server for `url`."""
    return "/" + url.split("://", 1)[1]


def test_real_hoc_declaration_through_a_mirror(server: FileServer, tmp_path: Path) -> None:
    """HoC as its owners publish it: a GitHub archive (`<repo>-<commit>/labels/`, `text/`, code around them)
    and BLURB's data_generation.tar.gz for the split lists, fetched through `--mirror`."""
    source = get("hoc").source
    sample = SAMPLES / "hoc"
    repo_files = {
        f"Hallmarks-of-Cancer-3bc6e6d/{p.relative_to(sample).as_posix()}": p.read_bytes()
        for p in sample.rglob("*.txt")
        if p.parts[-2] in ("labels", "text")
    }
    assert repo_files, "the bundled HoC sample has labels/ and text/"
    repo_files["Hallmarks-of-Cancer-3bc6e6d/README.md"] = b"# Hallmarks of Cancer\n"
    pmids = sorted(Path(name).stem for name in repo_files if "/labels/" in name)
    blurb = {
        f"data_generation/indexing/HoC/{split}_pmid.tsv": ",".join(ids).encode()
        for split, ids in (("train", pmids[:-2]), ("dev", pmids[-2:-1]), ("test", pmids[-1:]))
    }
    blurb["data_generation/README.md"] = b"BLURB\n"
    archives = [d for d in source.downloads if d.unpack == "tar.gz"]
    assert len(archives) == 2
    server.files[mirror_path(archives[0].url)] = tar_gz_bytes(repo_files)
    server.files[mirror_path(archives[1].url)] = tar_gz_bytes(blurb)

    raw = tmp_path / "hoc"
    assert main(["download", "--source", "hoc", "--raw-dir", str(raw), "--mirror", server.url, "--no-progress"]) == 0
    assert sorted(r[1] for r in server.gets()) == sorted(mirror_path(d.url) for d in archives)
    files = detect_form(source, raw)
    assert files.form.name == "sb895" and not files.missing
    assert len(files.paths("labels")) == len(pmids) and not (raw / "README.md").exists()
    assert json.loads((raw / ".downloads" / "Hallmarks-of-Cancer.tar.gz.json").read_text())["files"]


def _landing_paths(item: Download) -> list[str]:
    """Files a declared download certainly produces, by name: its path (plain URL), its literal Hub files
    (a glob's `*` filled in), and archive members mapped by a glob onto a folder."""
    if item.hf_dataset:
        base = f"{item.path}/" if item.path else ""
        return [base + f.replace("*", "00000-of-00001") for f in item.files]
    if item.unpack is None:
        return [item.path]
    landed = []
    for src, dest in item.members:
        if not src.endswith("/") and (dest == "" or dest.endswith("/")):
            landed.append(dest + src.lstrip("*").rsplit("/", 1)[-1])
        elif not src.endswith("/"):
            landed.append(dest)
    return landed


@pytest.mark.parametrize(
    "source_id",
    sorted(s for s, c in __import__("pipeline.registry").registry.converters().items() if c.source.downloads),
)
def test_declared_downloads_land_where_the_converter_looks(source_id: str, tmp_path: Path) -> None:
    """The declaration and the RawFile patterns agree: every file a download is known to produce is one the
    converter reads, and together they make a form the build accepts (archives' folder mappings aside)."""
    source = get(source_id).source
    landed = [p for item in source.downloads for p in _landing_paths(item)]
    if not landed:
        pytest.skip("only archive folder mappings: checked by the end-to-end mirror test and by hand")
    for rel in landed:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    read = {p.relative_to(tmp_path).as_posix() for form in source.forms for f in form.files for p in f.find(tmp_path)}
    assert set(landed) <= read, f"declared but never read: {sorted(set(landed) - read)}"
    if all(d.unpack is None for d in source.downloads):
        assert detect_form(source, tmp_path).form
