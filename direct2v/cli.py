"""`python -m direct2v {direct,render,compare,suite}`: the page's work, headless.

    python -m direct2v direct "a corgi is running, and another corgi joins later" --frames 8
    python -m direct2v render script.json --model tiny --out video.mp4 --steps 20 --seed 0
    python -m direct2v compare script.json --model tiny --clip-model tiny --out-dir results/
    accelerate launch -m direct2v suite prompts.txt --out-dir results/   # many prompts, many GPUs

Exit codes: 0 done; 2 bad input (one line on stderr); 3 the model could not be loaded;
4 the director failed; 130 interrupted; 1 anything unexpected.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from .settings import (
    PRESETS, DirectorOptions, ModelChoice, Project, RenderSettings, SettingsError, ip_image_record, knobs,
    resolve_seed,
    start_image_ref,
)

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_MODEL, EXIT_DIRECTOR, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_INPUT):
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit 2), like every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message} (see --help)\n")


# ----------------------------------------------------------------------------- parser
def program_name(argv0: str | None = None) -> str:
    """How the user started us: the `direct2v` console command or `python -m direct2v`."""
    name = Path(argv0 if argv0 is not None else (sys.argv[0] if sys.argv else "")).name
    return "direct2v" if name in ("direct2v", "direct2v.exe") else "python -m direct2v"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=program_name(), description="DirecT2V: LLM-directed zero-shot text-to-video.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    d = sub.add_parser("direct", help="write a frame script (JSON list of prompts) from one prompt")
    d.add_argument("prompt", help="the story in a sentence, e.g. 'a corgi is running, and another corgi joins later'")
    d.add_argument("--fps", type=float, default=4, help="frames per second the script is written for, e.g. 4 or 2.5 (default 4)")
    add_director_flags(d)
    d.add_argument("--image", default=None, metavar="PATH",
                   help="the start picture (frame 1): vision-capable back ends see it, so the prompt may give only the "
                        "motion; --project records it for render")
    d.add_argument("--double", type=int, default=0, metavar="K", help="double the frame rate K times (paper 4.3)")
    d.add_argument("--out", default=None, help="also write the script (or a project with --project) to this file")
    d.add_argument("--project", action="store_true", help="write a project file (prompt, frames, default settings) instead of a bare list")

    r = sub.add_parser("render", help="render a frame script or project file to mp4/gif/zip")
    r.add_argument("script", help="JSON list of frame prompts, or a project file")
    r.add_argument("--out", default="direct2v.mp4", help="output path: .mp4, .gif or .zip (PNG frames); default direct2v.mp4")
    r.add_argument("--device", default=None, help="torch device (default cuda if available)")
    add_model_flags(r)
    r.add_argument("--image", default=None, metavar="PATH",
                   help="start from a picture: frame 1 is this image, cropped to the frame (see --image-strength, --image-mode)")
    add_setting_flags(r)
    r.add_argument("--save-project", default=None, metavar="PATH", help="also save a project file with the seed actually used")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    c = sub.add_parser("compare", help="render with several methods and write the paper's Table 1 (direct2v.evaluate)")
    c.add_argument("script", help="JSON list of frame prompts, or a project file")
    c.add_argument("--clip-model", default=None, help="CLIP hub id, local folder, or 'tiny'")
    c.add_argument("--out-dir", default="results", help="where the table, plot and video grid go (default results/)")
    c.add_argument("--methods", default=None, help="comma-separated methods (default: the evaluation's four)")
    c.add_argument("--device", default=None)
    add_model_flags(c)
    add_setting_flags(c)
    c.add_argument("--quiet", action="store_true")

    from .suite.cli import add_suite_parser

    add_suite_parser(sub, add_setting_flags, add_model_flags, add_director_flags)
    return p


def add_model_flags(p: argparse.ArgumentParser, defaults: dict[str, Any] | None = None, identity: bool = True) -> None:
    """--model and its companions (a single file's config, LoRA weights and their scale,
    precision), from ModelChoice's fields; not given = the project's, else the defaults."""
    add_schema_flags(p, ModelChoice, "model (default: the project's, else as shown)", defaults=defaults)
    if identity:  # the IP-Adapter and its pictures (render, compare, suite; app.py has its own --ip-adapter)
        add_identity_flags(p)


def add_identity_flags(p: argparse.ArgumentParser) -> None:
    """The IP-Adapter and its reference pictures (render/ip_adapter.py); strength is --ip-scale."""
    g = p.add_argument_group("identity (IP-Adapter; default: the project's)")
    g.add_argument("--ip-adapter", default=None, metavar="FILE_OR_HUB_PATH",
                   help="IP-Adapter weights for --ip-image: a .safetensors/.bin file (its image encoder in image_encoder/ "
                        "beside it), a Hub path such as h94/IP-Adapter/models/ip-adapter_sd15.safetensors (the encoder in "
                        "models/image_encoder), or 'tiny'")
    g.add_argument("--ip-image-encoder", default=None, metavar="FOLDER",
                   help="the adapter's image encoder, when it is not in image_encoder/ beside the weights")
    g.add_argument("--ip-image", action="append", default=None, metavar="[FRAME:]PATH",
                   help="keep this identity: a reference picture for every frame (strength: --ip-scale); repeat as "
                        "FRAME:PATH for a picture from that frame (1-based) on, FRAME:none for none from there")


def add_director_flags(p: argparse.ArgumentParser) -> None:
    """The director's options (back end, LLM, base URL, style, camera, frames), from DirectorOptions' fields."""
    add_schema_flags(p, DirectorOptions, "director")


def add_schema_flags(p: argparse.ArgumentParser, cls: type, title: str, defaults: dict[str, Any] | None = None) -> None:
    """One flag per field of a settings dataclass, from its metadata: type, choices, range and
    help. The flag names the destination (--llm-model -> llm_model); a flag not given is None
    unless `defaults` (by field) says otherwise, so a project's value can stand."""
    g = p.add_argument_group(title)
    for f, k in knobs(cls):
        g.add_argument(k.flag, dest=flag_dest(k), **_flag_kwargs(f, k, (defaults or {}).get(f.name)))


