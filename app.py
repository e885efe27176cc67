"""DirecT2V Studio: `python app.py [--model tiny] [--port 7860]` opens the page.

Thin entry: parse flags, build the page from direct2v.ui, launch. On a Hugging Face Space
(SPACE_ID set) it binds 0.0.0.0; with the `spaces` package (ZeroGPU) the render runs inside
`spaces.GPU`.
"""

from __future__ import annotations

import argparse
import os
import sys

from direct2v.services.policy import add_policy_flags, policy_from_flags
from direct2v.cli import add_model_flags, flag_dest
from direct2v.settings import ModelChoice, SettingsError, knobs


def model_defaults(env) -> dict:
    """The model flags' defaults from the environment (DIRECT2V_ + the flag: DIRECT2V_LORA_SCALE)."""
    out = {}
    for f, k in knobs(ModelChoice):
        text = env.get("DIRECT2V_" + flag_dest(k).upper())
        out[f.name] = f.default if not text else type(f.default)(text)
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ
    on_space = bool(env.get("SPACE_ID"))
    p = argparse.ArgumentParser(description="DirecT2V Studio: LLM-directed zero-shot text-to-video.")
    # --model, --model-config, --lora, --lora-scale, --precision from ModelChoice's fields; each
    # defaults to its DIRECT2V_* variable (DIRECT2V_MODEL_CONFIG, ...), else the field's default.
    add_model_flags(p, defaults=model_defaults(env), identity=False)
    p.add_argument("--ip-adapter", default=env.get("DIRECT2V_IP_ADAPTER", ""),
                   help="IP-Adapter for the page's 'Keep this identity' box: a weights file (its image encoder in "
                        "image_encoder/ beside it), a Hub path such as h94/IP-Adapter/models/ip-adapter_sd15.safetensors, "
                        "or 'tiny' (default: none)")
    p.add_argument("--max-pipelines", type=int, default=int(env.get("DIRECT2V_MAX_PIPELINES", "2")),
                   help="Most loaded models kept in memory at once, for switching back without reloading (default 2; "
                        "env DIRECT2V_MAX_PIPELINES).")
    p.add_argument("--host", default=env.get("DIRECT2V_HOST", env.get("GRADIO_SERVER_NAME", "0.0.0.0" if on_space else "127.0.0.1")),
                   help="Address to bind (default 127.0.0.1; 0.0.0.0 on a Space or in Docker).")
    p.add_argument("--port", type=int, default=int(env.get("DIRECT2V_PORT", env.get("GRADIO_SERVER_PORT", "7860"))),
                   help="Port (default 7860).")
    p.add_argument("--share", action="store_true", default=False, help="Create a public gradio.live link (off by default).")
    p.add_argument("--queue-size", type=int, default=int(env.get("DIRECT2V_QUEUE_SIZE", "16")),
                   help="Most requests waiting in the queue; more are turned away with a message (default 16).")
    p.add_argument("--concurrency", type=int, default=int(env.get("DIRECT2V_CONCURRENCY", "1")),
                   help="Render/compare events the queue runs at once (default 1: one per GPU). Renders on the "
                        "loaded model still take turns; other requests wait in the queue.")
    p.add_argument("--device", default=env.get("DIRECT2V_DEVICE") or None, help="torch device (default: cuda if available, else cpu).")
    p.add_argument("--preview-every", type=int, default=int(env.get("DIRECT2V_PREVIEW_EVERY", "5")),
                   help="Show a live preview every N denoising steps (default 5).")
    p.add_argument("--clip-model", default=env.get("DIRECT2V_CLIP_MODEL") or None,
                   help="CLIP model for the Compare tab (default: 'tiny' with --model tiny, else ViT-L/14).")
    p.add_argument("--no-preload", action="store_true", help="Load the model on the first render instead of at start.")
    add_policy_flags(p, env)
    args = p.parse_args(argv)
    try:
        args.policy = policy_from_flags(args, env)
    except SettingsError as e:
        p.error(str(e))
    if args.queue_size < 1 or args.concurrency < 1 or args.preview_every < 1 or args.max_pipelines < 1:
        p.error("--queue-size, --concurrency, --preview-every and --max-pipelines must be at least 1")
    return args


def build(args: argparse.Namespace):
    from direct2v.ui import build_ui, configure

    if os.environ.get("SPACES_ZERO_GPU") and not args.device:
        args.device = "cuda"  # ZeroGPU: weights go to the (emulated) GPU at start
    from direct2v.render.loading import set_max_pipelines

    set_max_pipelines(args.max_pipelines)
    runtime = configure(model=args.model, device=args.device, preview_every=args.preview_every, clip_model=args.clip_model,
                        model_config=args.model_config, lora=args.lora, lora_scale=args.lora_scale, precision=args.precision,
                        policy=args.policy, ip_adapter=args.ip_adapter)
    demo = build_ui(render_concurrency=args.concurrency, queue_size=args.queue_size)
    # Light handlers (directing, table edits) may run side by side; renders are limited above.
    demo.queue(max_size=args.queue_size, default_concurrency_limit=max(4, args.concurrency))
    if not args.no_preload:
        try:
            import spaces  # noqa: F401  (ZeroGPU wants the weights loaded at start, in the main process)

            runtime.models.preload(background=False)
        except ImportError:
            runtime.models.preload(background=True)
    return demo


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    args = parse_args(argv)
    demo = build(args)
    from direct2v.ui import launch_kwargs

    print(f"DirecT2V Studio: model {args.model!r}; open http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    print(f"DirecT2V Studio: {args.policy.mode_line()}", file=sys.stderr, flush=True)
    demo.launch(**launch_kwargs(server_name=args.host, server_port=args.port, share=args.share, show_error=True))


if __name__ == "__main__":
    main()
