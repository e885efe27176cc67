"""The director interface and the conversation loop shared by every LLM back end.

A director turns one abstract prompt into exactly N frame prompts (method.md section 1) and
can split a script into 2N frames at twice the frame rate (paper section 4.3) or rewrite one
frame of an (edited) table in the context of its neighbours (`redirect_frame`). LLM back ends
only implement `_complete` (send the turns, return the answer text) and `_translate` (map
their SDK's exceptions to DirectorError); everything else lives here once: input checks, the
response cache, transport retries with backoff, answer validation with retry turns that name
the problem, and the conversation state that `double_fps` continues.
"""

from __future__ import annotations

import logging
import math
import operator
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import PromptError
from ..frames import MAX_FPS, MAX_FRAMES, MAX_PROMPT_CHARS, check_frame_count  # noqa: F401 (one set of limits for every layer)
from . import keys, prompts, quality, vision
from .cache import ResponseCache, public_url
from .errors import (
    AnswerCutOff,
    DirectorConfigError,
    DirectorError,
    DirectorFormatError,
    DirectorImageUnsupported,
    DirectorInputError,
    DirectorRefusalError,
    image_unsupported,
    one_line,
    scrub,
    status_error,
    transport_error,
)
from .parsing import FormatProblem, RefusalProblem, parse_frame, parse_frames, same_frame
from .result import Authorship, DirectorResult
from .urls import BaseURLRefused, URLPolicy, parse_base_url

logger = logging.getLogger(__name__)


def check_request(user_prompt: Any, num_frames: Any, fps: Any) -> tuple[str, int, float]:
    """Validate the common arguments; DirectorInputError names the first bad one."""
    if not isinstance(user_prompt, str) or not user_prompt.strip():
        raise DirectorInputError("The prompt is empty; describe the video you want in a sentence.")
    user_prompt = " ".join(user_prompt.split())
    if len(user_prompt) > MAX_PROMPT_CHARS:
        raise DirectorInputError(
            f"The prompt is too long ({len(user_prompt)} characters, at most {MAX_PROMPT_CHARS}); shorten it."
        )
    try:
        check_frame_count(num_frames)
    except PromptError as e:  # the one frame-count rule, in the director's error
        raise DirectorInputError(str(e)) from None
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or not 0 < fps <= MAX_FPS:
        raise DirectorInputError(f"The frame rate must be a number above 0 and at most {MAX_FPS} fps (got {fps!r}).")
    return user_prompt, num_frames, float(fps)


def check_frames(frames: Any) -> list[str]:
    if isinstance(frames, str) or not isinstance(frames, Sequence) or not frames:
        raise DirectorInputError("There are no frames to split; direct a script first or fill in the table.")
    clean = [" ".join(f.split()) if isinstance(f, str) else "" for f in frames]
    empty = [str(i + 1) for i, f in enumerate(clean) if not f]
    if empty:
        raise DirectorInputError(f"Frame {', '.join(empty[:5])} of the table is empty; fill it in or delete the row.")
    if 2 * len(clean) > MAX_FRAMES:
        raise DirectorInputError(f"Doubling {len(clean)} frames would exceed {MAX_FRAMES} frames.")
    return clean


def check_redirect(frames: Any, index: Any) -> tuple[list[str], int]:
    """Validate a single-frame re-direct: a non-empty table and an index into it. Rows are
    whitespace-collapsed; empty rows are allowed (only the target row is rewritten)."""
    if isinstance(frames, str) or not isinstance(frames, Sequence) or not frames:
        raise DirectorInputError("There are no frames to re-direct; direct a script first or fill in the table.")
    if len(frames) > MAX_FRAMES:
        raise DirectorInputError(f"The table has {len(frames)} frames, more than the {MAX_FRAMES} a video can have.")
    try:
        if isinstance(index, bool):
            raise TypeError
        i = operator.index(index)
    except TypeError:
        raise DirectorInputError(f"The frame to re-direct must be given by a whole-number index (got {index!r}).") from None
    if not 0 <= i < len(frames):
        raise DirectorInputError(
            f"There is no frame at index {i}; the table has {len(frames)} frames (indices 0 to {len(frames) - 1})."
        )
    clean = [" ".join(f.split()) if isinstance(f, str) else "" for f in frames]
    return clean, i


