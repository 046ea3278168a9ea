"""The rewrite stage: grow each task's Definition list from its hand-written seeds to a target size
by asking an OpenAI-compatible chat model to paraphrase them, as the paper did with GPT-4.

`rewrite(task_ids, target, config=...)` works in rounds. A round asks, for every task still short of
`target` (seeds + accepted rewrites), for exactly as many new samples as it is short: sample `i`
(numbered across runs, see `pipeline.rewrite_cache`) rewrites seed `i mod n`, with the API `seed`
set to `i`. Responses are cached as they arrive; at the end of the round each task's file is
re-judged in index order (`pipeline.rewrite_filters`) and rewritten sorted. Rejections make the next
round ask again, for at most `max_rounds` rounds.

Requests run on a thread pool (`concurrency` at a time; threads rather than asyncio so that the
function can be called from inside a Prefect flow or any running event loop), started no faster than
`requests_per_minute`. 429, 5xx, timeouts, dropped connections and malformed answers are retried with
exponential backoff (`base_delay * 2**attempt`, at least the server's Retry-After, at most
`max_delay`); the client's own retries are off so that every attempt is counted here. Another HTTP
error (401, 400...) or a retryable one that persists stops the run: no new request is started, the
requests in flight are awaited and cached, and `RewriteError` says what failed and how many
responses were kept. Ctrl-C does the same (a second one abandons the requests in flight) and
then raises KeyboardInterrupt.

Spend is estimated before each request (prompt and expected answer at ~4 UTF-8 bytes per token, a
rough figure: the real tokenizer would need a download) and counted from the `usage` the server
returns. No request starts once the spent amount, plus the estimates of the requests in flight and of
the next one, would pass `budget_usd`; the run then ends normally with `budget_exhausted` set.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline import rewrite_cache, seeds
from pipeline.rewrite_cache import Entry
from pipeline.rewrite_filters import ACCEPTED
from pipeline.seeds import SEEDS_DIR

#: The paper's prompt (Wu et al., 2024, section on instruction construction), followed by the seed.
REWRITE_PROMPT = (
    "Rewrite the following instruction definition directly. You can change the wording, but keep the meaning "
    "the same. Output the rewritten definition directly without any additional information."
)
DEFAULT_MODEL = "gpt-4o"
KEY_ENV, BASE_URL_ENV = "OPENAI_API_KEY", "OPENAI_BASE_URL"


class RewriteError(RuntimeError):
    """The run stopped on an error; `report` holds what was done (and cached) before it."""

    def __init__(self, message: str, report: RewriteReport | None = None):
        super().__init__(message)
        self.report = report


@dataclass
class RewriteConfig:
    model: str = DEFAULT_MODEL
    base_url: str | None = None  # None: OPENAI_BASE_URL, else the OpenAI API
    api_key: str | None = None  # None: OPENAI_API_KEY
    concurrency: int = 8
    requests_per_minute: float | None = 500.0  # None or 0: no pacing
    max_retries: int = 5
    base_delay: float = 1.0  # seconds before the first retry; doubled each time
    max_delay: float = 60.0
    timeout: float = 60.0  # seconds per request
    budget_usd: float | None = 10.0  # None: no limit
    # gpt-4o list prices (USD per 1K tokens); set them for another model, 0 for a local server.
    price_input_per_1k: float = 0.0025
    price_output_per_1k: float = 0.01
    temperature: float = 1.0
    max_tokens: int = 1024
    max_rounds: int = 5
    prompt: str = REWRITE_PROMPT

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_input_per_1k + completion_tokens * self.price_output_per_1k) / 1000

    def resolved_key(self) -> str | None:
        return self.api_key or os.environ.get(KEY_ENV) or None

    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get(BASE_URL_ENV) or None


@dataclass(frozen=True)
class Request:
    task_id: str
    index: int
    seed: str
    seed_number: int  # position of the seed in the task's seeds file

    def messages(self, prompt: str) -> list[dict[str, str]]:
        return [{"role": "user", "content": f"{prompt}\n\n{self.seed}"}]


def estimate_tokens(text: str) -> int:
    """~4 bytes of UTF-8 per token: close for English, and about one token per CJK character."""
    return math.ceil(len(text.encode("utf-8")) / 4)


def estimate_cost(request: Request, config: RewriteConfig) -> float:
    """What a request is expected to cost: its prompt, and an answer as long as the seed."""
    prompt_tokens = estimate_tokens(request.messages(config.prompt)[0]["content"]) + 8  # chat formatting
    return config.cost(prompt_tokens, estimate_tokens(request.seed))


@dataclass
class TaskReport:
    task_id: str
    seeds: int
    rewrites: int = 0  # accepted rewrites now in the cache
    target: int = 0
    calls: int = 0  # responses received in this run
    cached: int = 0  # responses already in the cache when the run started
    rejected: dict[str, int] = field(default_factory=dict)  # over every cached response, by reason

    @property
    def definitions(self) -> int:
        return self.seeds + self.rewrites

    @property
    def short(self) -> int:
        return max(0, self.target - self.definitions)


@dataclass
class RewriteReport:
    model: str
    target: int
    dry_run: bool = False
    tasks: dict[str, TaskReport] = field(default_factory=dict)
    planned: list[Request] = field(default_factory=list)  # dry run: the requests of the first round
    calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0  # of the responses received in this run, from their usage
    estimated_cost_usd: float = 0.0  # dry run: of `planned`
    budget_exhausted: bool = False
    rounds: int = 0

    def as_dict(self) -> dict:
        data = asdict(self)
        for task_id, task in self.tasks.items():
            data["tasks"][task_id] |= {"definitions": task.definitions, "short": task.short}
        return data

    def summary(self) -> str:
        short = [t for t in self.tasks.values() if t.short]
        lines = []
        if self.dry_run:
            lines.append(
                f"dry run: {len(self.planned)} requests to {self.model} would be made in the first round, "
                f"estimated ${self.estimated_cost_usd:.4f} (rejected rewrites would need further rounds)"
            )
        else:
            lines.append(
                f"{self.calls} calls to {self.model} in {self.rounds} rounds ({self.retries} retries): "
                f"{self.prompt_tokens} prompt + {self.completion_tokens} completion tokens, "
                f"estimated cost ${self.cost_usd:.4f}"
            )
        rejected: dict[str, int] = {}
        for task in self.tasks.values():
            for reason, n in task.rejected.items():
                rejected[reason] = rejected.get(reason, 0) + n
        done = len(self.tasks) - len(short)
        lines.append(f"{done} of {len(self.tasks)} tasks have at least {self.target} definitions")
        if rejected:
            counts = ", ".join(f"{n} {reason}" for reason, n in sorted(rejected.items()))
            lines.append(f"rejected rewrites in the cache: {counts}")
        if self.budget_exhausted:
            lines.append("budget reached: no further requests were started; completed responses are cached")
        for task in short:
            lines.append(f"  {task.task_id}: {task.definitions} of {self.target} ({task.short} short)")
        return "\n".join(lines)


class _Task:
    """One task's seeds and cache file during a run."""

    def __init__(self, task_id: str, seeds_dir: Path, config: RewriteConfig, write: bool):
        self.seeds = seeds.load(task_id, seeds_dir)
        self.file = rewrite_cache.path(task_id, seeds_dir)
        self.config, self.write = config, write
        entries, torn = rewrite_cache.load(self.file)
        self.entries = {e.index: e for e in rewrite_cache.replay(self.seeds, entries)}
        self.report = TaskReport(task_id, len(self.seeds.definitions), cached=len(entries))
        if write and (torn or not rewrite_cache.is_current(self.seeds, entries)):
            rewrite_cache.save(self.file, self.entries.values())
        self._count()

    def _count(self) -> None:
        values = list(self.entries.values())
        self.report.rewrites = sum(e.verdict == ACCEPTED for e in values)
        self.report.rejected = rewrite_cache.rejections(values)

    def plan(self, target: int) -> list[Request]:
        """The lowest free sample indices, as many as the task is short of `target`."""
        self.report.target = target
        need = target - len(self.seeds.definitions) - self.report.rewrites
        requests, index = [], 0
        while len(requests) < need:
            if index not in self.entries:
                number = index % len(self.seeds.definitions)
                requests.append(Request(self.report.task_id, index, self.seeds.definitions[number], number))
            index += 1
        return requests

    def record(self, request: Request, result: _Result) -> None:
        prompt = rewrite_cache.prompt_key(self.config.prompt)
        entry = Entry(request.index, self.config.model, prompt, request.seed, result.text, usage=result.usage)
        rewrite_cache.append(self.file, entry)
        self.entries[request.index] = entry
        self.report.calls += 1

    def refilter(self) -> None:
        judged = rewrite_cache.replay(self.seeds, self.entries.values())
        self.entries = {e.index: e for e in judged}
        rewrite_cache.save(self.file, judged)
        self._count()


