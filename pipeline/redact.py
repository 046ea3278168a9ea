"""Keeping credentials out of everything the pipeline prints or logs.

Downloads of gated Hub datasets and `publish` authenticate with a Hugging Face token taken from the
environment (`HF_TOKEN`) or the user's `hf auth login`; the pipeline never asks for one on the
command line, where it would land in shell history. Library error messages and debug logs can still
carry one (an echoed header, a URL with credentials), so every line the CLI prints and every log
record of the libraries it drives goes through `mask` first.
"""

from __future__ import annotations

import logging
import os
import re

MASK = "***"
#: Hugging Face user access tokens ("hf_" and 30+ letters/digits), whoever's they are.
HF_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{20,}\b")
BEARER = re.compile(r"(?i)\b(bearer)(\s+)([^\s'\"&,;]+)")
TOKEN_ASSIGNMENT = re.compile(r"(?i)\b(token|access_token|hf_token)(=|:\s*)([^\s'\"&,;]+)")
URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
TOKEN_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
LOGGERS = ("", "huggingface_hub", "httpx", "httpcore", "urllib3", "filelock")


def known_tokens() -> list[str]:
    """The token values in use: the environment's, and the one saved by `hf auth login`."""
    tokens = [os.environ[name] for name in TOKEN_VARIABLES if os.environ.get(name)]
    try:
        from huggingface_hub import get_token

        saved = get_token()
    except Exception:  # no huggingface_hub, or an unreadable token file: nothing more to hide
        saved = None
    if saved:
        tokens.append(saved)
    return [t for t in dict.fromkeys(tokens) if len(t) >= 4]


def mask(text: str, tokens: list[str] | None = None) -> str:
    """`text` with every known token, every hf_ token, bearer values and URL credentials replaced."""
    for token in known_tokens() if tokens is None else tokens:
        text = text.replace(token, MASK)
    text = HF_TOKEN.sub(MASK, text)
    for pattern in (BEARER, TOKEN_ASSIGNMENT):
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return URL_CREDENTIALS.sub(f"{MASK}@", text)


class MaskingFilter(logging.Filter):
    """Rewrites each record's message with its secrets masked (the arguments are merged in first, so a
    token passed as a %-argument is caught too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking() -> None:
    """Attach the masking filter to the loggers (and their handlers) of the libraries the CLI drives."""
    masking = MaskingFilter()
    for name in LOGGERS:
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if not any(isinstance(f, MaskingFilter) for f in target.filters):
                target.addFilter(masking)