@dataclass(frozen=True)
class Ask:
    """What one conversation asks for: a whole script of `count` frames (index None), or a new
    row `index` of `table` (`count` rows). The conversation loop is one; what differs between
    the two lives here: the answer's shape, its parsing, the quality gate and the retry turns."""

    count: int
    style: str | None = None
    index: int | None = None
    table: tuple[str, ...] = ()
    prompt: str | None = None  # the user's prompt: the gate's content rules read the answer against it

    @property
    def shape(self) -> str:
        return "frames" if self.index is None else "frame"

    @property
    def size(self) -> int:
        """Frames in the answer."""
        return self.count if self.index is None else 1

    def parse(self, text: str | None) -> list[str]:
        if self.index is None:
            return parse_frames(text, self.count)
        return [parse_frame(text, self.count, self.index)]

    def gate(self, answer: list[str]) -> dict[int, list[str]]:
        if self.index is None:
            return quality.script_problems(answer, self.style, prompt=self.prompt)
        problems = quality.redirect_problems(self.table, self.index, answer[0], self.style, prompt=self.prompt)
        return {self.index: problems} if problems else {}

    def unchanged(self, answer: list[str]) -> bool:
        """A rewrite that repeats the row as it is (a whole script is never "unchanged")."""
        current = self.table[self.index] if self.index is not None else ""
        return bool(current) and same_frame(answer[0], current)

    def unchanged_problem(self) -> FormatProblem:
        return FormatProblem(f"frame {self.index + 1} came back unchanged; write a different wording")

    def retry(self, problem: str) -> str:
        if self.index is None:
            return prompts.retry_request(problem, self.count)
        return prompts.redirect_retry_request(problem, self.index)

    def quality_retry(self, flagged: dict[int, list[str]]) -> str:
        if self.index is None:
            return prompts.quality_retry_request(quality.describe(flagged), self.count)
        rules = ", and ".join(flagged[self.index])
        return prompts.redirect_retry_request(f"frame {self.index + 1} breaks the rules: {rules}", self.index)

    def refused(self, who: str) -> str:
        if self.index is None:
            return f"{who} declined to write this script; rephrase the prompt or try another back end."
        return (f"{who} declined to rewrite frame {self.index + 1}; edit the row yourself, rephrase the prompt, "
                "or try another back end.")

    def unusable(self, who: str, attempts: int, problem: FormatProblem) -> str:
        what = "answer" if self.index is None else f"rewrite of frame {self.index + 1}"
        tries = f"{attempts} tries" if attempts > 1 else "1 try"
        return (f"{who} gave an unusable {what} after {tries} ({problem}); try again, use another model, "
                "or use the offline director.")

    def unchanged_twice(self, who: str) -> str:
        return (f"{who} answered with frame {self.index + 1} unchanged twice; edit the row yourself, "
                "change a neighbouring row, or try another model.")


def _badness(flags: dict[int, list[str]]) -> tuple[int, int]:
    """How badly an answer fails the gate: frames flagged, then problems in all."""
    return len(flags), sum(len(p) for p in flags.values())


