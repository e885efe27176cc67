"""The page's model chooser: a Stable Diffusion model (hub id, local folder or single
.safetensors/.ckpt file), the config a single file is read with, optional LoRA weights and
their scale. Load switches the page's model once the new one is ready
(`runtime.ModelHolder.switch`), Cancel stops a load at its next stage, and the chooser's
status line says what is happening and what went wrong. A load that fails or is cancelled
leaves the previous model rendering.

On a public server (direct2v.services.policy) the chooser offers only the owner's models and
LoRAs, and a visitor's Load and Cancel are theirs alone: the model they load is the one their
renders use, while the model line and renders of every other visitor stay as they were.
"""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import gradio as gr

from ..hub import NOT_LISTED
from ..services import runtime as rt
from ..services.line import session_id
from ..settings import ModelChoice, Project, SettingsError
from .controls import schema_control

_POLL_S = 0.5  # how often the status line is redrawn while a model loads


def visitor(request: Any = None) -> str | None:
    """The session whose own model choice applies (public mode), or None for the page's model."""
    return session_id(request) if rt.RUNTIME.policy.public else None


def chooser_values(choice: ModelChoice | None = None) -> list[Any]:
    """[model, config, LoRA, LoRA scale] for the chooser's fields."""
    c = choice or rt.RUNTIME.models.choice
    return [c.model, c.config, c.lora, c.lora_scale]


def loaded_line() -> str:
    m = rt.RUNTIME.models
    state = "loaded" if m.loaded else "loads on first render" if not m.error else "failed to load"
    return f"Model: {m.choice.describe()} ({state})."


def build() -> dict[str, Any]:
    """The chooser's components, in an accordion; `wire` connects them."""
    with gr.Accordion("Model", open=False, elem_id="model-box"):
        model, config, lora = _public_fields() if rt.RUNTIME.policy.public else _owner_fields()
        with gr.Row():
            lora.render()
            scale = schema_control(ModelChoice, "lora_scale", rt.RUNTIME.models.choice.lora_scale, scale=2, elem_id="lora-scale")
        with gr.Row():
            load = gr.Button("Load model", size="sm", variant="primary", elem_id="load-model")
            cancel = gr.Button("Cancel", size="sm", variant="stop", elem_id="cancel-model")
        status = gr.Markdown(loaded_line(), elem_id="model-status", elem_classes=["status"])
    return {"model": model, "config": config, "lora": lora, "scale": scale, "load": load, "cancel": cancel, "status": status}


def _owner_fields() -> tuple[Any, Any, Any]:
    """The owner's own machine: any Hub id, folder or file."""
    c = rt.RUNTIME.models.choice
    model = gr.Textbox(value=c.model, label="Model: Hub id, folder or .safetensors/.ckpt file",
                       placeholder="stable-diffusion-v1-5/stable-diffusion-v1-5", elem_id="model-name")
    config = gr.Textbox(value=c.config, label="Config of a single file (a local diffusers folder loads it offline)",
                        placeholder="optional", elem_id="model-config")
    lora = gr.Textbox(value=c.lora, label="LoRA (file, folder or Hub id)", placeholder="optional", scale=3,
                      elem_id="lora", render=False)
    return model, config, lora


def _public_fields() -> tuple[Any, Any, Any]:
    """A public server: a choice among the owner's models and LoRAs; nothing to type."""
    c, policy = rt.RUNTIME.models.choice, rt.RUNTIME.policy
    model = gr.Dropdown(list(policy.allowed_models(c.model)), value=c.model, label="Model (the owner's list)",
                        allow_custom_value=False, elem_id="model-name")
    config = gr.Textbox(value=c.config, visible=False, interactive=False, elem_id="model-config")
    loras = [("none", ""), *[(name, name) for name in dict.fromkeys((c.lora, *policy.loras)) if name]]
    lora = gr.Dropdown(loras, value=c.lora, label="LoRA (the owner's list)", allow_custom_value=False, scale=3,
                       elem_id="lora", render=False)
    return model, config, lora


def _public_choice(model: Any, lora: Any, scale: Any) -> ModelChoice:
    """A visitor's choice, from the owner's lists only: the start model keeps its config."""
    holder, policy = rt.RUNTIME.models, rt.RUNTIME.policy
    model, lora = str(model or "").strip(), str(lora or "").strip()
    if not policy.allows_model(model, holder.model):
        raise SettingsError(NOT_LISTED.format(what="models"))
    if not policy.allows_lora(lora) and lora != holder.choice.lora:
        raise SettingsError(NOT_LISTED.format(what="LoRAs"))
    config = holder.choice.config if model == holder.model else ""
    return ModelChoice(model, config, lora, _scale(scale)).clean().validate()


def wire(parts: dict[str, Any], notice: Any, project_upload: Any) -> None:
    """Load and Cancel, the page's model notice after a switch, and the project check after
    `project_upload` (the page's Load project button) takes a file."""
    fields = [parts["model"], parts["config"], parts["lora"], parts["scale"]]
    quiet = dict(api_visibility="private", queue=False, show_progress="hidden")
    loading = parts["load"].click(
        load_model, fields, parts["status"], api_name="load_model", concurrency_limit=1,
        concurrency_id="model-load", show_progress="hidden",
    )
    loading.then(model_notice, None, notice, **quiet)
    parts["cancel"].click(cancel_load, None, parts["status"], api_visibility="private", concurrency_limit=None,
                          show_progress="hidden")
    project_upload.upload(project_model, project_upload, [*fields, parts["status"]], **quiet)


