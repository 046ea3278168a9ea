"""`python -m pipeline download`: the raw files of open-access sources, fetched from where their owners
publish them (GitHub, figshare, S3, government sites, the Hugging Face Hub) and laid out as the
converter's RawFile patterns expect, so a new user goes from nothing to `build --all` without reading
fifty README files.

What it promises:
- Only sources declared `open` are fetched. Registration and credentialed corpora (MIMIC, MedNLI,
  SEER, BioASQ...) are never downloaded on the user's behalf, whatever they hold: the user applies
  for access and places the files; `download` says how and where (`gated_instructions`).
- Nothing half-written ever has a final name. A file streams into `<path>.part`; an interrupted
  transfer resumes from the bytes already there with an HTTP Range request (If-Range guards against
  the file having changed on the server meanwhile); size and sha256, where declared, are checked
  before the rename, and a file that fails them is deleted with an error naming the URL and both
  digests. Archives are extracted member by member to temporary names, refusing absolute paths,
  `..`, links and devices, and only the members the declaration maps are written.
- Re-running is a no-op: each completed download leaves a small state file in `<raw>/.downloads/`
  (what was fetched from where, the digest and the files it produced); a later run that finds them
  intact sends no request at all.
- `mirror` (or MEDS_INS_DOWNLOAD_MIRROR) fetches every URL from `<mirror>/<host>/<path>` instead, for
  users behind a proxy cache, and for tests. Hub downloads honour the library's own HF_ENDPOINT.

HTTP goes through httpx (redirects followed, streamed); Hub datasets through huggingface_hub's
`snapshot_download`, which brings its own resume, caching and authentication (HF_TOKEN or
`hf auth login`, for the few datasets whose terms must be accepted on the Hub).
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import os
import shutil
import stat
import tarfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Literal
from urllib.parse import urlsplit

import httpx
from tqdm import tqdm

from pipeline.fingerprint import file_sha256
from pipeline.model import Download, MissingRawFiles, Source, describe_missing, detect_form
from pipeline.redact import mask

STATE_DIR = ".downloads"
CHUNK = 1 << 20
MIRROR_VARIABLE = "MEDS_INS_DOWNLOAD_MIRROR"
USER_AGENT = "meds-ins-pipeline (+https://github.com/MAGIC-AI4Med/MedS-Ins)"
ACCESS_NEEDED = {
    "registration": "registration with the provider and acceptance of its data use agreement",
    "credentialed": "credentialed access: an approved account (e.g. PhysioNet credentialing with CITI "
    "'Data or Specimens Only Research' training) and a signed data use agreement",
}


class DownloadError(Exception):
    """A download that could not be completed; the message names the URL and what to do."""


class ChecksumMismatch(DownloadError):
    """The bytes received are not the declared file: the partial file has been deleted."""


Status = Literal["downloaded", "up to date", "in place", "gated", "manual", "failed"]


@dataclass
class SourceResult:
    """What `download_source` did for one source; `message` is what the CLI prints under it."""

    source_id: str
    status: Status
    message: str = ""
    files: list[str] = field(default_factory=list)
    form: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("downloaded", "up to date", "in place")


# --- sources ---------------------------------------------------------------------------------------


def download_source(
    source: Source,
    raw_dir: Path,
    *,
    mirror: str | None = None,
    progress: bool = True,
    retries: int = 2,
    client: httpx.Client | None = None,
) -> SourceResult:
    """Fetch every declared download of `source` into `raw_dir`, then check the converter finds them.

    Gated sources and open sources without a published direct download come back as "gated" /
    "manual" with the instructions to follow; nothing is fetched for them."""
    raw_dir = Path(raw_dir)
    if source.access != "open":
        return SourceResult(source.id, "gated", gated_instructions(source, raw_dir), form=_form(source, raw_dir))
    if not source.downloads:
        form = _form(source, raw_dir)
        status: Status = "in place" if form else "manual"
        head = (
            f"{source.id}: raw files in place ({form}); nothing to download."
            if form
            else f"{source.id}: its owners publish no direct download the pipeline can fetch; get it by hand."
        )
        return SourceResult(source.id, status, head + "\n" + describe_missing(source, raw_dir), form=form)
    mirror = mirror if mirror is not None else os.environ.get(MIRROR_VARIABLE) or None
    own_client = client is None
    client = client or new_client()
    fetched: list[str] = []
    changed = False
    try:
        for item in source.downloads:
            files, did = fetch(item, raw_dir, mirror=mirror, progress=progress, retries=retries, client=client)
            fetched += files
            changed = changed or did
    except DownloadError as error:
        return SourceResult(source.id, "failed", f"{source.id}: {mask(str(error))}", fetched)
    finally:
        if own_client:
            client.close()
    try:
        files = detect_form(source, raw_dir)
    except MissingRawFiles:
        message = (
            f"{source.id}: the downloads completed but the converter finds no complete form in {raw_dir}: "
            "the declaration in the converter's Source.downloads no longer matches the files.\n"
            + describe_missing(source, raw_dir)
        )
        return SourceResult(source.id, "failed", message, fetched)
    lines = [f"{source.id}: {'downloaded' if changed else 'up to date'} in {raw_dir} (form {files.form.name})"]
    lines += [f"  note: {d.note}" for d in source.downloads if d.note]
    if files.missing:
        lines.append("  still to be obtained by hand (optional files the owners publish no direct download for):")
        lines += [f"    {' or '.join(f.patterns)}" for f in files.missing]
        lines.append(f"  how: {source.obtain}")
    status = "downloaded" if changed else "up to date"
    return SourceResult(source.id, status, "\n".join(lines), fetched, files.form.name)


def gated_instructions(source: Source, raw_dir: Path) -> str:
    """Why the pipeline will not fetch `source`, what access it needs, where to apply and which files
    go where: describe_missing's account, headed by the refusal."""
    form = _form(source, raw_dir)
    head = (
        f"{source.id} ({source.name}) requires {ACCESS_NEEDED[source.access]}; the pipeline never downloads it. "
        "Apply, download it yourself under your own agreement, and place the files as listed."
    )
    state = f"Your copy is in place in {raw_dir} (form {form})." if form else describe_missing(source, raw_dir)
    return f"{head}\n{state}"