def flag_dest(k) -> str:
    return k.flag.removeprefix("--").replace("-", "_")


def _flag_kwargs(f, k, default: Any = None) -> dict[str, Any]:
    kw: dict[str, Any] = {"default": default}
    if k.cli_parse is not None:
        kw["type"] = k.cli_parse
    elif isinstance(f.default, (int, float)) and not isinstance(f.default, bool):
        kw["type"] = type(f.default)
    if k.choices and k.cli_parse is None:
        kw["choices"] = [v for _, v in k.choices]
    rng = f" [{k.lo:g}, {k.hi:g}]" if k.lo is not None and k.hi is not None and abs(k.hi) < 1e6 else ""
    kw["help"] = f"{k.help}{rng} (default {_default_text(f.default if default is None else default)})"
    return kw


def model_choice_from_args(args: argparse.Namespace, project: Project) -> "ModelChoice":
    """--model, --model-config, --lora, --lora-scale and --precision, else the project's, else the
    defaults. A model given on the command line does not inherit the project's config or LoRA."""
    base = ModelChoice(args.model) if args.model else project.model_choice()
    given = {f.name: getattr(args, flag_dest(k)) for f, k in knobs(ModelChoice)
             if f.name != "model" and getattr(args, flag_dest(k), None) is not None}
    return base.replace(**given).clean().validate()


def precision_dtype(name: str):
    from .render.loading import precision_dtype as dtype_of

    return dtype_of(name)


def add_setting_flags(p: argparse.ArgumentParser, cls: type = RenderSettings) -> None:
    """One flag per RenderSettings field, from its metadata, plus --preset. Every subcommand
    that renders calls this, so a new setting appears on all of them."""
    g = p.add_argument_group("render settings (override the project's; defaults as in the page)")
    g.add_argument("--preset", choices=sorted(PRESETS), help="start from a preset ('paper': PNDM, 100 steps, t0=90, t1=95, guidance 12)")
    for f, k in knobs(cls):
        g.add_argument(k.flag, dest=f.name, **_flag_kwargs(f, k))


def _default_text(v: Any) -> str:
    if isinstance(v, tuple):
        return ",".join(v)
    return repr(v) if v == "" else str(v)


def settings_from_args(args: argparse.Namespace, base: RenderSettings | None = None) -> RenderSettings:
    """The project's settings (or defaults), then the preset, then explicit flags; not checked
    here (the renderer's gate checks them once; `checked_settings` checks them up front).

    --steps without --t0/--t1 scales t0 and t1 with it (`RenderSettings.with_steps`)."""
    s = base or RenderSettings()
    if getattr(args, "preset", None):
        s = s.with_preset(args.preset)
    changes = {f.name: getattr(args, f.name) for f, _ in knobs(type(s)) if getattr(args, f.name, None) is not None}
    steps = changes.pop("num_inference_steps", None)
    if steps is not None and "t0" not in changes and "t1" not in changes:
        s = s.with_steps(steps)
    elif steps is not None:
        changes["num_inference_steps"] = steps
    return s.replace(**changes)


