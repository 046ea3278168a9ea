"""The medical tagger: the keyword vocabulary and its threshold, measured on the bundled LIMA and ShareGPT
samples and on tricky phrases; the OpenAI-compatible backend against a real HTTP server on 127.0.0.1
(never the internet), with its on-disk cache; and the choice of backend by MEDS_INS_TAGGER."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import SAMPLES

from converters import sharegpt
from pipeline import tagger
from pipeline.model import Record, Rejection, detect_form
from pipeline.readers import json_items, json_lines

#: Hand labels of the bundled samples: the LIMA lines and ShareGPT conversations that are medical.
LIMA_MEDICAL = {"train.jsonl": {1, 3, 5, 7, 9, 11, 12}, "test.jsonl": {1, 4}}
SHAREGPT_MEDICAL = {"k3Jd9Qa_0", "k3Jd9Qa_14", "Qm2Rt8s", "Zp4Kd1w", "Wd2Hs9e", "Rn1Gy5t"}

TRICKY = [
    ("My knee hurts when I climb stairs. Should I see a doctor?", True),
    ("What are the early warning signs of a stroke?", True),
    ("Is it safe to take ibuprofen during pregnancy?", True),
    ("How do I treat a sprained ankle?", True),
    ("Explain how COVID-19 vaccines work.", True),
    ("What does an X-ray show that an MRI does not?", True),
    ("Write a Python function that implements a health check endpoint.", False),
    ("In my game, the player's health bar should shrink when hit.", False),
    ("Explain the difference between a computer virus and a worm.", False),
    ("Please be patient with me, I am new to Rust.", False),
    ("What are the pain points of small online shops?", False),
    ("Set the stroke width of an SVG path to 2 pixels.", False),
    ("How do I prevent SQL injection in PHP?", False),
    ("What is the capital of Australia?", False),
]


def test_vocabulary_longest_term_wins_exclusions_and_inflections() -> None:
    vocab = tagger.Vocabulary.parse(["[strong]", "heart attack", "fever", "[weak]", "heart", "[exclude]", "heart of"])
    assert vocab.matches(tagger.words("Heart attacks, fevers; the heart of it; my heart")) == {
        "heart attack": 1.0,
        "fever": 1.0,
        "heart": 0.5,
    }
    with pytest.raises(ValueError, match="before any"):
        tagger.Vocabulary.parse(["fever"])
    with pytest.raises(ValueError, match="listed twice"):
        tagger.Vocabulary.parse(["[strong]", "Fever", "[weak]", "fever"])


@pytest.mark.parametrize(("text", "medical"), TRICKY)
def test_keyword_tagger_on_tricky_phrases(text: str, medical: bool) -> None:
    assert tagger.KeywordTagger().is_medical(text).medical is medical, tagger.KeywordTagger().score(text)


def test_keyword_threshold_grows_with_length() -> None:
    code = "Refactor this module so every function is pure and the tests run faster. " * 20
    assert not tagger.KeywordTagger().is_medical(code + "The patient sync job hits a virus scanner timeout.").medical
    assert tagger.KeywordTagger().is_medical("The patient has a virus.").medical


def test_keyword_tagger_agrees_with_the_hand_labels_of_the_bundled_samples() -> None:
    keyword = tagger.KeywordTagger()
    decisions, labels = [], []
    for name, medical in LIMA_MEDICAL.items():
        for number, row, _ in json_lines(SAMPLES / "lima" / name):
            decisions.append(keyword.is_medical(tagger.instruction_text(row["conversations"][:1])).medical)
            labels.append(number in medical)
    sample = SAMPLES / "sharegpt" / "ShareGPT_V3_unfiltered_cleaned_split.json"
    for _, item in json_items(sample, sample.name):
        users = [t["value"] for t in item["conversations"] if t["from"] == "human"]
        decisions.append(keyword.is_medical(tagger.instruction_text(users)).medical)
        labels.append(item["id"] in SHAREGPT_MEDICAL)
    assert decisions == labels and 10 < sum(labels) < len(labels)  # 15 medical of 29: precision = recall = 1


def test_from_env_chooses_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(tagger.from_env({}), tagger.KeywordTagger)
    openai = tagger.from_env({"MEDS_INS_TAGGER": "openai", "MEDS_INS_TAGGER_MODEL": "m", "OPENAI_API_KEY": "k"})
    assert isinstance(openai, tagger.OpenAITagger) and openai.model == "m"
    plugged = tagger.from_env({"MEDS_INS_TAGGER": "pipeline.tagger:KeywordTagger"})
    assert isinstance(plugged, tagger.KeywordTagger)
    with pytest.raises(ValueError, match="use keyword, openai"):
        tagger.from_env({"MEDS_INS_TAGGER": "regex"})


@pytest.mark.parametrize(
    ("content", "tags"),
    [
        (
            '[{"tag": "medical advice", "explanation": "x"}, {"tag": "diet", "explanation": "y"}]',
            ("medical advice", "diet"),
        ),
        ('Here you go:\n```json\n[{"tag": "cooking"}]\n```', ("cooking",)),
        ('{"tags": ["mental health", "sleep"]}', ("mental health", "sleep")),
        ("[]", ()),
    ],
)
def test_parse_tags(content: str, tags: tuple[str, ...]) -> None:
    assert tagger.parse_tags(content) == tags


# --- the OpenAI-compatible backend against a local server -------------------------------------------------


class _ChatServer(ThreadingHTTPServer):
    requests: list[tuple[str, dict, str]]


class _Handler(BaseHTTPRequestHandler):
    server: _ChatServer

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.path, body, self.headers.get("Authorization", "")))
        query = body["messages"][-1]["content"]
        if "insulin" in query:
            content = json.dumps(
                [{"tag": "medication inquiry", "explanation": "."}, {"tag": "medicine", "explanation": "."}]
            )
        elif "gibberish" in query:
            content = "I cannot tag this."
        else:
            content = (
                '```json\n[{"tag": "recipe request", "explanation": "."}, {"tag": "cooking", "explanation": "."}]\n```'
            )
        reply = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_ChatServer]:
    httpd = _ChatServer(("127.0.0.1", 0), _Handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server: _ChatServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v1"


def test_openai_tagger_asks_for_instag_tags_and_caches_them(server: _ChatServer, tmp_path: Path) -> None:
    def make() -> tagger.OpenAITagger:
        return tagger.OpenAITagger("tag-model", base_url=_url(server), api_key="sk-test", cache_dir=tmp_path)

    first = make()
    assert first.is_medical("How much insulin should I inject?") == (True, ("medication inquiry", "medicine"))
    assert first.is_medical("How do I bake bread?") == (False, ("recipe request", "cooking"))
    path, body, auth = server.requests[0]
    assert (path, body["model"], auth) == ("/v1/chat/completions", "tag-model", "Bearer sk-test")
    assert "How much insulin should I inject?" in body["messages"][-1]["content"]
    assert '{"tag": str, "explanation": str}' in body["messages"][-1]["content"]
    again = make()  # a re-run: every answer comes from the cache
    assert again.is_medical("How much insulin should I inject?").medical and again.calls == 0
    assert len(server.requests) == 2 and first.calls == 2
    assert tagger.screen(again, "gibberish") == (tagger.NOT_UNDERSTOOD, "I cannot tag this.")


def test_converter_with_the_openai_tagger_from_env(
    server: _ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDS_INS_TAGGER", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", _url(server))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("MEDS_INS_TAGGER_CACHE", str(tmp_path / "cache"))
    conversations = [
        {
            "id": "a",
            "conversations": [{"from": "human", "value": "Dose of insulin?"}, {"from": "gpt", "value": "It varies."}],
        },
        {"id": "b", "conversations": [{"from": "human", "value": "Bread recipe?"}, {"from": "gpt", "value": "Flour."}]},
    ]
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "ShareGPT_V3_unfiltered_cleaned_split.json").write_text(json.dumps(conversations))
    files = detect_form(sharegpt.SOURCE, raw)
    items = list(sharegpt.generate(files))
    assert [i.id if isinstance(i, Record) else i.reason for i in items] == [
        "sharegpt_medical_dialogue:a:2",
        "not selected by the medical tagger (openai)",
    ]
    assert (
        isinstance(items[1], Rejection)
        and items[1].value == "recipe request, cooking"
        and server.requests[0][2] == "Bearer sk-env"
    )
    assert list(sharegpt.generate(files)) == items and len(server.requests) == 2  # the re-run made no call