def skipped_summary(source: Source, raw_dir: Path) -> str:
    """A few lines for `download --all-open`'s list of what it did not fetch."""
    form = _form(source, raw_dir)
    why = ACCESS_NEEDED.get(source.access, "no direct download published by its owners")
    first = source.forms[0]
    files = "; ".join(" or ".join(f.patterns[:2]) for f in first.files[:4]) + ("; ..." if len(first.files) > 4 else "")
    return "\n".join(
        [
            f"{source.id} [{source.access}]: {why}.",
            f"    how: {source.obtain}",
            f"    place in {raw_dir}: {files}",
            f"    now: {'in place (' + form + ')' if form else 'missing'}",
        ]
    )


def _form(source: Source, raw_dir: Path) -> str | None:
    try:
        return detect_form(source, raw_dir).form.name
    except MissingRawFiles:
        return None


# --- one download ----------------------------------------------------------------------------------


def fetch(
    item: Download,
    raw_dir: Path,
    *,
    mirror: str | None = None,
    progress: bool = True,
    retries: int = 2,
    client: httpx.Client | None = None,
) -> tuple[list[str], bool]:
    """Bring one declared download into `raw_dir`. Returns the files it provides (relative to
    `raw_dir`) and whether anything was transferred (False: the state file says it is complete)."""
    raw_dir.mkdir(parents=True, exist_ok=True)
    state = _read_state(raw_dir, item)
    if state is not None and _complete(item, raw_dir, state):
        return state["files"], False
    if item.hf_dataset:
        files = _fetch_hub(item, raw_dir, progress)
        _write_state(raw_dir, item, {"files": files})
        return files, True
    url = mirrored(item.url, mirror)
    dest = raw_dir / item.path
    own_client = client is None
    client = client or new_client()
    try:
        if item.unpack is None and state is None and dest.is_file() and _matches(item, dest):
            digest = file_sha256(dest)  # placed by hand (or an older run) and verified: adopt it
            _write_state(raw_dir, item, _file_state(dest, digest, item.path))
            return [item.path], False
        digest = _transfer(client, url, dest, item, progress=progress, retries=retries)
    finally:
        if own_client:
            client.close()
    if item.unpack is None:
        _write_state(raw_dir, item, _file_state(dest, digest, item.path))
        return [item.path], True
    try:
        files = unpack(dest, item.unpack, item.members, raw_dir, source_url=url)
    finally:
        dest.unlink(missing_ok=True)  # the archive itself is not what converters read
    sizes = {f: (raw_dir / f).stat().st_size for f in files}
    _write_state(raw_dir, item, {"files": files, "sha256": digest, "sizes": sizes})
    return files, True


