"""How many CLIP text-encoder tokens a frame prompt takes (method.md section 1).

Stable Diffusion's CLIP text encoder reads 77 tokens including the begin and end markers;
everything after is silently cut. The editor marks frames that do not fit.

With a tokenizer (e.g. the loaded pipeline's `pipe.tokenizer`) the count is that tokenizer's,
exactly. Without one we count offline with CLIP's own byte-level BPE: the 48,894 merge rules
of OpenAI's CLIP tokenizer ship beside this file (`clip_bpe_merges.txt.gz`, MIT licensed,
the first 49152-256-2 lines of `bpe_simple_vocab_16e6.txt`, exactly what SD 1.x/2.x
tokenizers use). Text is normalised as transformers' CLIPTokenizer does (NFC, whitespace
collapsed, lower case); OpenAI's original also runs `ftfy`, which only matters for broken
unicode (mojibake), so for ordinary prompts the counts are identical (tests compare them with
transformers' CLIPTokenizer built from the same merges).
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..frames import CLIP_MAX_TOKENS  # 77, including <|startoftext|> and <|endoftext|>

MERGES_PATH = Path(__file__).with_name("clip_bpe_merges.txt.gz")

# CLIP's pre-tokenizer: contractions, runs of letters, single digits, runs of other symbols.
_CLIP_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""
# Without the `regex` module: \p{L} ~ [^\W\d_], \p{N} ~ \d (differs only for exotic scripts).
_FALLBACK_PATTERN = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[^\W\d_]+|\d|[^\s\w]+|_+"""


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP byte-to-printable-character table (so BPE works on visible strings)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


class ClipBPE:
    """CLIP's BPE tokenizer, reduced to what counting needs: the merge ranks."""

    def __init__(self, merges_path: Path = MERGES_PATH):
        lines = gzip.open(merges_path, "rt", encoding="utf-8").read().split("\n")
        self.merges = [tuple(line.split()) for line in lines[1:] if line.strip()]
        self.ranks = {pair: i for i, pair in enumerate(self.merges)}
        self.byte_encoder = _bytes_to_unicode()
        try:
            import regex

            self.pattern = regex.compile(_CLIP_PATTERN)
        except ImportError:  # pragma: no cover - regex comes with transformers
            self.pattern = re.compile(_FALLBACK_PATTERN)
        self._cache: dict[str, tuple[str, ...]] = {}

    def vocab(self) -> dict[str, int]:
        """The full CLIP vocabulary (49,408 entries), rebuilt from the merges as CLIP does."""
        base = list(self.byte_encoder.values())
        words = base + [c + "</w>" for c in base] + ["".join(pair) for pair in self.merges]
        words += ["<|startoftext|>", "<|endoftext|>"]
        return {w: i for i, w in enumerate(words)}

    def bpe(self, token: str) -> tuple[str, ...]:
        if token in self._cache:
            return self._cache[token]
        word = list(token[:-1]) + [token[-1] + "</w>"]
        while len(word) > 1:
            pairs = {(word[i], word[i + 1]) for i in range(len(word) - 1)}
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            merged, i = [], 0
            while i < len(word):
                if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                    merged.append(word[i] + word[i + 1])
                    i += 2
                else:
                    merged.append(word[i])
                    i += 1
            word = merged
        result = tuple(word)
        if len(self._cache) < 100_000:
            self._cache[token] = result
        return result

    def tokenize(self, text: str) -> list[str]:
        """BPE pieces of `text`, without the begin/end markers."""
        text = unicodedata.normalize("NFC", text)
        text = re.sub(r"\s+", " ", text).strip().lower()
        pieces: list[str] = []
        for match in self.pattern.findall(text):
            encoded = "".join(self.byte_encoder[b] for b in match.encode("utf-8"))
            pieces.extend(self.bpe(encoded))
        return pieces


@lru_cache(maxsize=1)
def clip_bpe() -> ClipBPE:
    """The offline CLIP tokenizer, built once per process (about 0.1 s)."""
    return ClipBPE()


def _count_with(tokenizer: Any, prompt: str) -> int:
    ids = tokenizer(prompt, add_special_tokens=True, truncation=False)["input_ids"]
    if ids and isinstance(ids[0], list):  # some tokenizers return a batch for a single str
        ids = ids[0]
    return len(ids)


def token_lengths(prompts: Sequence[str], tokenizer: Any = None) -> list[int]:
    """Token count of each prompt including the begin and end markers, as the encoder sees it.

    `tokenizer`: any Hugging Face tokenizer (the pipeline's own, for an exact count); None uses
    the bundled CLIP BPE, which matches SD 1.x/2.x's CLIP tokenizer.
    """
    if tokenizer is not None:
        return [_count_with(tokenizer, p) for p in prompts]
    bpe = clip_bpe()
    return [len(bpe.tokenize(p)) + 2 for p in prompts]


def over_limit_frames(prompts: Sequence[str], tokenizer: Any = None, limit: int = CLIP_MAX_TOKENS) -> list[int]:
    """Indices (0-based) of the prompts longer than `limit` tokens; the text encoder cuts them."""
    return [i for i, n in enumerate(token_lengths(prompts, tokenizer)) if n > limit]


def fits(prompt: str, limit: int = CLIP_MAX_TOKENS) -> bool:
    return token_lengths([prompt])[0] <= limit


def truncate_to_limit(prompt: str, limit: int = CLIP_MAX_TOKENS) -> str:
    """Drop whole words from the end until `prompt` fits (used by the offline director)."""
    if fits(prompt, limit):
        return prompt
    words = prompt.split()
    lo, hi = 0, len(words)  # binary search for the longest fitting word prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(" ".join(words[:mid]), limit):
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo]).rstrip(" ,;:")