class _Limiter:
    """At most `per_minute` starts a minute, evenly spaced. `clock` and `sleep` are injectable so the
    pacing can be checked without waiting."""

    def __init__(
        self,
        per_minute: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
    ):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.clock, self.sleep = clock, sleep
        self.next_start = -math.inf

    def wait(self) -> None:
        now = self.clock()
        if now < self.next_start:
            self.sleep(self.next_start - now)
            now = self.next_start
        self.next_start = now + self.interval


class _CtrlC:
    """While a run is in flight, Ctrl-C only sets `stop`: no new request starts, the ones on the wire
    (already paid for) are awaited and cached, then KeyboardInterrupt is raised. Turning the signal
    into a flag keeps it from landing between receiving a response and writing it down. A second
    Ctrl-C interrupts at once. Only installed over Python's default handler, in the main thread."""

    def __init__(self, stop: threading.Event):
        self.stop, self.caught, self.previous = stop, False, None
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self.previous = signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        self.caught = True
        self.stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def restore(self) -> None:
        if self.previous is not None and signal.getsignal(signal.SIGINT) == self._handle:
            signal.signal(signal.SIGINT, self.previous)


class _Malformed(Exception):
    pass


@dataclass
class _Result:
    text: str
    usage: dict[str, int]


class _Caller:
    """Sends requests with retries, paced, within the budget."""

    def __init__(self, config: RewriteConfig, report: RewriteReport, limiter: _Limiter | None = None):
        key = config.resolved_key()
        if not key:
            raise RewriteError(
                f"no API key: set {KEY_ENV} (any non-empty value for a local server that does not check keys), "
                "or use --dry-run to see the requests without sending them",
                report,
            )
        import openai  # here: builds and dry runs never need it

        self.openai = openai
        self.client = openai.OpenAI(
            api_key=key, base_url=config.resolved_base_url(), timeout=config.timeout, max_retries=0
        )
        self.config, self.report = config, report
        self.stop = threading.Event()
        self.limiter = limiter or _Limiter(config.requests_per_minute, sleep=self.stop.wait)
        self.lock = threading.Lock()
        self.spent = 0.0

    def call(self, request: Request) -> _Result:
        retryable = (
            self.openai.RateLimitError,
            self.openai.InternalServerError,
            self.openai.APITimeoutError,
            self.openai.APIConnectionError,
            self.openai.APIResponseValidationError,
            json.JSONDecodeError,  # a 200 whose body is not JSON
            _Malformed,
        )
        attempt = 0
        while True:
            try:
                completion = self.client.chat.completions.create(
                    model=self.config.model,
                    messages=request.messages(self.config.prompt),
                    temperature=self.config.temperature,
                    max_tokens=self.config.max_tokens,
                    seed=request.index,
                )
                return _parse(completion)
            except retryable as error:
                if attempt >= self.config.max_retries or self.stop.is_set():
                    raise RewriteError(
                        f"{request.task_id} sample {request.index}: {_describe(error)} (after {attempt} retries)"
                    ) from error
                delay = min(self.config.max_delay, self.config.base_delay * 2**attempt)
                delay = max(delay * (1 + random.random() / 4), _retry_after(error))
                with self.lock:
                    self.report.retries += 1
                attempt += 1
                self.stop.wait(min(delay, self.config.max_delay))
            except self.openai.APIStatusError as error:
                hint = f" (check {KEY_ENV})" if error.status_code in (401, 403) else ""
                raise RewriteError(f"{request.task_id} sample {request.index}: {_describe(error)}{hint}") from error

    def run(self, plan: list[Request], record: Callable[[Request, _Result], None]) -> list[RewriteError]:
        """Send `plan`; `record` each response (in this thread) as soon as it arrives. Returns the
        errors that stopped the run early; raises KeyboardInterrupt after caching what was in flight."""
        config = self.config
        pending = deque(plan)
        inflight: dict[Future[_Result], tuple[Request, float]] = {}
        errors: list[RewriteError] = []
        reserved = 0.0
        self.stop.clear()

        def collect(done: set[Future[_Result]]) -> None:
            nonlocal reserved
            for future in done:
                request, estimate = inflight.pop(future)
                reserved -= estimate
                try:
                    result = future.result()
                except RewriteError as error:
                    errors.append(error)
                    pending.clear()  # a persistent failure: start nothing new
                    continue
                except Exception as error:  # an unexpected client error: report it, keep the rest
                    errors.append(RewriteError(f"{request.task_id} sample {request.index}: {error!r}"))
                    pending.clear()
                    continue
                record(request, result)
                prompt_tokens = result.usage.get("prompt_tokens", 0)
                completion_tokens = result.usage.get("completion_tokens", 0)
                cost = config.cost(prompt_tokens, completion_tokens) if result.usage else estimate
                self.spent += cost
                self.report.cost_usd += cost
                self.report.prompt_tokens += prompt_tokens
                self.report.completion_tokens += completion_tokens
                self.report.calls += 1

        pool = ThreadPoolExecutor(max_workers=max(1, config.concurrency), thread_name_prefix="rewrite")
        interrupted = _CtrlC(self.stop)
        try:
            while True:
                while pending and len(inflight) < max(1, config.concurrency) and not self.stop.is_set():
                    estimate = estimate_cost(pending[0], config)
                    if config.budget_usd is not None and self.spent + reserved + estimate > config.budget_usd:
                        self.report.budget_exhausted = True
                        pending.clear()
                        break
                    self.limiter.wait()
                    if self.stop.is_set():
                        break
                    request = pending.popleft()
                    reserved += estimate
                    inflight[pool.submit(self.call, request)] = (request, estimate)
                if not inflight:
                    break
                collect(wait(list(inflight), return_when=FIRST_COMPLETED).done)
        except KeyboardInterrupt:
            # Ctrl-C under a handler other than Python's default: it arrived as an exception, perhaps
            # between two statements above. Stop, and still cache what is on the wire.
            self.stop.set()
            while inflight:
                collect(wait(list(inflight), return_when=FIRST_COMPLETED).done)
            raise
        finally:
            interrupted.restore()
            self.stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
        if interrupted.caught:
            raise KeyboardInterrupt
        return errors


