"""A stand-in for the few Hugging Face Hub endpoints `download` and `publish` use, served on 127.0.0.1,
so huggingface_hub itself runs against real HTTP in the tests (pointed here with `HF_ENDPOINT` or
`HfApi(endpoint=...)`). It keeps every repo's files in memory, records every request with its
headers, and answers the way the Hub does for small repos: files are plain git blobs (preupload says
"regular"), so no Xet or LFS transfer is involved.

Endpoints: POST /api/repos/create; POST /api/validate-yaml; GET /api/datasets/<repo>[/revision/<rev>]; GET
/api/datasets/<repo>/tree/<rev>[/<path>]; POST /api/datasets/<repo>/preupload/<rev>; POST
/api/datasets/<repo>/commit/<rev> (ndjson); HEAD/GET /datasets/<repo>/resolve/<rev>/<path>.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import yaml

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Repo:
    private: bool = False
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[dict] = field(default_factory=list)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[Seen] = []
        # every API call answers this (status, message); "{authorization}" in the message is replaced by the
        # request's Authorization header, as servers that echo what they were sent do
        self.fail_with: tuple[int, str] | None = None
        # when set, an API call whose bearer token is not one of these answers 401, echoing the header it got
        self.accepted_tokens: set[str] | None = None
        self.gated: set[str] = set()  # repos whose files need accepted terms: resolve answers 403 GatedRepo
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _record(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                hub.requests.append(Seen(self.command, self.path, headers, body))
                return body

            def _send(self, status: int, body: bytes = b"", headers: dict | None = None, head: bool = False) -> None:
                self.send_response(status)
                for k, v in (headers or {"Content-Type": "application/json"}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _json(self, status: int, value) -> None:
                self._send(status, json.dumps(value).encode())

            def _refused(self) -> bool:
                """Answer an API call with the configured failure or a 401; True when it was answered."""
                header = self.headers.get("Authorization", "")
                if hub.fail_with:
                    self._json(hub.fail_with[0], {"error": hub.fail_with[1].replace("{authorization}", header)})
                    return True
                if hub.accepted_tokens is not None and header.removeprefix("Bearer ") not in hub.accepted_tokens:
                    self._json(401, {"error": f"Invalid credentials in Authorization header: {header!r}"})
                    return True
                return False

            def do_HEAD(self) -> None:
                self._record()
                self._resolve(head=True)

            def do_GET(self) -> None:
                self._record()
                path = unquote(urlsplit(self.path).path)
                if path.startswith("/datasets/"):
                    return self._resolve(head=False)
                if self._refused():
                    return
                parts = path.split("/")
                if path.startswith("/api/datasets/") and len(parts) >= 5:
                    repo_id = f"{parts[3]}/{parts[4]}"
                    repo = hub.repos.get(repo_id)
                    if repo is None:
                        return self._json(404, {"error": "Repository not found"})
                    rest = parts[5:]
                    if not rest or rest[0] == "revision":
                        siblings = [{"rfilename": p} for p in sorted(repo.files)]
                        info = {"id": repo_id, "private": repo.private, "sha": COMMIT, "siblings": siblings}
                        return self._json(200, info)
                    if rest[0] == "tree":
                        entries = [
                            {"type": "file", "path": p, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                            for p, b in sorted(repo.files.items())
                        ]
                        return self._json(200, entries)
                self._json(404, {"error": f"no route {path}"})

            def _resolve(self, head: bool) -> None:
                path = unquote(urlsplit(self.path).path)
                parts = path.split("/")  # /datasets/<org>/<name>/resolve/<rev>/<file...>
                repo = hub.repos.get(f"{parts[2]}/{parts[3]}") if len(parts) > 6 else None
                name = "/".join(parts[6:])
                if f"{parts[2]}/{parts[3]}" in hub.gated:
                    message = b'{"error": "Access to this dataset is restricted. You must accept its conditions."}'
                    headers = {"Content-Type": "application/json", "X-Error-Code": "GatedRepo"}
                    return self._send(403, message, headers, head)
                if repo is None or name not in repo.files:
                    return self._send(404, b"", {"X-Error-Code": "EntryNotFound"}, head)
                body = repo.files[name]
                etag = f'"{hashlib.sha1(body).hexdigest()}"'
                headers = {"Content-Type": "application/octet-stream", "X-Repo-Commit": COMMIT, "ETag": etag}
                self._send(200, body, headers, head)

            def do_POST(self) -> None:
                body = self._record()
                if self._refused():
                    return
                path = unquote(urlsplit(self.path).path)
                if path == "/api/repos/create":
                    spec = json.loads(body)
                    repo_id = f"{spec['organization']}/{spec['name']}" if spec.get("organization") else spec["name"]
                    private = bool(spec.get("private")) or spec.get("visibility") == "private"
                    hub.repos.setdefault(repo_id, Repo(private=private))
                    return self._json(200, {"url": f"{hub.url}/datasets/{repo_id}", "name": repo_id})
                if path == "/api/validate-yaml":
                    yaml.safe_load(json.loads(body)["content"].split("---")[1])  # the card's front matter parses
                    return self._json(200, {"errors": [], "warnings": []})
                parts = path.split("/")
                repo = hub.repos.get(f"{parts[3]}/{parts[4]}") if len(parts) > 5 else None
                if repo is None:
                    return self._json(404, {"error": "Repository not found"})
                if parts[5] == "preupload":
                    files = json.loads(body)["files"]
                    answer = [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files]
                    return self._json(200, {"files": answer})
                if parts[5] == "commit":
                    lines = [json.loads(line) for line in body.splitlines() if line.strip()]
                    repo.commits.append({"lines": lines})
                    for line in lines:
                        if line["key"] == "file":
                            repo.files[line["value"]["path"]] = base64.b64decode(line["value"]["content"])
                        elif line["key"] == "deletedFile":
                            repo.files.pop(line["value"]["path"], None)
                    return self._json(
                        200,
                        {"commitUrl": f"{hub.url}/datasets/{parts[3]}/{parts[4]}/commit/{COMMIT}", "commitOid": COMMIT},
                    )
                self._json(404, {"error": f"no route {path}"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