def new_client() -> httpx.Client:
    """An HTTP client as downloads need it: redirects followed (GitHub archives, figshare, S3), no
    overall timeout (archives of hundreds of MB), but a stalled connection noticed within a minute."""
    return httpx.Client(
        follow_redirects=True,
        timeout=httpx.Timeout(60.0, connect=30.0),
        headers={"User-Agent": USER_AGENT},
    )


def mirrored(url: str, mirror: str | None) -> str:
    """`url` fetched through a mirror that serves `<mirror>/<host>/<path>` (query kept)."""
    if not mirror:
        return url
    parts = urlsplit(url)
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{mirror.rstrip('/')}/{parts.netloc}{rest}"


# --- HTTP with resume ------------------------------------------------------------------------------


def _transfer(client: httpx.Client, url: str, dest: Path, item: Download, *, progress: bool, retries: int) -> str:
    """Stream `url` into `<dest>.part` (resuming what is there), verify it, rename it to `dest`.
    Returns the sha256 of the file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    meta_path = part.with_name(part.name + ".json")
    meta = _read_json(meta_path) if part.exists() else None
    if meta is None or meta.get("url") != url:
        part.unlink(missing_ok=True)  # a part of another URL, or of unknown origin: start over
        meta = {"url": url}
    attempt = 0
    while True:
        try:
            if _stream(client, url, part, meta, meta_path, progress):
                break
            problem = "the connection closed before the whole file arrived"
        except httpx.TransportError as error:
            problem = f"{type(error).__name__}: {error}"
        attempt += 1
        if attempt > retries:
            have = part.stat().st_size if part.exists() else 0
            raise DownloadError(
                f"{mask(url)}: {mask(problem)}; {have} bytes kept in {part}. Run the same command again to "
                "resume from there."
            )
    size = part.stat().st_size
    digest = file_sha256(part)
    if item.size is not None and size != item.size:
        _discard(part, meta_path)
        raise ChecksumMismatch(
            f"{mask(url)}: expected {item.size} bytes, received {size} (sha256 {digest}); the file was deleted. "
            "The published file changed or the transfer was corrupted; if the owners replaced it, update the "
            "declaration in the converter's Source.downloads."
        )
    if item.sha256 is not None and digest != item.sha256:
        _discard(part, meta_path)
        raise ChecksumMismatch(
            f"{mask(url)}: sha256 mismatch: expected {item.sha256}, got {digest}; the file was deleted. "
            "The published file changed or the transfer was corrupted; if the owners replaced it, update the "
            "declaration in the converter's Source.downloads."
        )
    os.replace(part, dest)
    meta_path.unlink(missing_ok=True)
    return digest


def _stream(client: httpx.Client, url: str, part: Path, meta: dict, meta_path: Path, progress: bool) -> bool:
    """One GET of `url` appended to `part`. True when the response body arrived whole."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Accept-Encoding": "identity"}  # byte ranges of the file itself, not of a compressed stream
    if offset:
        headers["Range"] = f"bytes={offset}-"
        validator = meta.get("etag") or meta.get("last_modified")
        if validator:
            headers["If-Range"] = validator
    with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 416 and offset:
            # The server has nothing after `offset`: what we hold is not a prefix of its file.
            part.unlink()
            return False
        if response.status_code == 206:
            start = _range_start(response.headers.get("Content-Range", ""))
            if start != offset:
                raise DownloadError(f"{mask(url)}: asked for bytes from {offset}, the server sent from {start}")
            mode = "ab"
        elif response.status_code == 200:
            offset, mode = 0, "wb"  # no range support, or the file changed (If-Range): start over
        else:
            raise DownloadError(f"{mask(url)}: HTTP {response.status_code} {response.reason_phrase}")
        meta.update(etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"))
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
        length = response.headers.get("Content-Length")
        encoded = response.headers.get("Content-Encoding", "identity").lower() not in ("identity", "")
        # A server that compresses anyway sends a length of the compressed stream: no check against it.
        expected = offset + int(length) if length and length.isdigit() and not encoded else None
        # No chunk size: bytes are written as they arrive, so a broken connection loses none of them.
        chunks = response.iter_bytes() if encoded else response.iter_raw()
        received = offset
        with (
            open(part, mode) as out,
            tqdm(
                total=expected,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name.removesuffix(".part"),
                disable=not progress or None,
                leave=False,
            ) as bar,
        ):
            for chunk in chunks:
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
        return expected is None or received == expected


def _range_start(content_range: str) -> int | None:
    try:  # "bytes 100-199/200"
        return int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _discard(part: Path, meta_path: Path) -> None:
    part.unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)


