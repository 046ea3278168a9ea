"""Cost of the language check: microseconds per text for `instance_problem` (pass 1, every text), the two
identifiers of `LanguageAudit` (pass 2, sampled texts) and `LanguageAudit.observe` on texts it does not sample.

The texts are the inputs and outputs of every converter run on its bundled sample (data/samples), repeated
up to --texts, each with the language its task declares. Usage:

    python benchmarks/language_id.py [--texts 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import languages  # noqa: E402
from pipeline.model import Record, detect_form  # noqa: E402
from pipeline.registry import converters  # noqa: E402


def sample_texts(limit: int) -> list[tuple[str, str]]:
    """(text, declared language) of the bundled samples' records, inputs and outputs, up to `limit`."""
    texts = []
    for source_id, conv in sorted(converters().items()):
        tasks = {t.id: t for t in conv.tasks}
        for item in conv.generate(detect_form(conv.source, ROOT / "data" / "samples" / source_id)):
            if isinstance(item, Record):
                task = tasks[item.task_id]
                texts += [(item.input, task.input_language), (item.output, task.output_language)]
    return list(itertools.islice(itertools.cycle(texts), limit)) if len(texts) < limit else texts[:limit]


def per_call(function: Callable[[str, str], object], texts: list[tuple[str, str]], repeat: int) -> float:
    """Best of `repeat` runs, in microseconds per text."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text, declared in texts:
            function(text, declared)
        best = min(best, time.perf_counter() - start)
    return best / len(texts) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    texts = sample_texts(args.texts)
    mean = sum(len(t) for t, _ in texts) / len(texts)
    print(f"{len(texts)} texts from data/samples, mean {mean:.0f} characters, longest {max(len(t) for t, _ in texts)}")

    print(f"instance_problem            {per_call(languages.instance_problem, texts, args.repeat):9.1f} us/text")
    other = [(t, d) for t, d in texts if not t.isascii()]
    cost = per_call(languages.instance_problem, other, args.repeat)
    print(f"  on the {len(other)} non-ASCII texts {cost:8.1f} us/text")
    cjk = [(t, d) for t, d in other if d in ("Chinese", "Japanese")]
    longest = [(t * (languages.WINDOW // len(t) + 1), d) for t, d in cjk]  # a full window of CJK text
    cost = per_call(languages.instance_problem, longest, args.repeat)
    print(f"  on {len(longest)} Chinese/Japanese texts of {languages.WINDOW}+ characters {cost:5.1f} us/text")
    prepared = [(languages.prepare(t)[0], d) for t, d in texts]
    print(f"prepare (sampled texts)     {per_call(lambda t, d: languages.prepare(t), texts, args.repeat):9.1f} us/text")
    for name, repeat in (("py3langid", args.repeat), ("langdetect", 1)):
        identify = languages.get_identifier(name)
        identify("warm up")
        print(f"{name:<27} {per_call(lambda t, d, i=identify: i(t), prepared, repeat):9.1f} us/text")

    audit = languages.LanguageAudit(sample_first=0, sample_every=10**9)  # samples the first text of a task only
    calls = itertools.count()
    observe = per_call(lambda t, d: audit.observe(f"task{next(calls) % 50}", "input", t, d), texts, args.repeat)
    print(f"observe, not sampled        {observe:9.1f} us/text")


if __name__ == "__main__":
    main()