def checked_settings(args: argparse.Namespace, base: RenderSettings | None = None) -> RenderSettings:
    """`settings_from_args` with the seed drawn, checked before any model loads: the settings that
    render (a draft's few-step ones, `for_render`), so the renderer does not check them again."""
    s = settings_from_args(args, base)
    s = s.replace(seed=resolve_seed(s.seed))
    s.for_render().validate()
    return s


def load_script(path: str) -> Project:
    if not Path(path).exists():
        raise CliError(f"{path}: no such file.")
    project = Project.load(path)
    if not project.frames:
        raise CliError(f"{path}: the script has no frame prompts.")
    return project


# ----------------------------------------------------------------------------- progress
class ProgressBar:
    """A one-line bar on stderr (redrawn in place on a terminal, a line per 10% otherwise)."""

    def __init__(self, stream=None, enabled: bool = True, width: int = 30):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1

    def __call__(self, info: Any) -> None:
        if not self.enabled:
            return
        step, total = int(info.step), max(int(info.total), 1)
        filled = int(self.width * step / total)
        eta = getattr(info, "eta_s", None)
        eta_s = f"{eta:5.1f}s left" if isinstance(eta, (int, float)) else "   ...   "
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {step:>4}/{total} {info.phase:<12} {eta_s}"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if step >= total else ""))
            self.stream.flush()
        else:
            decile = 10 * step // total
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(line + "\n")
                self.stream.flush()


# ----------------------------------------------------------------------------- commands
def cmd_direct(args: argparse.Namespace) -> int:
    from .director import DirectorError, DirectorInputError, make_director

    backend = "openai" if args.backend == "compatible" else args.backend
    if backend is None:
        try:
            from .director import default_backend

            backend = default_backend()
        except ImportError:
            backend = "offline"
    image_ref = start_image_ref(args.image) if args.image else None  # a missing file fails before any request
    try:
        director = make_director(backend, model=args.llm_model, api_key=None, base_url=args.base_url)
        num_frames = args.frames if args.frames is not None else DirectorOptions().num_frames
        result = director.direct(args.prompt, num_frames=num_frames, fps=args.fps, camera=args.camera, style=args.style,
                                 image=args.image)
        for note in result.notes():  # who wrote it (and why not the chosen back end), the picture
            print(note, file=sys.stderr)
        fps = int(args.fps) if float(args.fps).is_integer() else args.fps
        for _ in range(max(0, args.double)):
            result = director.double_fps(result, fps=fps, user_prompt=args.prompt, camera=args.camera, style=args.style)
            fps *= 2
            print(f"Doubled to {len(result)} frames at {fps:g} fps. {result.byline()}", file=sys.stderr)
    except DirectorInputError as e:
        raise CliError(str(e), EXIT_INPUT) from None
    except DirectorError as e:
        raise CliError(str(e), EXIT_DIRECTOR) from None
    for i, problems in sorted(result.flags.items()):  # accepted, never dropped: say what is wrong
        print(f"warning: frame {i + 1}: {', and '.join(problems)}", file=sys.stderr)
    frames = list(result)
    if args.project:
        text = Project(
            user_prompt=args.prompt,
            frames=frames,
            settings=RenderSettings(fps=max(1, round(fps))),  # a video plays at a whole frame rate
            director=DirectorOptions(backend=args.backend or backend, model=args.llm_model or "", base_url=args.base_url or "",
                                     style=args.style or "", camera=args.camera or "", num_frames=num_frames),
            start_image=image_ref,
        ).to_json()
    else:
        text = json.dumps(frames, indent=2, ensure_ascii=False)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return EXIT_OK


def _load_pipe(choice: ModelChoice, args: argparse.Namespace):
    from .render import ModelLoadError, load_pipeline

    try:
        return load_pipeline(choice.model, device=args.device, dtype=precision_dtype(choice.precision), config=choice.config,
                             lora=choice.lora, lora_scale=choice.lora_scale)
    except ModelLoadError as e:
        raise CliError(str(e), EXIT_MODEL) from None