# --- archives --------------------------------------------------------------------------------------


def unpack(
    archive: Path, kind: str, members: tuple[tuple[str, str], ...], raw_dir: Path, *, source_url: str = ""
) -> list[str]:
    """Extract the mapped members of `archive` into `raw_dir`; returns the written paths (relative).
    Every destination must stay inside `raw_dir`; links, devices and traversal are refused."""
    what = mask(source_url) or str(archive)
    written: list[str] = []
    used = [False] * len(members)
    if kind == "gz":
        target = members[0][1] if members else archive.name.removesuffix(".gz")
        with gzip.open(archive, "rb") as stream:
            _write_member(stream, raw_dir, _safe(target, raw_dir, what))
        return [target]
    for name, is_file, opener in _entries(archive, kind, what):
        target = _target(name, members, used)
        if target is None:
            continue
        if not is_file:
            raise DownloadError(f"{what}: refusing archive member {name!r}: not a regular file (link or device)")
        with opener() as stream:
            _write_member(stream, raw_dir, _safe(target, raw_dir, what))
        written.append(target)
    unused = [src for (src, _), hit in zip(members, used, strict=True) if not hit]
    if unused:
        raise DownloadError(
            f"{what}: the archive has no member matching {', '.join(map(repr, unused))}; its layout differs from "
            "the declaration in the converter's Source.downloads"
        )
    if not written:
        raise DownloadError(f"{what}: the archive holds no file")
    return sorted(written)


def _entries(archive: Path, kind: str, what: str) -> Iterator[tuple[str, bool, object]]:
    """(member path, is a regular file, opener) for each non-directory member, in archive order."""
    if kind == "zip":
        try:
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    kind_bits = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no type
                    regular = kind_bits in (0, stat.S_IFREG)
                    yield info.filename, regular, lambda info=info, zf=zf: zf.open(info)
        except zipfile.BadZipFile as error:
            raise DownloadError(f"{what}: not a readable zip archive ({error})") from None
        return
    try:
        with tarfile.open(archive, "r:gz") as tf:
            for member in tf:
                if member.isdir():
                    continue
                yield member.name, member.isfile(), lambda member=member, tf=tf: tf.extractfile(member)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DownloadError(f"{what}: not a readable tar.gz archive ({error})") from None


def _target(name: str, members: tuple[tuple[str, str], ...], used: list[bool]) -> str | None:
    """Where member `name` goes (relative to the raw folder), or None when no mapping takes it."""
    name = name.removeprefix("./")
    if not members:
        return name
    for i, (src, dest) in enumerate(members):
        rest = _under(name, src) if src.endswith("/") else None
        if rest is not None:
            used[i] = True
            return _join(dest, rest)
        if not src.endswith("/") and fnmatch.fnmatchcase(name, src):
            used[i] = True
            return _join(dest, PurePosixPath(name).name) if dest == "" or dest.endswith("/") else dest
    return None


def _under(name: str, prefix: str) -> str | None:
    if prefix.startswith("*/"):
        head, _, tail = name.partition("/")
        if not head or not tail:
            return None
        name, prefix = tail, prefix[2:]
    if prefix == "":
        return name
    return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else None


def _join(folder: str, rest: str) -> str:
    return f"{folder.rstrip('/')}/{rest}" if folder else rest


def _safe(target: str, raw_dir: Path, what: str) -> Path:
    pure = PurePosixPath(target)
    if pure.is_absolute() or ".." in pure.parts or "\\" in target or not pure.parts or pure.parts[0] == STATE_DIR:
        raise DownloadError(f"{what}: refusing archive member path {target!r} (outside the raw folder)")
    path = raw_dir.joinpath(*pure.parts)
    root = raw_dir.resolve()
    if not path.resolve().is_relative_to(root):
        raise DownloadError(f"{what}: refusing archive member path {target!r} (outside the raw folder)")
    return path


