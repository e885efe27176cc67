"""Who may do what on this server: the owner decides, visitors choose among the owner's lists.

On the owner's own machine (127.0.0.1, no Space) there is one user, who may do anything the
page offers. On a public server (a Hugging Face Space, `--public`, and by default `--share`
or a non-loopback `--host`) every visitor is anonymous while the server holds the owner's
GPU, disk, Hub token and API keys, so a visitor:

- picks a model, LoRA or director model from the owner's lists, never a typed path or Hub id;
- uses the owner's environment key of a provider only where the owner shared it
  (`--share-keys huggingface`), a few times an hour; otherwise their own key or sign-in;
- reaches only base URLs the owner listed (or public https ones; the director checks);
- has at most `visitor_running` running and `visitor_waiting` waiting GPU jobs;
- renders within the owner's maxima for frames, width x height and steps, while compile and
  low-memory mode are the owner's server settings.

`ServerPolicy` is frozen and built once at start (`policy_from_flags`); the page and the
services read it from `runtime.RUNTIME.policy`. Nothing here imports Gradio.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from ..frames import MAX_FRAMES
from ..settings import MAX_SIDE, MAX_STEPS, SettingsError

# Providers whose environment keys the owner can share (direct2v.director.factory's names).
KEY_PROVIDERS = ("openai", "gemini", "huggingface")

# Space defaults: a render of this size fits one ZeroGPU request on the tiny-to-SD1.5 range.
PUBLIC_MAX_FRAMES = 24
PUBLIC_MAX_PIXELS = 768 * 512
PUBLIC_MAX_STEPS = 50


@dataclass(frozen=True)
class ServerPolicy:
    public: bool = False
    reason: str = "local: 127.0.0.1"  # why public is what it is, in words for the page and log
    # The owner's lists. Empty `models`: only the model the server started with.
    models: tuple[str, ...] = ()
    loras: tuple[str, ...] = ()
    llm_models: tuple[str, ...] = ()
    base_urls: tuple[str, ...] = ()  # OpenAI-compatible endpoints visitors may use as they are
    # Providers whose environment keys visitors may use, and how often each visitor may.
    share_keys: frozenset[str] = field(default_factory=frozenset)
    key_calls_per_hour: int = 30
    # Each visitor's GPU jobs: running at once, and waiting behind them.
    visitor_running: int = 1
    visitor_waiting: int = 2
    # One director call: seconds before it is given up, and calls in flight per visitor.
    director_timeout_s: float = 60.0
    visitor_director_calls: int = 1
    # Render maxima (public mode; the schema's own limits apply everywhere).
    max_frames: int = MAX_FRAMES
    max_pixels: int = MAX_SIDE * MAX_SIDE
    max_steps: int = MAX_STEPS
    # Server settings in public mode: a visitor's compile / low-memory switch is ignored.
    compile: bool = False
    low_memory: bool = False

    def shares_key(self, provider: str) -> bool:
        """May a request without a typed key use the environment's key of `provider`?"""
        return not self.public or provider in self.share_keys

    def allowed_models(self, current: str) -> tuple[str, ...]:
        """The models a visitor may choose: the owner's list, the server's start model first."""
        return tuple(dict.fromkeys((current, *self.models)))

    def owner_names(self, model: str, config: str = "", lora: str = "") -> tuple[str, ...]:
        """Every name the owner chose: the start model with its config and LoRA, and the lists."""
        return tuple(n for n in dict.fromkeys((model, config, lora, *self.models, *self.loras)) if n)

    @property
    def per_visitor(self) -> tuple[int, int] | None:
        """(running, waiting) GPU jobs per visitor in public mode; None on the owner's machine."""
        return (self.visitor_running, self.visitor_waiting) if self.public else None

    def allows_model(self, name: str, current: str) -> bool:
        return not self.public or name in self.allowed_models(current)

    def allows_lora(self, name: str) -> bool:
        return not self.public or not name or name in self.loras

    def allows_llm_model(self, name: str) -> bool:
        """A director model name in public mode: blank (the back end's default) or listed."""
        return not self.public or not name or name in self.llm_models

    def allows_base_url(self, url: str) -> bool:
        """Listed by the owner (exactly, trailing slash aside); public https URLs are the
        director's to check after resolving them."""
        return (url or "").rstrip("/") in {u.rstrip("/") for u in self.base_urls}

    def check_render(self, num_frames: int, width: int, height: int, steps: int) -> None:
        """The owner's maxima for one render; SettingsError in words when over one."""
        if not self.public:
            return
        if num_frames > self.max_frames:
            raise SettingsError(f"This server renders at most {self.max_frames} frames; the table has {num_frames}.")
        if width * height > self.max_pixels:
            raise SettingsError(
                f"This server renders at most {self.max_pixels:,} pixels per frame (for example "
                f"{_example_size(self.max_pixels)}); {width}×{height} is {width * height:,}."
            )
        if steps > self.max_steps:
            raise SettingsError(f"This server renders at most {self.max_steps} steps; {steps} were asked for.")

    def mode_line(self) -> str:
        """One line for the page: which mode, and what it means for the person reading it."""
        if not self.public:
            return f"Private mode ({self.reason}): every setting and model is yours to choose."
        return (
            f"Public mode ({self.reason}): models, LoRAs and director models come from the owner's lists; "
            f"at most {self.max_frames} frames, {_example_size(self.max_pixels)} and {self.max_steps} steps; "
            f"{self.visitor_running} running and {self.visitor_waiting} waiting jobs per visitor."
        )


