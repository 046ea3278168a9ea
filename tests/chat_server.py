"""An OpenAI-compatible chat-completions server on 127.0.0.1, scripted per test, so the real `openai`
client runs over real HTTP in the tests (tests/test_rewrite.py, tests/test_flows.py).

`server.script(body, n)` answers the n-th request (1-based) whose JSON body is `body` with a Reply;
every body received is kept in `server.requests`, in arrival order."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: dict | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    delay: float = 0.0


def completion(text: str | None, prompt_tokens: int = 60, completion_tokens: int = 25) -> Reply:
    return Reply(
        body={
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": "test-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def error(status: int, retry_after: str | None = None) -> Reply:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply(status, {"error": {"message": f"scripted {status}", "type": "server_error"}}, headers)


class ChatServer(ThreadingHTTPServer):
    daemon_threads = True
    script: Callable[[dict, int], Reply]
    requests: list[dict]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def indices(self) -> list[int]:
        """The sample index of every request received, in arrival order (sent as the API `seed`)."""
        return [body["seed"] for body in self.requests]


class Handler(BaseHTTPRequestHandler):
    server: ChatServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert self.path == "/v1/chat/completions"
        with lock:
            self.server.requests.append(body)
            number = len(self.server.requests)
        reply = self.server.script(body, number)
        if reply.delay:
            time.sleep(reply.delay)
        data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


lock = threading.Lock()


@contextmanager
def chat_server(script: Callable[[dict, int], Reply]) -> Iterator[ChatServer]:
    """A running server answering with `script`; shut down on exit."""
    httpd = ChatServer(("127.0.0.1", 0), Handler)
    httpd.requests = []
    httpd.script = script
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