class Director(ABC):
    """One abstract prompt in, exactly N frame prompts out.

    Every public method returns a `DirectorResult` (result.py): the frames, as a list, with
    who wrote them, the quality gate's flags and the notes the user must see. While a call
    runs, `_run` (an `Authorship`) collects how it is being answered; back ends write to it,
    never to attributes read afterwards.
    """

    backend: ClassVar[str] = ""
    model: str | None = None
    # Whether `direct(..., image=...)` sends the start picture to the model. Back ends that
    # read text only say so in the result's `image_note` and write from the user's text alone.
    sees_images: ClassVar[bool] = False

    def __init__(self) -> None:
        self.conversation: prompts.Conversation | None = None
        self._run: Authorship | None = None  # the call under way (None between calls)

    def author(self) -> str:
        """Who this director is, as the subject of "Written by ...": back end and model."""
        return self.describe()

    def _start(self, fresh: bool = False) -> Authorship:
        """A new record of the call about to run, naming this director as its author until a
        back end says otherwise (the local model's stand-in)."""
        return Authorship(fresh=bool(fresh), backend=self.backend, model=self.model, author=self.author())

    def _running(self, how: Authorship, write: Callable[..., Any], *args: Any) -> Any:
        self._run = how
        try:
            return write(*args)
        finally:
            self._run = None

    def direct(
        self,
        user_prompt: str,
        num_frames: int = 8,
        fps: float = 4,
        camera: str | None = None,
        style: str | None = None,
        *,
        fresh: bool = False,
        image: Any = None,
    ) -> DirectorResult:
        """Exactly `num_frames` self-contained frame prompts telling `user_prompt` at `fps`.

        camera: None (as the prompt says), "static", "remove" (no camera talk), or a move such as
        "slow zoom in". style: appended to every frame, e.g. "watercolor painting".
        fresh: an explicit re-direct; LLM back ends ask the model again (a new sample) instead
        of serving the cached answer to the same request, and cache the new answer.
        image: the start picture (a path, PIL image or array), frame 1 of the video. Back ends
        that see pictures get it, down-scaled (vision.py), with a task telling the model to
        take the static content from it, so `user_prompt` may give only the motion; a model
        that refuses pictures gets the text alone. The result's `image_note` says which happened.
        """
        user_prompt, num_frames, fps = check_request(user_prompt, num_frames, fps)
        camera, style = prompts.normalize_camera(camera), prompts.normalize_style(style)
        picture = vision.prepare_image(image) if image is not None else None  # a bad picture fails before any request
        how = self._start(fresh)

        def write() -> list[str]:
            # Asked only with a picture: a local model learns whether it sees by loading.
            how.image = picture if picture is not None and self.sees_images else None
            return self._direct(user_prompt, num_frames, fps, camera, style)

        frames = self._running(how, write)
        if picture is not None and how.image_note is None:
            how.image_note = (
                f"The picture was not sent: the {how.backend or 'chosen'} director reads text only, so the script "
                "follows your prompt alone."
            )
        return DirectorResult(frames, how, flags=quality.script_problems(frames, style, prompt=user_prompt))

    def double_fps(
        self,
        frames: Sequence[str] | None = None,
        fps: float | None = None,
        user_prompt: str | None = None,
        *,
        camera: str | None = None,
        style: str | None = None,
    ) -> DirectorResult:
        """Split every frame into two at twice the frame rate: 2N frames (paper section 4.3).

        With no arguments it continues the last `direct()` (or `double_fps()`) conversation, as
        the paper does; call it again to double again. With `frames` (e.g. an edited table) it
        doubles those: the table stands in for the model's previous answer. `fps` is the rate
        of `frames` (default: the last conversation's, else 4); `user_prompt` gives the model the
        story's context (default: the last conversation's). Returns the new script and makes it
        the conversation's latest answer.
        """
        last = self.conversation
        if frames is None:
            if last is None:
                raise DirectorInputError("There is no script to split yet; direct one first or pass the frames.")
            frames = last.frames
        frames = check_frames(frames)
        user_prompt, fps, camera, style = self._context(user_prompt, fps, camera, style, len(frames))
        how = self._start()
        doubled = self._running(how, self._double, list(frames), fps, user_prompt, camera, style)
        return DirectorResult(doubled, how, flags=quality.script_problems(doubled, style, prompt=user_prompt or None))

    def _context(self, user_prompt, fps, camera, style, num_frames: int) -> tuple[str, float, str | None, str | None]:
        """The story's context for a follow-up request, checked: what the caller left out comes
        from the last conversation (else no prompt, 4 fps)."""
        last = self.conversation
        if fps is None:
            fps = last.fps if last is not None else 4.0
        if user_prompt is None:
            user_prompt = last.user_prompt if last is not None else ""
        if camera is None and last is not None:
            camera = last.camera
        if style is None and last is not None:
            style = last.style
        if not isinstance(user_prompt, str):
            raise DirectorInputError(f"The prompt must be text (got {type(user_prompt).__name__}).")
        if user_prompt.strip():
            user_prompt, _, fps = check_request(user_prompt, num_frames, fps)
        else:
            user_prompt = ""
            _, _, fps = check_request("x", num_frames, fps)
        return user_prompt, fps, prompts.normalize_camera(camera), prompts.normalize_style(style)

    def redirect_frame(
        self,
        frames: Sequence[str],
        index: int,
        user_prompt: str | None = None,
        fps: float | None = None,
        camera: str | None = None,
        style: str | None = None,
        *,
        fresh: bool = False,
    ) -> DirectorResult:
        """The table with a new version of frame `index` (0-based), written to fit its neighbours.

        `frames` is the current table, the user's edits included; only row `index` is
        rewritten (the result's `frame`, at the result's `index`), the other rows are context
        and come back as they were: the new frame continues from frame `index - 1` and leads
        into frame `index + 1`, keeping subject identity, look, setting and style, within
        CLIP's 77 tokens. Empty rows elsewhere are allowed; the target row may be empty too.
        `user_prompt`, `fps`, `camera` and `style` default to the last conversation's (else no
        prompt, 4 fps). fresh: ask the model again instead of serving a cached rewrite.

        LLM back ends send one request (the task, the table as the model's previous answer,
        and a turn asking to rewrite only that frame), reject an answer that repeats the
        current row (one retry, then DirectorFormatError) and cache by the whole table, so
        an edited table is a new request. The offline director rebuilds the row from the
        story and the neighbours (see OfflineDirector). Raises DirectorInputError for an
        empty table or an index out of range.
        """
        frames, index = check_redirect(frames, index)
        user_prompt, fps, camera, style = self._context(user_prompt, fps, camera, style, len(frames))
        if not user_prompt and not any(frames[j] for j in (index - 1, index, index + 1) if 0 <= j < len(frames)):
            raise DirectorInputError(
                f"Frame {index + 1} and the rows around it are empty; type a prompt or fill in a neighbouring row."
            )
        how = self._start(fresh)
        frame = self._running(how, self._redirect, list(frames), index, fps, user_prompt, camera, style)
        frame = " ".join(str(frame or "").split())
        if not frame:
            raise DirectorFormatError(f"The director returned an empty frame {index + 1}; try again.")
        problems = quality.redirect_problems(frames, index, frame, style, prompt=user_prompt or None)
        table = [*frames[:index], frame, *frames[index + 1:]]
        return DirectorResult(table, how, flags={index: problems} if problems else {}, index=index)

    @abstractmethod
    def _direct(self, user_prompt: str, num_frames: int, fps: float, camera: str | None, style: str | None) -> list[str]: ...

    @abstractmethod
    def _double(self, frames: list[str], fps: float, user_prompt: str, camera: str | None, style: str | None) -> list[str]: ...

    def _redirect(
        self, frames: list[str], index: int, fps: float, user_prompt: str, camera: str | None, style: str | None
    ) -> str:
        """The new text of frame `index`; every back end in this package overrides it."""
        raise DirectorConfigError(f"The {self.backend or type(self).__name__} director cannot re-direct a single frame.")

    def describe(self) -> str:
        """One line for the page: which back end and model this is."""
        return f"{self.backend} ({self.model})" if self.model else self.backend


