"""`python -m direct2v suite`: a whole suite of prompts, on one or many processes.

    python -m direct2v suite assets/suite/stories.txt --out-dir results/suite --model ... --clip-model ...
    accelerate launch --num_processes 4 -m direct2v suite assets/suite/stories.txt --out-dir results/suite ...

Render flags are `render`'s and apply to every item (over a project item's own settings);
`--mode` and `--dsf` are decided by the methods, as in `compare` (`--dsf` sets the quantile of
the "+dsf" methods, default 0.2). Exit codes as in `direct2v.cli`, and 1 when some items failed
(the report lists them; a rerun retries them).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..settings import DEFAULT_MODEL


def add_suite_parser(sub: argparse._SubParsersAction, add_setting_flags, add_model_flags, add_director_flags) -> argparse.ArgumentParser:
    s = sub.add_parser("suite", help="direct, render and score a suite of prompts (Accelerate: many GPUs), with a report")
    s.add_argument("prompts", help="text file (one prompt per line) or JSON list of prompts, frame scripts and projects")
    s.add_argument("--out-dir", default="suite", help="where items and the report go (default suite/); a rerun resumes")
    s.add_argument("--clip-model", default=None, help="CLIP hub id, local folder, or 'tiny'")
    s.add_argument("--methods", default=None, help="comma-separated methods (default first,sparse_causal,rotational,rotational+dsf)")
    s.add_argument("--device", default=None, help="torch device for a one-process run (a launcher gives each process its own)")
    add_director_flags(s)  # for items that are prompts; frame scripts are used as they are
    g = s.add_argument_group("director requests")
    g.add_argument("--director-concurrency", type=int, default=1, metavar="N",
                   help="API requests at once over all processes (default 1; retries follow the back end's rules)")
    add_model_flags(s)  # a single file's config, LoRA and scale, precision: as for render and compare
    add_setting_flags(s)
    s.add_argument("--report-only", action="store_true", help="only rewrite the report from the finished items")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    return s


def prepare(args: argparse.Namespace, settings_from_args):
    """The run's SuiteConfig and its planned items (keys, settings) from parsed arguments;
    `settings_from_args(args, base)` is the CLI's (flags over a project's settings)."""
    from ..evaluate.methods import DEFAULT_METHODS, comparison_dsf, parse_methods
    from .items import SuiteError, load_suite
    from .runner import SuiteConfig, plan_items

    items = load_suite(args.prompts)
    methods = [m.name for m in parse_methods(args.methods if args.methods else DEFAULT_METHODS)]
    backend = "openai" if args.backend == "compatible" else args.backend
    if backend is None and any(it.needs_directing for it in items):
        from ..director import default_backend

        backend = default_backend()
    from ..director import BACKENDS

    if backend is not None and backend not in BACKENDS:
        raise SuiteError(f"Unknown director back end {backend!r}; choose one of {', '.join(BACKENDS)}.")
    from ..frames import check_frame_count
    from ..settings import DirectorOptions, ModelChoice, SettingsError

    frames = args.frames if args.frames is not None else DirectorOptions().num_frames
    try:
        check_frame_count(frames)
    except SettingsError as e:
        raise SuiteError(str(e)) from None
    if args.director_concurrency < 1:
        raise SuiteError(f"--director-concurrency must be at least 1 (got {args.director_concurrency}).")

    try:
        choice = ModelChoice(args.model or DEFAULT_MODEL, args.model_config or "", args.lora or "",
                             1.0 if args.lora_scale is None else args.lora_scale, args.precision or "auto").clean().validate()
    except SettingsError as e:
        raise SuiteError(str(e)) from None
    probe = settings_from_args(args, None).validate()  # bad flags fail before any item is planned
    dsf = comparison_dsf(probe.dsf_quantile)
    records = _ip_records(args)
    config = SuiteConfig(
        out_dir=Path(args.out_dir), model=choice.model, model_config=choice.config, lora=choice.lora,
        lora_scale=choice.lora_scale, precision=choice.precision, clip_model=args.clip_model or _default_clip(),
        ip_adapter=(args.ip_adapter or "").strip(), ip_image_encoder=args.ip_image_encoder or "", ip_images=records,
        methods=methods, dsf_quantile=float(dsf), device=args.device, quiet=args.quiet,
        director={"backend": backend or "offline", "model": args.llm_model, "base_url": args.base_url,
                  "frames": frames, "style": args.style, "camera": args.camera},
        director_concurrency=args.director_concurrency,
    )

    def settings_for(item):
        # The methods decide value mapping and DSF; fixing both keeps them out of the key.
        s = settings_from_args(args, item.settings)
        return s.replace(value_mapping="rotational", dsf_quantile=0.0)

    return config, plan_items(items, config, settings_for)


def _ip_records(args: argparse.Namespace) -> list[dict]:
    """--ip-image's records (as `render` reads them); one picture set for every item."""
    from ..settings import ip_image_record

    records = [ip_image_record(text) for text in (args.ip_image or [])]
    if records and not (args.ip_adapter or "").strip():
        from .items import SuiteError

        raise SuiteError("--ip-image needs an IP-Adapter: give --ip-adapter (a weights file, a Hub path or 'tiny').")
    return records


class SuiteIncomplete(Exception):
    """Some items failed; the report lists them and a rerun retries them."""


def run_suite_cli(args: argparse.Namespace, settings_from_args) -> int:
    """Run `suite` for arguments parsed by `direct2v.cli.build_parser()`. Raises SuiteError (bad
    input), SuiteModelError (a model or the director could not start), SuiteIncomplete."""
    from .items import SuiteError
    from .runner import run_suite

    config, planned = prepare(args, settings_from_args)
    try:
        config.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SuiteError(f"Cannot create the output folder {config.out_dir}: {e.strerror or e}.") from None
    if args.report_only:
        from .report import write_report

        paths = write_report(config, planned)
        print(f"Wrote {', '.join(paths)} to {config.out_dir}.", file=sys.stderr)
        return 0
    _warn_single_cpu_launch()
    run = run_suite(planned, config)
    if run.report_paths:
        print(
            f"{len(run.done)} of {len(planned)} items done ({run.skipped} already finished); "
            f"report in {config.out_dir / 'report.md'} and {config.out_dir / 'index.html'}.",
            file=sys.stderr,
        )
    if run.failed:
        raise SuiteIncomplete(f"{len(run.failed)} of {len(planned)} items failed; see {config.out_dir / 'report.md'} "
                              "(a rerun retries them).")
    return 0


def _default_clip() -> str:
    from ..evaluate.clip import DEFAULT_CLIP_MODEL

    return DEFAULT_CLIP_MODEL


def _warn_single_cpu_launch() -> None:
    """`accelerate launch --cpu --num_processes K` starts K processes only through MPI; without it
    Accelerate starts one process and this run does every item. Say so rather than stay silent."""
    env = os.environ
    launched_cpu = env.get("ACCELERATE_USE_CPU", "").lower() in ("true", "1") and "MASTER_ADDR" in env
    if launched_cpu and not any(k in env for k in ("WORLD_SIZE", "LOCAL_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE")):
        print("note: accelerate launch --cpu started one process (several need MPI); this process renders every "
              "item. On a CPU machine use `accelerate launch --multi_gpu --num_processes K` for K processes.",
              file=sys.stderr)
