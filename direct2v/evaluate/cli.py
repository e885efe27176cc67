"""`python -m direct2v compare`: the comparison, headless.

    python -m direct2v compare script.json --model tiny --clip-model tiny --out-dir results/ \
        [--methods first,sparse_causal,rotational,rotational+dsf --dsf 0.2 --seed 0 --steps 50 ...]

The flags are those of `direct2v.cli` (the same render settings as `render`); `--dsf` sets
the DSF quantile of the "+dsf" methods (default 0.2), `--mode` is ignored (the methods set
it). Writes table.md, table.csv, clip_scores.png, grid.mp4 and metrics.json into --out-dir,
prints both tables on stdout, progress on stderr. Exit codes as in `direct2v.cli`.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from .methods import DEFAULT_DSF_QUANTILE, DEFAULT_METHODS


def run_compare_cli(args: argparse.Namespace) -> int:
    """Run `compare` for arguments parsed by `direct2v.cli.build_parser()`. Raises
    direct2v.cli.CliError (or SettingsError) for the CLI's own error handling."""
    from .. import cli
    from ..render.errors import ModelLoadError, RenderCancelled, RenderOutOfMemory
    from .clip import load_clip
    from .compare import check_prompts, compare_methods
    from .methods import parse_methods

    project = cli.load_script(args.script)
    settings = cli.settings_from_args(args, project.settings)
    check_prompts(project.frames)
    methods = parse_methods(args.methods if args.methods else DEFAULT_METHODS)
    dsf = settings.dsf_quantile if settings.dsf_quantile > 0 else DEFAULT_DSF_QUANTILE
    model = args.model or project.model or cli.DEFAULT_MODEL
    try:
        scorer = load_clip(args.clip_model, device=args.device)
        from ..render import load_pipeline

        pipe = load_pipeline(model, device=args.device)
    except ModelLoadError as e:  # ClipLoadError included
        raise cli.CliError(str(e), cli.EXIT_MODEL) from None
    try:
        result = compare_methods(
            pipe, project.frames, settings, scorer=scorer, methods=[m.name for m in methods],
            dsf_quantile=dsf, out_dir=args.out_dir, on_step=cli.ProgressBar(enabled=not args.quiet),
            preview_every=0,
        )
    except RenderCancelled:
        raise cli.CliError("Cancelled.", cli.EXIT_INTERRUPTED) from None
    except RenderOutOfMemory as e:
        raise cli.CliError(str(e), cli.EXIT_ERROR) from None
    print(result.table_markdown)
    print(result.extra_markdown, end="")
    files = ", ".join(p.name for p in result.paths.values())
    print(f"Wrote {files} to {args.out_dir} (seed {result.seed}).", file=sys.stderr)
    return cli.EXIT_OK


def compare_main(argv: Sequence[str] | None = None) -> int:
    """`python -m direct2v compare ARGV...`; returns the exit code (0 done, 2 bad input with one
    line on stderr, 3 a model could not be loaded, 130 interrupted, 1 anything else)."""
    from .. import cli
    from ..settings import SettingsError

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["compare"]:
        argv = argv[1:]
    try:
        args = cli.build_parser().parse_args(["compare", *argv])
    except SystemExit as e:  # usage errors print one line; --help prints help
        return int(e.code or 0) if not isinstance(e.code, str) else cli.EXIT_INPUT
    try:
        return run_compare_cli(args)
    except cli.CliError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.code
    except SettingsError as e:  # PromptError and EvaluationError included
        print(f"error: {e}", file=sys.stderr)
        return cli.EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return cli.EXIT_INTERRUPTED
    except Exception as e:  # one line, not a traceback; DIRECT2V_DEBUG=1 shows it
        if os.environ.get("DIRECT2V_DEBUG"):
            raise
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return cli.EXIT_ERROR