def start_image_from_args(args: argparse.Namespace, project: Project, settings: RenderSettings) -> tuple[Any, dict[str, str] | None]:
    """(the start picture, its project record): --image, else the project's own (checked to be
    the same file), else none. A bad picture fails here, before the model loads."""
    from .render.start_image import fit_to_frame, load_image
    from .settings import check_start_image_ref

    if args.image:
        path, ref = Path(args.image), start_image_ref(args.image)
    elif project.start_image:
        path = check_start_image_ref(project.start_image, base=Path(args.script).resolve().parent)
        ref = project.start_image
    else:
        return None, None
    image = load_image(path)
    _, crop = fit_to_frame(image, settings.width, settings.height)
    print(f"Start image {path.name}: {crop.describe()}.", file=sys.stderr)
    return image, ref


@dataclass
class Identity:
    """The IP-Adapter of a render: its name ("" = none), the references as `render()` takes
    them (None, a picture, or {first frame: picture or None}) and their project records."""

    adapter: str = ""
    references: Any = None
    records: list[dict[str, Any]] = field(default_factory=list)


def identity_from_args(args: argparse.Namespace, project: Project) -> Identity:
    """--ip-adapter and --ip-image, else the project's; a missing or changed picture fails here,
    before the model loads."""
    from .render.ip_adapter import record_pictures, references_of

    adapter = (args.ip_adapter if args.ip_adapter is not None else project.ip_adapter).strip()
    if args.ip_image:
        records, base = [ip_image_record(text) for text in args.ip_image], None
    else:
        records, base = project.ip_images, Path(args.script).resolve().parent
    if records and not adapter:
        raise CliError("--ip-image needs an IP-Adapter: give --ip-adapter (a weights file, a Hub path or 'tiny').")
    carried = records if args.ip_image else pictures_in_bundle(records, Path(args.script))
    pictures = record_pictures(carried, base, remedy="give --ip-image")
    return Identity(adapter, references_of(pictures), list(records))


def pictures_in_bundle(records: list[dict[str, Any]], script: Path) -> list[dict[str, Any]]:
    """A project zip (the page's Save project on a public server) carries its pictures as members
    named by the records: those records get their PNG, which record_pictures checks against the
    hash (the records kept in outputs stay without it)."""
    if script.suffix.lower() != ".zip":
        return records
    import base64
    import zipfile

    from .video import open_zip_member

    out = []
    with zipfile.ZipFile(script) as zf:
        names = set(zf.namelist())
        for r in records:
            if r.get("path") in names and not r.get("png_base64"):
                with open_zip_member(zf, r["path"]) as fh:
                    r = {**r, "png_base64": base64.b64encode(fh.read(MAX_BUNDLED_PICTURE + 1)).decode("ascii")}
            out.append(r)
    return out


MAX_BUNDLED_PICTURE = 64 * 1024 * 1024  # a PNG of the largest picture load_image accepts fits; more fails the hash


def use_identity(pipe, identity: Identity, args: argparse.Namespace, scale: float) -> None:
    """The pipeline carries the adapter asked for (and no other), or exits with the reason."""
    from .render import ModelLoadError
    from .render.ip_adapter import ensure_ip_adapter

    try:
        ensure_ip_adapter(pipe, identity.adapter or None, args.ip_image_encoder)
    except ModelLoadError as e:
        raise CliError(str(e), EXIT_MODEL) from None
    if identity.adapter:
        pictures = len([r for r in identity.records if r.get("path") or r.get("png_base64")])
        print(f"Identity: IP-Adapter {identity.adapter} at scale {scale:g}, {pictures} reference picture(s).",
              file=sys.stderr)