def _parse(completion: Any) -> _Result:
    """The answer text and token usage of a chat completion; _Malformed when it is not one."""
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or not choices or getattr(choices[0], "message", None) is None:
        shown = completion if isinstance(completion, str) else type(completion).__name__
        raise _Malformed(f"malformed response (no choices[0].message): {str(shown)[:200]!r}")
    content = choices[0].message.content
    if content is not None and not isinstance(content, str):
        raise _Malformed(f"malformed response: message content is {type(content).__name__}")
    usage = getattr(completion, "usage", None)
    counts = {}
    if usage is not None:
        counts = {k: int(getattr(usage, k) or 0) for k in ("prompt_tokens", "completion_tokens")}
    return _Result(content or "", counts)


def _describe(error: BaseException) -> str:
    status = getattr(error, "status_code", None)
    if status is not None:
        message = getattr(error, "message", "") or str(error)
        return f"HTTP {status} from the server: {message}"[:300]
    if type(error).__name__ == "APITimeoutError":
        return "the request timed out"
    if type(error).__name__ == "APIConnectionError":
        return f"could not connect to the server ({error})"
    if isinstance(error, ValueError):  # the openai client raises JSONDecodeError on a body that is not JSON
        return f"malformed response: {error}"
    return str(error)


def _retry_after(error: BaseException) -> float:
    response = getattr(error, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else 0.0
    except ValueError:
        return 0.0


def rewrite(
    task_ids: list[str],
    target: int,
    *,
    config: RewriteConfig,
    dry_run: bool = False,
    seeds_dir: Path = SEEDS_DIR,
) -> RewriteReport:
    """Grow each task's Definition list (seeds + accepted rewrites) to `target`.

    Returns the report; raises RewriteError (with `.report`) when requests failed for good, after
    caching every response that arrived, and SeedError or RewriteCacheError for bad seeds or cache
    files. A dry run sends nothing, writes nothing and needs no key: `report.planned` holds the
    first round's requests and `report.estimated_cost_usd` their estimated cost."""
    report = RewriteReport(config.model, target, dry_run=dry_run)
    tasks = {t: _Task(t, Path(seeds_dir), config, write=not dry_run) for t in dict.fromkeys(task_ids)}
    report.tasks = {t: task.report for t, task in tasks.items()}
    if dry_run:
        report.planned = [r for task in tasks.values() for r in task.plan(target)]
        report.estimated_cost_usd = sum(estimate_cost(r, config) for r in report.planned)
        return report
    caller: _Caller | None = None
    for _ in range(config.max_rounds):
        plan = [r for task in tasks.values() for r in task.plan(target)]
        if not plan or report.budget_exhausted:
            break
        caller = caller or _Caller(config, report)
        report.rounds += 1
        try:
            errors = caller.run(plan, lambda request, result: tasks[request.task_id].record(request, result))
        finally:  # verdicts and sorted files even when interrupted: every response received is in them
            for task in tasks.values():
                if not rewrite_cache.is_current(task.seeds, task.entries.values()):
                    task.refilter()
        if errors:
            kept = sum(t.report.calls for t in tasks.values())
            raise RewriteError(
                f"{len(errors)} request(s) failed: {errors[0]}; the {kept} responses received in this run are "
                f"cached in {Path(seeds_dir) / rewrite_cache.FOLDER} and will not be asked again",
                report,
            ) from errors[0]  # the cause chain tells a caller (the Prefect flow) whether retrying may help
    for task in tasks.values():
        task.plan(target)  # sets the target of tasks that needed nothing
    return report
