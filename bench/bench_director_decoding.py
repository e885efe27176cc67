"""Constrained-decoding libraries side by side on the tiny random chat model (one process).

For each library that is importable, the same exact-count frames schema
(direct2v.director.constrained.frames_schema) drives `generate` through a LogitsProcessor;
prints setup time (grammar compile), time per generated token, and whether the answer
parsed to exactly N non-empty frames. Only xgrammar is a dependency of the project; install
llguidance, outlines or lm-format-enforcer to include them.

    python bench/bench_director_decoding.py --frames 8 --chars 60
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--chars", type=int, default=60)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import torch
    from tiny_chat import build_tiny_chat_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessor, LogitsProcessorList

    from direct2v.director import constrained, prompts

    torch.set_num_threads(args.threads)
    path = build_tiny_chat_model(Path(tempfile.mkdtemp()))
    tok = AutoTokenizer.from_pretrained(path)
    lm = AutoModelForCausalLM.from_pretrained(path).eval()
    n, chars = args.frames, args.chars
    schema = constrained.frames_schema(n, chars)
    messages = prompts.direct_messages("A fox runs across a snowy field", n, 4, None, None)
    inputs = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    budget = constrained.token_budget(n, chars)
    width = lm.get_output_embeddings().weight.shape[0]

    def unconstrained():
        return LogitsProcessorList()

    def xgrammar():
        return LogitsProcessorList([constrained.Grammars(tok, width, [tok.eos_token_id]).processor(schema)])

    def llguidance():
        import llguidance as llg
        import llguidance.hf
        import llguidance.torch as lt

        lltok = llguidance.hf.from_tokenizer(tok, n_vocab=width)
        grammar = llg.LLMatcher.grammar_from_json_schema(schema, defaults={"whitespace_flexible": False})

        class Processor(LogitsProcessor):
            def __init__(self):
                self.matcher, self.mask, self.started = llg.LLMatcher(lltok, grammar), lt.allocate_token_bitmask(1, width), False

            def __call__(self, input_ids, scores):
                if self.started:
                    self.matcher.consume_token(int(input_ids[0, -1]))
                self.started = True
                lt.fill_next_token_bitmask(self.matcher, self.mask, 0)
                lt.apply_token_bitmask_inplace(scores, self.mask)
                return scores

        return LogitsProcessorList([Processor()])

    def outlines():
        import outlines as ol
        from outlines.backends import get_json_schema_logits_processor

        return LogitsProcessorList([get_json_schema_logits_processor("outlines_core", ol.from_transformers(lm, tok), json.dumps(schema))])

    def lm_format_enforcer():
        from lmformatenforcer import JsonSchemaParser
        from lmformatenforcer.integrations.transformers import build_transformers_prefix_allowed_tokens_fn
        from transformers.generation.logits_process import PrefixConstrainedLogitsProcessor

        fn = build_transformers_prefix_allowed_tokens_fn(tok, JsonSchemaParser(schema))
        return LogitsProcessorList([PrefixConstrainedLogitsProcessor(fn, 1)])

    print(f"tiny chat model, N={n} frames of at most {chars} characters, {args.threads} thread(s), torch {torch.__version__}")
    print(f"{'library':20s} {'setup s':>8s} {'tokens':>7s} {'ms/token':>9s}  exact N non-empty")
    for name, make in [("none", unconstrained), ("xgrammar", xgrammar), ("llguidance", llguidance),
                       ("outlines", outlines), ("lm-format-enforcer", lm_format_enforcer)]:
        try:
            t0 = time.perf_counter()
            processors = make()
            t1 = time.perf_counter()
        except Exception as exc:  # not installed, or its integration does not import
            print(f"{name:20s} unavailable: {type(exc).__name__}: {str(exc).splitlines()[0][:90]}")
            continue
        with torch.inference_mode():
            out = lm.generate(**inputs, max_new_tokens=budget, do_sample=False, logits_processor=processors,
                              pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        t2 = time.perf_counter()
        new = out[0, inputs["input_ids"].shape[1]:]
        try:
            frames = json.loads(tok.decode(new, skip_special_tokens=True))["frames"]
            ok = len(frames) == n and all(f.strip() for f in frames)
        except (ValueError, KeyError, TypeError):
            ok = False
        print(f"{name:20s} {t1 - t0:8.3f} {len(new):7d} {(t2 - t1) / max(1, len(new)) * 1000:9.2f}  {ok}")


if __name__ == "__main__":
    main()
