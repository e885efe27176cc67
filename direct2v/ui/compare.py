"""The Compare tab: render the table with each method (same seed), score every frame with
CLIP, and show the paper's Table 1 for this prompt."""

from __future__ import annotations

from typing import Any, Iterator

import gradio as gr

from ..evaluate.methods import DEFAULT_METHODS, comparison_dsf, method_choices, parse_methods
from ..render.errors import ModelLoadError, RenderCancelled, RenderOutOfMemory
from ..settings import RenderSettings, SettingsError
from ..services import runtime as rt
from ..services.line import session_id
from .files import session_store
from .gpu_jobs import cancel_flag, in_line, job_input, load_model, visitor_of, wait_turn
from .identity import check_identity
from .row_pictures import references_for


COMPARE_METHODS = method_choices()
DEFAULT_COMPARE = list(DEFAULT_METHODS)


def compare_methods(
    table: Any,
    num_frames: Any,
    fps: Any,
    methods: list[str] | None,
    progress: gr.Progress = gr.Progress(),
    request: gr.Request = None,
    identity_image: Any = None,
    **settings: Any,
) -> Iterator[tuple[str, Any, Any, Any]]:
    """The Compare tab: render the table with each method (same seed), score with CLIP, and
    yield (status, side-by-side video, table markdown, per-frame CLIP plot). With an identity
    picture (or rows with their own) every method renders with it and the table gains the
    Identity row."""
    methods = [m for m in (methods or []) if m]
    # Each method's settings are checked (once), not the page's own, which no method renders as they are.
    prompts, s = job_input(table, num_frames, fps, settings, rendered=lambda s: _method_settings(s, methods))
    references = references_for(prompts, identity_image, request)
    check_identity(references)
    if not methods:
        raise gr.Error("Tick at least one method to compare.")
    dsf = comparison_dsf(s.dsf_quantile)  # job_input drew the seed: one for every method
    keep = gr.update()
    with cancel_flag(request) as flag, in_line(request) as ticket:
        for line in wait_turn(ticket, flag):
            yield line, keep, keep, keep
        if flag.is_set():
            yield "■ Cancelled while waiting in the queue; nothing was compared.", keep, keep, keep
            return
        choice = rt.RUNTIME.models.choice_for(visitor_of(session_id(request)))
        if choice == rt.RUNTIME.models.choice:
            load_model("try again")
        folder = str(session_store(session_id(request)).new_dir("compare"))  # bounded, and the visitor's
        stream = rt.compare_stream(rt.RUNTIME.models.choice_data(choice), rt.RUNTIME.clip_model, prompts, s.to_dict(), methods, dsf, folder,
                                   references, rt.RUNTIME.ip_adapter)
        last = "Starting…"
        try:
            for status, fraction, grid, table_md, plot in stream:
                if flag.is_set():
                    yield f"■ Cancelled. {last}", keep, keep, keep
                    return
                last = status
                progress(float(fraction), desc=status)
                if grid is not None:
                    yield f"✓ {status}", grid, table_md, plot
                else:
                    yield status, keep, keep, keep
        except gr.Error:
            raise
        except RenderCancelled:
            yield f"■ Cancelled. {last}", keep, keep, keep
        except (SettingsError, ModelLoadError, RenderOutOfMemory) as e:  # EvaluationError is a SettingsError
            raise gr.Error(str(e)) from None
        except Exception as e:
            raise gr.Error(f"The comparison failed: {type(e).__name__}: {e}") from None
        finally:
            stream.close()


def _method_settings(s: RenderSettings, methods: list[str]) -> list[RenderSettings]:
    """The settings each ticked method renders with (none ticked: none)."""
    return [m.settings(s, comparison_dsf(s.dsf_quantile)) for m in parse_methods(methods)] if methods else []