def _write_member(stream: IO[bytes], raw_dir: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as out:
            shutil.copyfileobj(stream, out, CHUNK)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --- Hugging Face Hub ------------------------------------------------------------------------------


def _fetch_hub(item: Download, raw_dir: Path, progress: bool) -> list[str]:
    """snapshot_download of the declared files into the raw folder, pinned to the commit the revision
    resolves to now (asked first: when the Hub cannot be reached, snapshot_download would otherwise
    fall back to whatever the local folder holds)."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    endpoint = os.environ.get("HF_ENDPOINT") or None  # read now, not at import: mirrors and tests set it
    local = raw_dir / item.path if item.path else raw_dir
    where = f"{endpoint or 'https://huggingface.co'}/datasets/{item.hf_dataset}"
    were_disabled = are_progress_bars_disabled()
    if not progress:
        disable_progress_bars()
    try:
        commit = HfApi(endpoint=endpoint).dataset_info(item.hf_dataset, revision=item.revision).sha
        snapshot_download(
            repo_id=item.hf_dataset,
            repo_type="dataset",
            revision=commit or item.revision,
            allow_patterns=list(item.files) or None,
            local_dir=local,
            endpoint=endpoint,
        )
    except Exception as error:
        cause = _first_cause(error, (GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError, HfHubHTTPError))
        if isinstance(cause, GatedRepoError):
            raise DownloadError(
                f"{where} is gated: accept its terms on that page while logged in, then authenticate this machine "
                "(`hf auth login`, or the HF_TOKEN environment variable) and run again"
            ) from None
        if isinstance(cause, (RepositoryNotFoundError, RevisionNotFoundError)):
            raise DownloadError(f"{where} (revision {item.revision}) not found: {mask(str(cause))}") from None
        if cause is not None or isinstance(error, OSError):
            raise DownloadError(f"{where}: {mask(str(cause or error))}") from None
        raise
    finally:
        if not progress and not were_disabled:
            enable_progress_bars()
    found = sorted(
        p.relative_to(raw_dir).as_posix()
        for p in local.rglob("*")
        if p.is_file()
        and ".cache" not in p.relative_to(local).parts
        and (not item.files or any(fnmatch.fnmatchcase(p.relative_to(local).as_posix(), f) for f in item.files))
    )
    if not found:
        raise DownloadError(f"{where}: no file matches {', '.join(item.files)} at revision {item.revision}")
    return found


def _first_cause(error: BaseException | None, kinds: tuple[type, ...]) -> BaseException | None:
    while error is not None:
        if isinstance(error, kinds):
            return error
        error = error.__cause__ or error.__context__
    return None


# --- state -----------------------------------------------------------------------------------------


def _state_path(raw_dir: Path, item: Download) -> Path:
    key = item.path or item.hf_dataset
    if item.hf_dataset:
        key = f"hf-{item.hf_dataset}-{item.path}"
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in key)
    return raw_dir / STATE_DIR / f"{safe}.json"


def _identity(item: Download) -> dict:
    return {
        "url": item.url,
        "hf_dataset": item.hf_dataset,
        "revision": item.revision,
        "files_declared": list(item.files),
        "sha256_declared": item.sha256,
        "unpack": item.unpack,
        "members": [list(m) for m in item.members],
    }


def _read_state(raw_dir: Path, item: Download) -> dict | None:
    state = _read_json(_state_path(raw_dir, item))
    if state is None or state.get("identity") != _identity(item):
        return None  # never completed, or completed for another declaration
    return state


def _write_state(raw_dir: Path, item: Download, content: dict) -> None:
    path = _state_path(raw_dir, item)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps({"identity": _identity(item)} | content, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _file_state(path: Path, digest: str, rel: str) -> dict:
    info = path.stat()
    return {"files": [rel], "sha256": digest, "size": info.st_size, "mtime_ns": info.st_mtime_ns}


def _complete(item: Download, raw_dir: Path, state: dict) -> bool:
    """The files a completed download produced are all still there, unchanged as far as we can tell
    without the network (size, and for a single file its mtime or, failing that, its digest)."""
    files = state.get("files") or []
    if not files or not all((raw_dir / f).is_file() for f in files):
        return False
    if item.hf_dataset:
        return True
    if item.unpack is not None:
        sizes = state.get("sizes", {})
        return all((raw_dir / f).stat().st_size == sizes.get(f) for f in files)
    path = raw_dir / item.path
    info = path.stat()
    if info.st_size != state.get("size"):
        return False
    if info.st_mtime_ns == state.get("mtime_ns"):
        return True
    if file_sha256(path) == state.get("sha256"):  # touched but intact
        _write_state(raw_dir, item, _file_state(path, state["sha256"], item.path))
        return True
    return False


def _matches(item: Download, path: Path) -> bool:
    """A file already at a download's path is adopted only when it is verifiably the declared one."""
    if item.sha256 is None:
        return False
    return (item.size is None or path.stat().st_size == item.size) and file_sha256(path) == item.sha256