def load_model(model: Any, config: Any = "", lora: Any = "", lora_scale: Any = 1.0, request: gr.Request = None) -> Iterator[str]:
    """Switch the page's model (a visitor's own on a public server), yielding the status line:
    the stage and the time so far while it loads, then the outcome. Errors go to the status
    line, where they stay."""
    session = visitor(request)
    try:
        if session is not None:
            choice = _public_choice(model, lora, lora_scale)
        else:
            choice = ModelChoice(str(model or ""), str(config or ""), str(lora or ""), _scale(lora_scale)).clean().validate()
    except SettingsError as e:
        yield f"⚠ {e}"
        return
    holder = rt.RUNTIME.models
    previous = holder.choice_for(session)
    if choice == previous and (holder.loaded or session is not None):
        yield f"✓ {choice.describe()} is already loaded."
        return
    yield from _switch_lines(choice, previous, session)


def _switch_lines(choice: ModelChoice, previous: ModelChoice, session: str | None) -> Iterator[str]:
    """Run the switch in a thread and say how it goes, every _POLL_S."""
    holder = rt.RUNTIME.models
    updates: queue.Queue = queue.Queue()
    outcome: dict[str, BaseException] = {}

    def work() -> None:
        try:
            holder.switch(choice, on_stage=updates.put, session=session)
        except BaseException as e:  # reported on the status line below
            outcome["error"] = e
        finally:
            updates.put(None)

    stage = "Waiting for the previous load to stop" if holder.switching else "Starting"
    whose = "your renders use it now; other visitors keep theirs" if session is not None else "renders use it now"
    started = time.perf_counter()
    threading.Thread(target=work, name="direct2v-model-switch", daemon=True).start()
    while True:
        try:
            item = updates.get(timeout=_POLL_S)
        except queue.Empty:
            item = ""
        if item is None:
            break
        stage = item or stage
        yield f"⏳ {stage}… ({rt.elapsed_text(time.perf_counter() - started)}); {previous.describe()} stays in use until it is ready."
    error = outcome.get("error")
    if error is None:
        yield f"✓ Loaded {choice.describe()} in {rt.elapsed_text(time.perf_counter() - started)}; {whose}."
        return
    from ..render import ModelLoadCancelled

    if isinstance(error, ModelLoadCancelled):
        yield f"■ Cancelled: {previous.describe()} stays loaded."
    else:
        yield f"⚠ {_one_line(error)} {previous.describe()} stays loaded."


def cancel_load(request: gr.Request = None) -> str:
    """Cancel this visitor's own load (on the owner's machine: every load)."""
    if rt.RUNTIME.models.cancel_switch(visitor(request)):
        return "Cancelling… the load stops after its current stage."
    return "Nothing is loading."


def project_model(path: Any, request: gr.Request = None) -> list[Any]:
    """After a project loads: when it names another model (or LoRA) than the page's, put its
    model in the chooser and say so, so one press of Load model switches; else change nothing.
    On a public server a model the owner did not list is named, never put in the chooser."""
    keep = [gr.update()] * 5
    if path is None:
        return keep
    from .project import parsed_project  # one parse of the upload for every handler

    try:
        project = parsed_project(getattr(path, "name", path))
    except (SettingsError, OSError, ValueError):
        return keep  # the project loader itself reports a bad file
    if not project.model:
        return keep
    wanted, loaded = project.model_choice(), rt.RUNTIME.models.choice_for(visitor(request))
    name = Path(str(getattr(path, "name", path))).name
    policy = rt.RUNTIME.policy
    if policy.public and not (policy.allows_model(wanted.model, rt.RUNTIME.models.model) and policy.allows_lora(wanted.lora)):
        return [*keep[:4], f"⚠ {name} was rendered with a model this server does not offer; {loaded.describe()} renders it."]
    if wanted == loaded:
        return [*chooser_values(wanted), f"✓ {name} was rendered with {wanted.describe()}, the model loaded now."]
    return [
        *chooser_values(wanted),
        f"⚠ {name} was rendered with {wanted.describe()}; {loaded.describe()} is loaded. "
        "Press Load model to switch, or render with the loaded model.",
    ]


def _scale(value: Any) -> Any:
    if value is None or value == "":
        return 1.0
    try:
        return float(value)
    except (TypeError, ValueError):
        return value  # ModelChoice.validate names the bad value


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__).rstrip(".") + "."


def model_notice(request: gr.Request = None) -> str:
    """The model line: the page's model, or on a public server this visitor's own choice."""
    m = rt.RUNTIME.models
    choice = m.choice_for(visitor(request))
    if choice != m.choice:
        return f"Model: {choice.describe()} (your choice; other visitors keep theirs)."
    if m.is_tiny:
        return (
            f"⚠ **Model: `{m.model}`**, a tiny randomly initialised Stable Diffusion built in-process for "
            "tests and offline use. Its frames are **noise**; start with `--model "
            f"{rt.DEFAULT_MODEL}` for real videos."
        )
    if m.error:
        return f"⚠ **The model could not be loaded:** {m.error} The director still works."
    return f"Model: {m.choice.describe()} ({m.status()})."
