"""Constrained decoding for the local director: the answer's shape is enforced token by token.

A JSON schema admits a short plan (the beats the task prompt asks for) and then exactly N
frame strings, each non-empty and of bounded length, and
xgrammar turns it into a grammar that masks every token that would leave it, inside
transformers' `generate` (a LogitsProcessor). A malformed or wrong-length answer is
therefore impossible rather than repaired afterwards; the retry loop in base.py only sees
answers that parse.

Why xgrammar: of the four well-kept libraries that install from PyPI here (xgrammar,
llguidance, outlines, lm-format-enforcer), it added the least time per generated token on
the tiny test model (README, "Local director"), ships a ready LogitsProcessor for
`generate`, and lm-format-enforcer's transformers integration does not import under
transformers 5.

The frame pattern: it starts and ends with a letter or digit and holds no quotes,
backslashes, asterisks, backticks or control characters, so `parsing._clean` (which strips
quotes, "**" and "Frame k:" labels) can never turn it into an empty string. Printable ASCII
and the accented Latin letters (U+00C0-U+024F, less the signs x and ÷), so a name such as
"Zoë" or a word such as "café" can be written; each such letter is two bytes in UTF-8, so one
token is at least half a character and the token budget below counts two tokens a character.
"""

from __future__ import annotations

import json
import threading
from typing import Any

# About 40 words plus the style; the quality gate checks the 77 CLIP tokens precisely.
MAX_FRAME_CHARS = 320
# The plan before the frames: the prompt asks for 2 to 5 short phrases (prompts.py).
MAX_BEATS = 5
MAX_BEAT_CHARS = 80
# Accented Latin letters: Latin-1 Supplement and Latin Extended-A/B, less × and ÷.
_ACCENTED = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
_EDGE = f"[A-Za-z0-9{_ACCENTED}]"
# Printable ASCII except the characters listed in the module docstring, and accented letters.
_BODY = f"""[ !#-)+-\\[\\]-_a-~{_ACCENTED}]"""


def frame_pattern(max_chars: int = MAX_FRAME_CHARS) -> str:
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    if max_chars == 1:
        return f"^{_EDGE}$"
    return f"^{_EDGE}(?:{_BODY}{{0,{max_chars - 2}}}{_EDGE})?$"


def frames_schema(num_frames: int, max_chars: int = MAX_FRAME_CHARS) -> dict:
    """{"beats": [...], "frames": [...]}: the plan the task prompt asks for (1 to MAX_BEATS short
    phrases), written first, then exactly `num_frames` strings matching `frame_pattern`. Without
    the beats the grammar would forbid the very plan the prompt asks the model to write."""
    return {
        "type": "object",
        "properties": {
            "beats": {
                "type": "array",
                "items": {"type": "string", "pattern": frame_pattern(MAX_BEAT_CHARS)},
                "minItems": 1,
                "maxItems": MAX_BEATS,
            },
            "frames": {
                "type": "array",
                "items": {"type": "string", "pattern": frame_pattern(max_chars)},
                "minItems": num_frames,
                "maxItems": num_frames,
            },
        },
        "required": ["beats", "frames"],
        "additionalProperties": False,
    }


def frame_schema(max_chars: int = MAX_FRAME_CHARS) -> dict:
    """{"frame": "..."}: one rewritten frame, same pattern."""
    return {
        "type": "object",
        "properties": {"frame": {"type": "string", "pattern": frame_pattern(max_chars)}},
        "required": ["frame"],
        "additionalProperties": False,
    }


def token_budget(num_items: int, max_chars: int = MAX_FRAME_CHARS, *, beats: bool = False) -> int:
    """Enough new tokens for the longest answer the schema admits (one token >= one byte, an
    accented letter two bytes): `{"frames": [` and `]}`, then per item its quotes and `, `
    separator; the beats likewise."""
    plan = MAX_BEATS * (2 * MAX_BEAT_CHARS + 4) + 16 if beats else 0
    return num_items * (2 * max_chars + 4) + 16 + plan


class Grammars:
    """xgrammar state for one tokenizer: built once, grammars compiled once per shape.

    The compiler's own cache is off: xgrammar 0.2.8 fails a hash check when it caches a
    pattern with a long bounded repetition, so compiled grammars are kept here instead."""

    def __init__(self, tokenizer: Any, vocab_size: int, stop_token_ids: list[int] | None = None):
        import xgrammar as xgr

        self._xgr = xgr
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size, stop_token_ids=stop_token_ids)
        self._compiler = xgr.GrammarCompiler(info, cache_enabled=False)
        self._compiled: dict[str, Any] = {}
        self._lock = threading.Lock()

    def processor(self, schema: dict) -> Any:
        """A fresh LogitsProcessor for one `generate` call (it keeps per-call state)."""
        key = json.dumps(schema, sort_keys=True)
        with self._lock:
            if key not in self._compiled:
                self._compiled[key] = self._compiler.compile_json_schema(key, any_whitespace=False, strict_mode=True)
            compiled = self._compiled[key]
        return self._xgr.contrib.hf.LogitsProcessor(compiled)