class LLMDirector(Director):
    """A director backed by a chat model. Subclasses implement `_complete` (send the turns,
    return the answer's text) and `_error_status` (an SDK exception's HTTP status and message);
    `_special_error` and `_retry_after` where their provider needs them."""

    default_model: ClassVar[str] = ""
    label: ClassVar[str] = "the model"  # "OpenAI", "Gemini": used in error messages
    pins_addresses: ClassVar[bool] = False  # True when the back end sends through URLPolicy.http_client
    service: ClassVar[str] = "the server"  # "the OpenAI API": the server when no base URL is given
    credential: ClassVar[str] = "API key"  # what the server checks: "API key", "token"

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        cache: bool = True,
        cache_dir: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        max_format_retries: int = 2,
        quality_retries: int = 1,
        temperature: float | None = None,
        max_tokens: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        url_policy: URLPolicy | None = None,
    ) -> None:
        super().__init__()
        self.model = model or self.default_model
        # Parsed, never concatenated (urls.py); on a public server a back end that cannot pin
        # the checked address (pins_addresses False) reaches only the owner's listed URLs.
        self.base_url = parse_base_url(base_url)
        self.url_policy = url_policy or URLPolicy()
        if not self.url_policy.trusts(self.base_url) and not self.pins_addresses:
            raise BaseURLRefused()
        self.cache = ResponseCache(cache_dir) if cache else None
        self.timeout = float(timeout)
        self.max_retries = max(0, int(max_retries))
        self.backoff = max(0.0, float(backoff))
        self.max_backoff = float(max_backoff)
        self.max_format_retries = max(0, int(max_format_retries))
        # Turns spent on an answer that parses but fails the quality gate (quality.py): 1 by
        # default, 0 accepts and flags the first answer at once.
        self.quality_retries = max(0, min(1, int(quality_retries)))
        self.temperature = temperature
        # Output-token limit sent with each request (None: the server's default). `_budget` is
        # the limit in force for the current conversation; a cut-off answer doubles it.
        self.max_tokens = int(max_tokens) if max_tokens else None
        self._budget: int | None = self.max_tokens
        self._sleep = sleep
        self._refuses_images = False  # set when the model refused a picture; not offered one again
        self.requests_sent = 0  # answers actually requested from the model (cache hits cost none)

    # ------------------------------------------------------------------ what back ends provide
    @abstractmethod
    def _complete(self, messages: list[prompts.Message], num_frames: int, *, shape: str = "frames") -> str:
        """Send the turns, return the model's answer text. May raise SDK exceptions.

        shape: "frames" asks for {"frames": [...]} (num_frames of them), "frame" for a
        single-frame rewrite {"frame": "..."}; back ends with structured output pass the
        matching schema (prompts.frames_json_schema / frame_json_schema)."""

    def _secrets(self) -> tuple[str | None, ...]:
        """Strings that must never appear in a message: the key or token a back end sends
        (`self._key`; keys.NO_KEY when it sends none)."""
        key = getattr(self, "_key", None)
        return (key,) if key and key != keys.NO_KEY else ()

    def __repr__(self) -> str:  # never shows the key, nor a base URL's credentials
        return f"{type(self).__name__}(model={self.model!r}, base_url={public_url(self.base_url)!r})"

    def _error_status(self, exc: BaseException) -> tuple[int | None, str]:
        """(HTTP status, the server's message) of an SDK exception, for the shared status
        ladder and for telling a refused picture from other failures; (None, "") when it is
        not an HTTP error."""
        return None, ""

    def _special_error(self, exc: BaseException) -> DirectorError | None:
        """A back end's own reading of an exception, before the shared ladder: a spent quota
        told from a rate limit, an SDK's offline mode. None: the ladder decides."""
        return None

    def _retry_after(self, exc: BaseException) -> float | None:
        """Seconds a 429 asked us to wait, if the server said."""
        return None

    def _where(self) -> str:
        """The server, for messages: its public URL, else the service's name."""
        return public_url(self.base_url) or self.service

    def _translate(self, exc: BaseException) -> DirectorError | None:
        """A DirectorError (one clear sentence) for an SDK exception, None if it is not one of
        ours: the back end's special cases, then one status ladder for every HTTP back end
        (errors.status_error), then timeouts and lost connections."""
        special = self._special_error(exc)
        if special is not None:
            return special
        status, message = self._error_status(exc)
        if status is not None:
            detail = one_line(scrub(message, *self._secrets()), 160)
            return status_error(status, self._where(), self.model, detail, credential=self.credential,
                                retry_after=self._retry_after(exc))
        return transport_error(exc, self._who(), self._where(), self.timeout)

    def author(self) -> str:
        who = self._who()
        return who[0].lower() + who[1:] if who.startswith("The ") else who

    # ------------------------------------------------------------------ the three requests
    def _direct(self, user_prompt: str, num_frames: int, fps: float, camera: str | None, style: str | None) -> list[str]:
        run = self._run
        image = None if self._refuses_images else run.image
        messages = prompts.direct_messages(user_prompt, num_frames, fps, camera, style, image=image)
        request = self._cache_request("direct", user_prompt, num_frames, fps, camera, style, image=image)
        try:
            frames = self._answer(messages, Ask(num_frames, style, prompt=user_prompt), request)
        except DirectorImageUnsupported as refused:
            # A text-only model: the script from the prompt alone beats no script, and the
            # user is told. This director instance does not offer it pictures again.
            self._refuses_images = True
            frames = self._direct(user_prompt, num_frames, fps, camera, style)
            run.image_note = f"{refused} The script was written from your prompt alone; describe the picture in it."
            return frames
        if image is not None:
            if run.cached:
                run.image_note = f"{self._who()} saw this picture before; its cached script is used."
            else:
                run.image_note = f"{self._who()} got the picture ({image.describe()}) with the task, as frame 1."
            run.image_sent = True
        elif run.image is not None:  # refused by this model on an earlier request
            run.image_note = (f"{self._who()} does not accept pictures (it refused one before); the script was "
                              "written from your prompt alone.")
        self._remember(messages, user_prompt, fps, frames, camera, style)
        return frames

    def _double(self, frames: list[str], fps: float, user_prompt: str, camera: str | None, style: str | None) -> list[str]:
        last = self.conversation
        if last is not None and last.frames == frames and last.fps == fps and last.user_prompt == user_prompt:
            history = list(last.messages)  # the paper's case: continue the very conversation
        else:
            # An edited table (or a fresh director): rebuild the conversation as if the model had
            # answered with this table, so the follow-up turn reads exactly as in the paper.
            history = self._as_answered(frames, fps, user_prompt, camera, style)
        n2 = 2 * len(frames)
        messages = history + [{"role": "user", "content": prompts.double_fps_request(fps, len(frames))}]
        # A continued conversation that began with a picture still shows it to the model.
        request = self._cache_request("double_fps", user_prompt, n2, 2 * fps, camera, style, input_frames=frames,
                                      image=vision.history_image(history))
        doubled = self._answer(messages, Ask(n2, style, prompt=user_prompt or None), request)
        self._remember(messages, user_prompt, 2 * fps, doubled, camera, style)
        return doubled

    def _redirect(self, frames: list[str], index: int, fps: float, user_prompt: str, camera: str | None, style: str | None) -> str:
        # The task as first asked, the current table as the model's previous answer (so edits
        # are context, exactly as the user sees them), then the single-frame turn.
        history = self._as_answered(frames, fps, user_prompt, camera, style)
        messages = history + [{"role": "user", "content": prompts.redirect_frame_request(frames, index, style)}]
        # num_frames is the answer's size (one frame); the table itself is in input_frames.
        request = self._cache_request("redirect_frame", user_prompt, 1, fps, camera, style, input_frames=frames)
        request["index"] = index
        request["redirect_prompt_version"] = prompts.REDIRECT_PROMPT_VERSION
        frame = self._answer(messages, Ask(len(frames), style, index, tuple(frames), user_prompt or None), request)[0]
        table = [*frames[:index], frame, *frames[index + 1:]]
        self._remember(history[:-1], user_prompt, fps, table, camera, style)
        return frame

    @staticmethod
    def _as_answered(frames, fps, user_prompt, camera, style) -> list[prompts.Message]:
        """The task as first asked and `frames` as the model's answer to it."""
        prompt = user_prompt or "(not given; infer the story from the frames)"
        history = prompts.direct_messages(prompt, len(frames), fps, camera, style)
        return history + [{"role": "assistant", "content": prompts.assistant_answer(frames)}]

    def _remember(self, messages, user_prompt, fps, frames, camera, style) -> None:
        # Keep a clean history: the validated script as the assistant turn, not the raw answer or
        # failed attempts, so a follow-up never re-reads a fenced or broken answer.
        history = list(messages) + [{"role": "assistant", "content": prompts.assistant_answer(frames)}]
        self.conversation = prompts.Conversation(history, user_prompt, fps, list(frames), camera, style)

    # ------------------------------------------------------------------ cache
    def _cache_request(self, kind, user_prompt, num_frames, fps, camera, style, input_frames=None, image=None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "kind": kind,
            "backend": self.backend,
            "model": self.model,
            "base_url": public_url(self.base_url),
            "task_prompt_version": prompts.TASK_PROMPT_VERSION,
            "user_prompt": user_prompt,
            "num_frames": num_frames,
            "fps": fps,
            "camera": camera,
            "style": style,
            "temperature": self.temperature,
        }
        if input_frames is not None:
            request["input_frames"] = list(input_frames)
        if image is not None:  # the answer depends on the picture and on the words about it
            request["image_sha256"] = image.sha256
            request["image_prompt_version"] = prompts.IMAGE_PROMPT_VERSION
        return request

    def _answer(self, messages: list[prompts.Message], ask: Ask, request: dict[str, Any]) -> list[str]:
        """The cached answer to `request` (unless the call is fresh), else a conversation's,
        then cached. Every request kind goes through here."""
        if self.cache is not None and not self._run.fresh:
            cached = self.cache.get(request)
            if cached is not None:
                logger.info("director cache hit (%s, %s)", self.backend, self.model)
                self._run.cached = True
                return cached
        answer = self._converse(messages, ask)
        if self.cache is not None:
            self.cache.put(request, answer)
        return answer

    # ------------------------------------------------------------------ retries
    def _converse(self, messages: list[prompts.Message], ask: Ask) -> list[str]:
        """The one conversation loop, for a whole script and for a single row: ask, validate,
        and on a malformed or cut-off answer ask again saying what was wrong (bounded; a
        cut-off answer also gets a larger token budget). A row that comes back unchanged gets
        one more turn. A parsed answer that fails the quality gate gets one more turn naming
        the problems; then the better of the two answers is accepted (flagged by the caller,
        never dropped), and a failure of that turn keeps the first answer."""
        turns, first = list(messages), None  # first: (answer, flags) that the gate sent back
        attempts, failures, same_retried = self.max_format_retries + 1, 0, False
        self._budget = self.max_tokens
        while True:
            try:
                text, answer, problem = self._attempt(turns, ask)
            except DirectorError:
                if first is None:
                    raise
                logger.info("the quality retry failed; keeping the first answer, flagged")
                return first[0]
            unchanged = problem is None and ask.unchanged(answer)
            if first is not None and (problem is not None or unchanged):
                return first[0]  # the gate's one retry came back worse than flagged: the first stands
            if problem is not None:
                failures += 1
                logger.info("director answer unusable (%s), attempt %d of %d", problem, failures, attempts)
                if failures >= attempts:
                    raise DirectorFormatError(ask.unusable(self._who(), attempts, problem))
            elif unchanged:
                if same_retried:
                    raise DirectorFormatError(ask.unchanged_twice(self._who()))
                same_retried, problem = True, ask.unchanged_problem()
            else:
                flagged = ask.gate(answer)
                if first is not None:  # the gate's retry: keep whichever answer is flagged less
                    return answer if _badness(flagged) <= _badness(first[1]) else first[0]
                if not flagged or not self.quality_retries:
                    return answer
                first = (answer, flagged)
                logger.info("director answer fails the quality gate (%s); asking once more", quality.describe(flagged))
                turns = turns + [{"role": "assistant", "content": text}, {"role": "user", "content": ask.quality_retry(flagged)}]
                continue
            turns = turns + [{"role": "assistant", "content": text}, {"role": "user", "content": ask.retry(str(problem))}]

    def _attempt(self, turns: list[prompts.Message], ask: Ask) -> tuple[str, list[str] | None, FormatProblem | None]:
        """One answer: (its text, the parsed frames or None, what is wrong with it or None).
        A refusal in words raises DirectorRefusalError; transport failures raise as `_send` does."""
        try:
            text = self._send(turns, ask.size, shape=ask.shape)
        except AnswerCutOff as cut:
            self._budget = cut.larger_budget()  # room to finish on the retry
            return cut.text, None, FormatProblem(cut.problem())
        try:
            return text or "", ask.parse(text), None
        except RefusalProblem:
            raise DirectorRefusalError(ask.refused(self._who())) from None
        except FormatProblem as p:
            return text or "", None, p

    def _send(self, messages: list[prompts.Message], num_frames: int, shape: str = "frames") -> str:
        """One answer, retrying transport failures that may pass (429, 5xx, timeouts) with backoff."""
        for attempt in range(self.max_retries + 1):
            try:
                self.requests_sent += 1
                if shape == "frames":
                    return self._complete(messages, num_frames)
                return self._complete(messages, num_frames, shape=shape)
            except DirectorError as err:
                error = err
            except Exception as exc:  # SDK exceptions: translate, and never chain them (they may hold headers)
                refused = self._image_refusal(exc, messages)
                if refused is not None:
                    raise refused from None
                error = self._translate(exc)
                if error is None:
                    raise
            error.args = (scrub(str(error), *self._secrets()),)  # belt and braces
            if not error.retryable or attempt == self.max_retries:
                raise error from None
            wait = min(self.max_backoff, self.backoff * 2**attempt)
            if error.retry_after is not None:
                wait = min(self.max_backoff, max(wait, error.retry_after))
            logger.info("director request failed (%s); retry %d in %.2fs", type(error).__name__, attempt + 1, wait)
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _image_refusal(self, exc: BaseException, messages: list[prompts.Message]) -> DirectorImageUnsupported | None:
        """DirectorImageUnsupported when `exc` is the server refusing the picture these turns carry."""
        if vision.history_image(messages) is None:
            return None
        status, message = self._error_status(exc)
        if not image_unsupported(status, message):
            return None
        detail = one_line(scrub(message, *self._secrets()), 120).rstrip(".")
        return DirectorImageUnsupported(f"{self._who()} does not accept pictures ({status}: {detail}).")

    def _who(self) -> str:
        where = public_url(self.base_url)
        return f"{self.label} model {self.model!r}" + (f" at {where}" if where else "")