def cmd_render(args: argparse.Namespace) -> int:
    project = load_script(args.script)
    settings = checked_settings(args, project.settings)
    out = Path(args.out)
    if out.suffix.lower() not in (".mp4", ".gif", ".zip"):
        raise CliError(f"--out must end in .mp4, .gif or .zip (got {out.name}).")
    if not out.parent.exists():
        raise CliError(f"--out: the folder {out.parent} does not exist.")
    choice = model_choice_from_args(args, project)
    image, image_ref = start_image_from_args(args, project, settings)
    identity = identity_from_args(args, project)
    from .render import render
    from .render.errors import ModelLoadError, PromptError, RenderCancelled
    from .video import write_video

    pipe = _load_pipe(choice, args)
    use_identity(pipe, identity, args, settings.ip_adapter_scale)
    bar = ProgressBar(enabled=not args.quiet)
    try:
        result = render(pipe, project.frames, settings, on_step=bar, preview_every=0, image=image,
                        ip_image=identity.references)
    except (PromptError, SettingsError) as e:
        raise CliError(str(e)) from None
    except ModelLoadError as e:  # a draft's few-step LoRA
        raise CliError(str(e), EXIT_MODEL) from None
    except RenderCancelled:
        raise CliError("Cancelled.", EXIT_INTERRUPTED) from None
    made = Project(
        user_prompt=project.user_prompt,
        frames=project.frames,
        settings=result.settings,
        director=project.director,
        model=choice.model,
        model_config=choice.config,
        lora=choice.lora,
        lora_scale=choice.lora_scale,
        start_image=image_ref,
        ip_adapter=identity.adapter,
        ip_images=identity.records,
    )
    write_video(result.frames, out, fps=settings.fps, project=made)  # the file alone reproduces the render
    if args.save_project:
        made.save(args.save_project)
    cache = f", anchor cache {result.anchor_cache_bytes / 2**20:.1f} MiB" if result.anchor_cache_bytes else ""
    print(
        f"Wrote {out} ({len(result.frames)} frames, {settings.width}x{settings.height}, {settings.fps} fps, "
        f"seed {result.seed}, {result.elapsed_s:.1f} s{cache})",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_compare(args: argparse.Namespace) -> int:
    """Render with each method, score with CLIP, write the paper's Table 1 (direct2v.evaluate).

    `--dsf` sets the DSF quantile of the "+dsf" methods (default 0.2); `--mode` is ignored
    (the methods set it). Writes table.md, table.csv, clip_scores.png, grid.mp4 and
    metrics.json into --out-dir; both tables on stdout, progress on stderr."""
    from .evaluate.clip import load_clip
    from .evaluate.compare import compare_methods
    from .frames import check_frame_prompts
    from .evaluate.methods import DEFAULT_METHODS, comparison_dsf, parse_methods
    from .render import ModelLoadError
    from .render.errors import RenderCancelled, RenderOutOfMemory

    project = load_script(args.script)
    settings = checked_settings(args, project.settings)
    check_frame_prompts(project.frames)
    methods = parse_methods(args.methods if args.methods else DEFAULT_METHODS)
    dsf = comparison_dsf(settings.dsf_quantile)
    choice = model_choice_from_args(args, project)
    identity = identity_from_args(args, project)
    try:
        scorer = load_clip(args.clip_model, device=args.device)
    except ModelLoadError as e:  # ClipLoadError
        raise CliError(str(e), EXIT_MODEL) from None
    pipe = _load_pipe(choice, args)
    use_identity(pipe, identity, args, settings.ip_adapter_scale)
    try:
        result = compare_methods(
            pipe, project.frames, settings, scorer=scorer, methods=[m.name for m in methods],
            dsf_quantile=dsf, out_dir=args.out_dir, on_step=ProgressBar(enabled=not args.quiet), preview_every=0,
            references=identity.references,
        )
    except RenderCancelled:
        raise CliError("Cancelled.", EXIT_INTERRUPTED) from None
    except RenderOutOfMemory as e:
        raise CliError(str(e), EXIT_ERROR) from None
    print(result.table_markdown)
    print(result.extra_markdown, end="")
    files = ", ".join(p.name for p in result.paths.values())
    print(f"Wrote {files} to {args.out_dir} (seed {result.seed}).", file=sys.stderr)
    return EXIT_OK


def cmd_suite(args: argparse.Namespace) -> int:
    from .suite.cli import SuiteIncomplete, run_suite_cli
    from .suite.runner import SuiteModelError

    try:
        return run_suite_cli(args, settings_from_args)
    except SuiteModelError as e:
        raise CliError(str(e), EXIT_MODEL if e.model else EXIT_DIRECTOR if e.director else EXIT_ERROR) from None
    except SuiteIncomplete as e:
        raise CliError(str(e), EXIT_ERROR) from None


COMMANDS = {"direct": cmd_direct, "render": cmd_render, "compare": cmd_compare, "suite": cmd_suite}


def main(argv: Sequence[str] | None = None) -> int:
    # transformers' import-time notices and diffusers' "Couldn't connect to the Hub ... Will try
    # to load from local cache" would break the "one line on stderr" promise.
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # a usage mistake (one line on stderr already) or --help
        return e.code if isinstance(e.code, int) else EXIT_INPUT
    try:
        return COMMANDS[args.command](args)
    except CliError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.code
    except SettingsError as e:  # includes PromptError
        print(f"error: {e}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # one line, not a traceback; DIRECT2V_DEBUG=1 shows it
        if os.environ.get("DIRECT2V_DEBUG"):
            raise
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