def _example_size(pixels: int) -> str:
    side = int(pixels**0.5) // 64 * 64
    return f"{side}×{side}" if side * side <= pixels else f"{pixels} pixels"


def is_loopback_host(host: str) -> bool:
    host = (host or "").strip().strip("[]").lower()
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_mode(env: Mapping[str, str], *, public: bool = False, private: bool = False, share: bool = False,
                host: str = "127.0.0.1") -> tuple[bool, str]:
    """(public?, why). `--private` wins; then `--public`, a Space, DIRECT2V_PUBLIC, `--share`
    and a non-loopback host each make it public."""
    if private:
        return False, "--private"
    if public:
        return True, "--public"
    if env.get("SPACE_ID"):
        return True, "a Hugging Face Space"
    flag = env.get("DIRECT2V_PUBLIC", "").strip().lower()
    if flag in ("1", "true", "yes", "on"):
        return True, "DIRECT2V_PUBLIC"
    if flag in ("0", "false", "no", "off"):
        return False, "DIRECT2V_PUBLIC=0"
    if share:
        return True, "--share"
    if not is_loopback_host(host):
        return True, f"--host {host}"
    return False, f"local: {host}"


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """A comma-separated list (flag or environment variable) as clean names."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else [v for part in value for v in str(part).split(",")]
    return tuple(dict.fromkeys(v.strip() for v in items if v.strip()))


def add_policy_flags(parser: argparse.ArgumentParser, env: Mapping[str, str] | None = None) -> None:
    """The owner's flags for running the page for others (README "Running it for others")."""
    env = os.environ if env is None else env
    g = parser.add_argument_group("running it for others (public mode)")
    mode = g.add_mutually_exclusive_group()
    mode.add_argument("--public", action="store_true", help="Public mode: visitors choose among your lists, within your limits "
                      "(default on a Space, with --share and with a non-loopback --host).")
    mode.add_argument("--private", action="store_true", help="Never public mode, e.g. for a trusted team on a LAN.")
    g.add_argument("--models", default=env.get("DIRECT2V_MODELS", ""),
                   help="Comma-separated models visitors may choose besides --model (env DIRECT2V_MODELS).")
    g.add_argument("--loras", default=env.get("DIRECT2V_LORAS", ""), help="Comma-separated LoRAs visitors may choose (env DIRECT2V_LORAS).")
    g.add_argument("--llm-models", default=env.get("DIRECT2V_LLM_MODELS", ""),
                   help="Comma-separated director models visitors may choose (env DIRECT2V_LLM_MODELS).")
    g.add_argument("--base-urls", default=env.get("DIRECT2V_BASE_URLS", ""),
                   help="Comma-separated OpenAI-compatible base URLs visitors may use (env DIRECT2V_BASE_URLS).")
    g.add_argument("--share-keys", default=env.get("DIRECT2V_SHARE_KEYS", ""),
                   help=f"Comma-separated providers ({', '.join(KEY_PROVIDERS)}) whose environment keys visitors may use "
                        "(env DIRECT2V_SHARE_KEYS; default none: visitors bring their own key or sign-in).")
    g.add_argument("--key-calls-per-hour", type=int, default=int(env.get("DIRECT2V_KEY_CALLS_PER_HOUR", "30")),
                   help="Director calls per visitor per hour on a shared key (default 30).")
    g.add_argument("--visitor-waiting", type=int, default=int(env.get("DIRECT2V_VISITOR_WAITING", "2")),
                   help="GPU jobs one visitor may have waiting behind their running one (default 2).")
    g.add_argument("--max-frames", type=int, default=int(env.get("DIRECT2V_MAX_FRAMES", str(PUBLIC_MAX_FRAMES))),
                   help=f"Public mode: most frames per render (default {PUBLIC_MAX_FRAMES}).")
    g.add_argument("--max-pixels", type=int, default=int(env.get("DIRECT2V_MAX_PIXELS", str(PUBLIC_MAX_PIXELS))),
                   help=f"Public mode: most width x height per frame (default {PUBLIC_MAX_PIXELS}).")
    g.add_argument("--max-steps", type=int, default=int(env.get("DIRECT2V_MAX_STEPS", str(PUBLIC_MAX_STEPS))),
                   help=f"Public mode: most denoising steps (default {PUBLIC_MAX_STEPS}).")
    g.add_argument("--server-compile", action="store_true", default=_truthy(env.get("DIRECT2V_COMPILE")),
                   help="Public mode: torch.compile the shared UNet for every render (env DIRECT2V_COMPILE).")
    g.add_argument("--server-low-memory", action="store_true", default=_truthy(env.get("DIRECT2V_LOW_MEMORY")),
                   help="Public mode: small-GPU memory mode for every render (env DIRECT2V_LOW_MEMORY).")


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def policy_from_flags(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> ServerPolicy:
    """The server's policy from app.py's flags (add_policy_flags) and the environment."""
    env = os.environ if env is None else env
    public, reason = public_mode(env, public=getattr(args, "public", False), private=getattr(args, "private", False),
                                 share=getattr(args, "share", False), host=getattr(args, "host", "127.0.0.1"))
    shared = frozenset(_names(getattr(args, "share_keys", "")))
    unknown = shared - set(KEY_PROVIDERS)
    if unknown:
        raise SettingsError(f"--share-keys: unknown provider {', '.join(sorted(unknown))}; one of {', '.join(KEY_PROVIDERS)}.")
    policy = ServerPolicy(
        public=public, reason=reason,
        models=_names(getattr(args, "models", "")), loras=_names(getattr(args, "loras", "")),
        llm_models=_names(getattr(args, "llm_models", "")), base_urls=_names(getattr(args, "base_urls", "")),
        share_keys=shared, key_calls_per_hour=int(getattr(args, "key_calls_per_hour", 30)),
        visitor_waiting=int(getattr(args, "visitor_waiting", 2)),
        max_frames=min(MAX_FRAMES, int(getattr(args, "max_frames", PUBLIC_MAX_FRAMES))),
        max_pixels=min(MAX_SIDE * MAX_SIDE, int(getattr(args, "max_pixels", PUBLIC_MAX_PIXELS))),
        max_steps=min(MAX_STEPS, int(getattr(args, "max_steps", PUBLIC_MAX_STEPS))),
        compile=bool(getattr(args, "server_compile", False)), low_memory=bool(getattr(args, "server_low_memory", False)),
    )
    if min(policy.key_calls_per_hour, policy.max_frames, policy.max_pixels, policy.max_steps) < 1 or policy.visitor_waiting < 0:
        raise SettingsError("--key-calls-per-hour, --max-frames, --max-pixels and --max-steps must be at least 1; --visitor-waiting at least 0.")
    return policy
