"""Keeping credentials out of everything the pipeline prints or logs.

Downloads of gated Hub datasets and `publish` authenticate with a Hugging Face token taken from the
environment (`HF_TOKEN`) or the user's `hf auth login`; the pipeline never asks for one on the
command line, where it would land in shell history and in `ps` output. Library error messages and
debug logs can still carry one (a server echoing the Authorization header, a URL with credentials),
so every line the CLI prints and every log record goes through `mask` first.

Log records are masked where they are made (a log-record factory), not by filters on a few named
loggers: a filter on a logger does not see the records its child loggers propagate, and a handler
added later (a log file, pytest's capture, Prefect's) would carry no filter at all.
"""

from __future__ import annotations

import configparser
import logging
import os
import re
import traceback
from pathlib import Path

MASK = "***"
#: Hugging Face user access tokens ("hf_" and 20+ letters/digits), whoever's they are. No word
#: boundaries: a token glued to "_" or inside a URL-encoded query ("%3Dhf_...") must match too.
HF_TOKEN = re.compile(r"hf_[A-Za-z0-9]{20,}")
BEARER = re.compile(r"(?i)\b(bearer)(\s+)([^\s'\"&,;]+)")
_TOKEN_NAMES = r"(?i)\b(token|access_token|hf_token|refresh_token)"
#: `token=VALUE` (a query string, an environment dump): any value.
TOKEN_PARAMETER = re.compile(_TOKEN_NAMES + r"(=)([^\s'\"&,;]+)")
#: `token: VALUE`, `"token": "VALUE"`: only a value that looks like a secret, so prose ("no token: set
#: HF_TOKEN") stays readable.
TOKEN_FIELD = re.compile(_TOKEN_NAMES + r"(['\"]?\s*:\s*['\"]?)([A-Za-z0-9_\-.~+/=]{16,})")
URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
#: Values of the `hf auth login` stored-tokens file that are secrets.
STORED_SECRET_KEYS = ("hf_token", "refresh_token")

_saved: dict[tuple[str, int, int], list[str]] = {}


def known_tokens() -> list[str]:
    """The token values that may be in use: the environment's, and those saved by `hf auth login`
    (the active token file and the named stored tokens). Read from the files directly: asking
    huggingface_hub (`get_token`) may refresh an OAuth token over the network."""
    tokens = [os.environ[name].strip() for name in TOKEN_VARIABLES if os.environ.get(name)]
    for path, read in _token_files():
        tokens += _read_cached(path, read)
    return [t for t in dict.fromkeys(tokens) if len(t) >= 4]


def _token_files() -> list[tuple[Path, object]]:
    try:
        from huggingface_hub import constants
    except ImportError:  # no huggingface_hub: no saved login to hide
        return []
    return [
        (Path(constants.HF_TOKEN_PATH), lambda text: [text.strip()]),
        (Path(constants.HF_STORED_TOKENS_PATH), _stored_secrets),
    ]


def _read_cached(path: Path, read) -> list[str]:
    """The secrets in `path`, re-read only when the file changes (masking runs for every log record)."""
    try:
        status = path.stat()
        key = (str(path), status.st_mtime_ns, status.st_size)
        if key not in _saved:
            _saved[key] = [t for t in read(path.read_text(encoding="utf-8", errors="replace")) if t]
        return _saved[key]
    except OSError:  # no login saved
        return []


def _stored_secrets(text: str) -> list[str]:
    config = configparser.ConfigParser(interpolation=None)
    try:
        config.read_string(text)
    except configparser.Error:  # unparseable: huggingface_hub ignores it too, and so can we
        return []
    return [config[s][k].strip() for s in config.sections() for k in STORED_SECRET_KEYS if config[s].get(k)]


def masked_form(token: str) -> str:
    """What stands in for `token`: its kind stays visible ("hf_***"), none of its secret part."""
    return "hf_" + MASK if token.startswith("hf_") else MASK


def mask(text: str, tokens: list[str] | None = None) -> str:
    """`text` with every known token, every hf_ token, bearer values, token=... assignments and URL
    credentials replaced."""
    for token in sorted(known_tokens() if tokens is None else tokens, key=len, reverse=True):
        text = text.replace(token, masked_form(token))
    text = HF_TOKEN.sub(masked_form("hf_"), text)
    for pattern in (BEARER, TOKEN_PARAMETER, TOKEN_FIELD):
        text = pattern.sub(_mask_value, text)
    return URL_CREDENTIALS.sub(f"{MASK}@", text)


def _mask_value(match: re.Match) -> str:
    value = match.group(3)
    return f"{match.group(1)}{match.group(2)}{value if value.endswith(MASK) else MASK}"


class MaskingFilter(logging.Filter):
    """Rewrites a record's message (arguments merged in first, so a token passed as a %-argument is
    caught too), its exception text and its stack with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed %-format: leave it to the handler to report, as logging does
        return record
    masked = mask(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        # Formatters format exc_info only when exc_text is empty: fill it in, masked.
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    return record


def install_log_masking() -> None:
    """Mask every log record the process makes from now on, whichever logger makes it and whichever
    handler writes it, and route warnings through logging so they are masked too."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "masks_secrets", False):
        return

    def masking_factory(*args, **kwargs) -> logging.LogRecord:
        return mask_record(factory(*args, **kwargs))

    masking_factory.masks_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masking_factory)
    logging.captureWarnings(True)
