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
from typing import Any, ClassVar

from ..frames import MAX_FPS, MAX_FRAMES, MAX_PROMPT_CHARS  # noqa: F401 (one set of limits for every layer)
from . import prompts, quality, vision
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
)
from .parsing import FormatProblem, RefusalProblem, parse_frame, parse_frames, same_frame
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
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or not 1 <= num_frames <= MAX_FRAMES:
        raise DirectorInputError(f"The number of frames must be a whole number from 1 to {MAX_FRAMES} (got {num_frames!r}).")
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


class Director(ABC):
    """One abstract prompt in, exactly N frame prompts out."""

    backend: ClassVar[str] = ""
    model: str | None = None
    # Whether `direct(..., image=...)` sends the start picture to the model. Back ends that
    # read text only say so in `image_note` and write from the user's text alone.
    sees_images: ClassVar[bool] = False

    def __init__(self) -> None:
        self.conversation: prompts.Conversation | None = None
        # What the quality gate found in the last answer: {0-based frame: [problems]}; the page
        # and the CLI show it. Accepted answers are never dropped, only flagged.
        self.flags: dict[int, list[str]] = {}
        # Set by `direct(..., fresh=True)` for the duration of that call: LLM back ends then skip
        # the cache read and ask for a new sample (an explicit re-direct).
        self._fresh = False
        # One line the user must see once (e.g. "using the built-in writer: <why>"); the page
        # shows it in its status line, the CLI on stderr. See `take_notice`.
        self.notice: str | None = None
        # After a `direct()` given a picture: one line saying whether the model saw it (the
        # page's and the CLI's status line), and whether it did. None without a picture.
        self.image_note: str | None = None
        self.image_sent = False
        self._image: vision.DirectorImage | None = None  # the picture of the `direct()` under way

    def take_notice(self) -> str | None:
        """The pending notice, once: it is cleared when read."""
        notice, self.notice = self.notice, None
        return notice

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
    ) -> list[str]:
        """Exactly `num_frames` self-contained frame prompts telling `user_prompt` at `fps`.

        camera: None (as the prompt says), "static", "remove" (no camera talk), or a move such as
        "slow zoom in". style: appended to every frame, e.g. "watercolor painting".
        fresh: an explicit re-direct; LLM back ends ask the model again (a new sample) instead
        of serving the cached answer to the same request, and cache the new answer.
        image: the start picture (a path, PIL image or array), frame 1 of the video. Back ends
        that see pictures get it, down-scaled (vision.py), with a task telling the model to
        take the static content from it, so `user_prompt` may give only the motion; a model
        that refuses pictures gets the text alone. `image_note` says afterwards which happened.
        """
        user_prompt, num_frames, fps = check_request(user_prompt, num_frames, fps)
        camera, style = prompts.normalize_camera(camera), prompts.normalize_style(style)
        picture = vision.prepare_image(image) if image is not None else None  # a bad picture fails before any request
        self.image_note, self.image_sent = None, False
        self._fresh = bool(fresh)
        try:
            # Asked only with a picture: a local model learns whether it sees by loading.
            self._image = picture if picture is not None and self.sees_images else None
            frames = self._direct(user_prompt, num_frames, fps, camera, style)
        finally:
            self._fresh = False
            self._image = None
        if picture is not None and self.image_note is None:
            self.image_note = (
                f"The picture was not sent: the {self.backend or 'chosen'} director reads text only, so the script "
                "follows your prompt alone."
            )
        self.flags = quality.script_problems(frames, style, prompt=user_prompt)
        return list(frames)

    def double_fps(
        self,
        frames: Sequence[str] | None = None,
        fps: float | None = None,
        user_prompt: str | None = None,
        *,
        camera: str | None = None,
        style: str | None = None,
    ) -> list[str]:
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
        user_prompt, fps, camera, style = self._conversation_defaults(user_prompt, fps, camera, style)
        if user_prompt.strip():
            user_prompt, _, fps = check_request(user_prompt, len(frames), fps)
        else:
            _, _, fps = check_request("x", len(frames), fps)
        camera, style = prompts.normalize_camera(camera), prompts.normalize_style(style)
        doubled = self._double(list(frames), fps, " ".join(user_prompt.split()), camera, style)
        self.flags = quality.script_problems(doubled, style, prompt=user_prompt or None)
        return list(doubled)

    def _conversation_defaults(self, user_prompt, fps, camera, style):
        """Fill what the caller left out from the last conversation (else no prompt, 4 fps)."""
        last = self.conversation
        if fps is None:
            fps = last.fps if last is not None else 4.0
        if user_prompt is None:
            user_prompt = last.user_prompt if last is not None else ""
        if camera is None and last is not None:
            camera = last.camera
        if style is None and last is not None:
            style = last.style
        return user_prompt, fps, camera, style

    def redirect_frame(
        self,
        frames: Sequence[str],
        index: int,
        user_prompt: str | None = None,
        fps: float | None = None,
        camera: str | None = None,
        style: str | None = None,
    ) -> str:
        """A new version of frame `index` (0-based) of `frames`, written to fit its neighbours.

        `frames` is the current table, the user's edits included; only row `index` is
        rewritten and returned (the caller replaces that row), the other rows are context:
        the new frame continues from frame `index - 1` and leads into frame `index + 1`,
        keeping subject identity, look, setting and style, within CLIP's 77 tokens. Empty
        rows elsewhere are allowed; the target row may be empty too. `user_prompt`, `fps`,
        `camera` and `style` default to the last conversation's (else no prompt, 4 fps).

        LLM back ends send one request (the task, the table as the model's previous answer,
        and a turn asking to rewrite only that frame), reject an answer that repeats the
        current row (one retry, then DirectorFormatError) and cache by the whole table, so
        an edited table is a new request. The offline director rebuilds the row from the
        story and the neighbours (see OfflineDirector). Raises DirectorInputError for an
        empty table or an index out of range.
        """
        frames, index = check_redirect(frames, index)
        user_prompt, fps, camera, style = self._conversation_defaults(user_prompt, fps, camera, style)
        if not isinstance(user_prompt, str):
            raise DirectorInputError(f"The prompt must be text (got {type(user_prompt).__name__}).")
        if user_prompt.strip():
            user_prompt, _, fps = check_request(user_prompt, len(frames), fps)
        else:
            user_prompt = ""
            _, _, fps = check_request("x", len(frames), fps)
        if not user_prompt and not any(frames[j] for j in (index - 1, index, index + 1) if 0 <= j < len(frames)):
            raise DirectorInputError(
                f"Frame {index + 1} and the rows around it are empty; type a prompt or fill in a neighbouring row."
            )
        camera, style = prompts.normalize_camera(camera), prompts.normalize_style(style)
        frame = " ".join(str(self._redirect(list(frames), index, fps, user_prompt, camera, style) or "").split())
        if not frame:
            raise DirectorFormatError(f"The director returned an empty frame {index + 1}; try again.")
        problems = quality.redirect_problems(frames, index, frame, style)
        self.flags = {index: problems} if problems else {}
        return frame

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
    """A director backed by a chat model; subclasses implement `_complete` and `_translate`."""

    default_model: ClassVar[str] = ""
    label: ClassVar[str] = "the model"  # "OpenAI", "Gemini": used in error messages
    pins_addresses: ClassVar[bool] = False  # True when the back end sends through URLPolicy.http_client

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

    @abstractmethod
    def _translate(self, exc: BaseException) -> DirectorError | None:
        """A DirectorError (one clear sentence) for an SDK exception, None if it is not one of ours."""

    def _secrets(self) -> tuple[str | None, ...]:
        """Strings that must never appear in a message (the API key)."""
        return ()

    def _error_status(self, exc: BaseException) -> tuple[int | None, str]:
        """(HTTP status, the server's message) of an SDK exception, for telling a refused
        picture from other failures; (None, "") when it is not an HTTP error."""
        return None, ""

    # ------------------------------------------------------------------ the two requests
    def _direct(self, user_prompt: str, num_frames: int, fps: float, camera: str | None, style: str | None) -> list[str]:
        image = None if self._refuses_images else self._image
        messages = prompts.direct_messages(user_prompt, num_frames, fps, camera, style, image=image)
        request = self._cache_request("direct", user_prompt, num_frames, fps, camera, style, image=image)
        sent = self.requests_sent
        try:
            frames = self._answer(messages, num_frames, request)
        except DirectorImageUnsupported as refused:
            # A text-only model: the script from the prompt alone beats no script, and the
            # user is told. This director instance does not offer it pictures again.
            self._refuses_images = True
            frames = self._direct(user_prompt, num_frames, fps, camera, style)
            self.image_note = f"{refused} The script was written from your prompt alone; describe the picture in it."
            return frames
        if image is not None:
            if self.requests_sent > sent:
                self.image_note = f"{self._who()} got the picture ({image.describe()}) with the task, as frame 1."
            else:
                self.image_note = f"{self._who()} saw this picture before; its cached script is used."
            self.image_sent = True
        elif self._image is not None:  # refused by this model on an earlier request
            self.image_note = (f"{self._who()} does not accept pictures (it refused one before); the script was "
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
            prompt = user_prompt or "(not given; infer the story from the frames)"
            history = prompts.direct_messages(prompt, len(frames), fps, camera, style)
            history.append({"role": "assistant", "content": prompts.assistant_answer(frames)})
        n2 = 2 * len(frames)
        messages = history + [{"role": "user", "content": prompts.double_fps_request(fps, len(frames))}]
        # A continued conversation that began with a picture still shows it to the model.
        request = self._cache_request("double_fps", user_prompt, n2, 2 * fps, camera, style, input_frames=frames,
                                      image=vision.history_image(history))
        doubled = self._answer(messages, n2, request)
        self._remember(messages, user_prompt, 2 * fps, doubled, camera, style)
        return doubled

    def _redirect(self, frames: list[str], index: int, fps: float, user_prompt: str, camera: str | None, style: str | None) -> str:
        # The task as first asked, the current table as the model's previous answer (so edits
        # are context, exactly as the user sees them), then the single-frame turn.
        prompt = user_prompt or "(not given; infer the story from the frames)"
        history = prompts.direct_messages(prompt, len(frames), fps, camera, style)
        history.append({"role": "assistant", "content": prompts.assistant_answer(frames)})
        messages = history + [{"role": "user", "content": prompts.redirect_frame_request(frames, index, style)}]
        # num_frames is the answer's size (one frame); the table itself is in input_frames.
        request = self._cache_request("redirect_frame", user_prompt, 1, fps, camera, style, input_frames=frames)
        request["index"] = index
        request["redirect_prompt_version"] = prompts.REDIRECT_PROMPT_VERSION
        cached = self.cache.get(request) if self.cache is not None else None
        if cached is not None:
            logger.info("director cache hit (%s, %s)", self.backend, self.model)
            frame = cached[0]
        else:
            frame = self._converse_frame(messages, frames, index, style)
            if self.cache is not None:
                self.cache.put(request, [frame])
        table = list(frames)
        table[index] = frame
        self._remember(history[:-1], user_prompt, fps, table, camera, style)
        return frame

    def _converse_frame(self, messages: list[prompts.Message], frames: list[str], index: int, style: str | None = None) -> str:
        """Ask for one frame; retry a malformed answer (bounded), an unchanged one (once) and one
        that fails the quality gate (once, then the better of the two is accepted)."""
        turns = list(messages)
        first: tuple[str, list[str]] | None = None  # the answer the gate sent back
        current, k = frames[index], index + 1
        attempts = self.max_format_retries + 1
        failures, same_retried = 0, False
        problem: FormatProblem | None = None
        self._budget = self.max_tokens
        while True:
            try:
                text = self._send(turns, 1, shape="frame")
            except AnswerCutOff as cut:
                text, self._budget = cut.text, cut.larger_budget()
                cut_problem: FormatProblem | None = FormatProblem(cut.problem())
            else:
                cut_problem = None
            try:
                if cut_problem is not None:
                    raise cut_problem
                frame = parse_frame(text, len(frames), index)
            except RefusalProblem:
                raise DirectorRefusalError(
                    f"{self._who()} declined to rewrite frame {k}; edit the row yourself, rephrase the prompt, "
                    "or try another back end."
                ) from None
            except FormatProblem as p:
                if first is not None:  # the gate's one retry came back malformed: the first answer stands
                    return first[0]
                problem, failures = p, failures + 1
                logger.info("director frame answer unusable (%s), attempt %d of %d", p, failures, attempts)
                if failures >= attempts:
                    tries = f"{attempts} tries" if attempts > 1 else "1 try"
                    raise DirectorFormatError(
                        f"{self._who()} gave an unusable rewrite of frame {k} after {tries} ({problem}); try again, "
                        "use another model, or use the offline director."
                    ) from None
                turns = turns + [
                    {"role": "assistant", "content": text or ""},
                    {"role": "user", "content": prompts.redirect_retry_request(str(p), index)},
                ]
                continue
            if current and same_frame(frame, current):
                if first is not None:
                    return first[0]
                if same_retried:
                    raise DirectorFormatError(
                        f"{self._who()} answered with frame {k} unchanged twice; edit the row yourself, "
                        "change a neighbouring row, or try another model."
                    )
                same_retried = True
                logger.info("director rewrote frame %d unchanged; asking once more", k)
                turns = turns + [
                    {"role": "assistant", "content": text or ""},
                    {"role": "user", "content": prompts.redirect_retry_request(
                        f"frame {k} came back unchanged; write a different wording", index)},
                ]
                continue
            flagged = quality.redirect_problems(frames, index, frame, style)
            if first is not None:
                return frame if len(flagged) <= len(first[1]) else first[0]
            if not flagged or not self.quality_retries:
                return frame
            first = (frame, flagged)
            logger.info("director frame %d fails the quality gate (%s); asking once more", k, "; ".join(flagged))
            turns = turns + [
                {"role": "assistant", "content": text or ""},
                {"role": "user", "content": prompts.redirect_retry_request(
                    f"frame {k} breaks the rules: {', and '.join(flagged)}", index)},
            ]

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

    def _answer(self, messages: list[prompts.Message], num_frames: int, request: dict[str, Any]) -> list[str]:
        if self.cache is not None and not self._fresh:
            cached = self.cache.get(request)
            if cached is not None:
                logger.info("director cache hit (%s, %s)", self.backend, self.model)
                return cached
        frames = self._converse(messages, num_frames, request.get("style"))
        if self.cache is not None:
            self.cache.put(request, frames)
        return frames

    # ------------------------------------------------------------------ retries
    def _converse(self, messages: list[prompts.Message], num_frames: int, style: str | None = None) -> list[str]:
        """Ask, validate, and on a malformed answer ask again saying what was wrong. A parsed
        answer that fails the quality gate gets one more turn naming the frames and problems;
        then the better of the two answers is accepted (flagged by the caller, never dropped)."""
        turns = list(messages)
        problem: FormatProblem | None = None
        attempts = self.max_format_retries + 1
        self._budget = self.max_tokens
        failures = 0
        first: tuple[list[str], dict[int, list[str]]] | None = None  # the answer the gate sent back
        while True:
            try:
                text = self._send(turns, num_frames)
            except AnswerCutOff as cut:
                if first is not None:  # the gate's one retry was cut off: the first answer stands
                    return first[0]
                problem, failures = FormatProblem(cut.problem()), failures + 1
                logger.info("director answer cut off (%s), attempt %d of %d", problem, failures, attempts)
                if failures >= attempts:
                    break
                self._budget = cut.larger_budget()
                turns = turns + [
                    {"role": "assistant", "content": cut.text},
                    {"role": "user", "content": prompts.retry_request(str(problem), num_frames)},
                ]
                continue
            except DirectorError:
                if first is None:
                    raise
                logger.info("the quality retry failed; keeping the first answer, flagged")
                return first[0]  # a usable script is never lost to a failed second try
            try:
                frames = parse_frames(text, num_frames)
            except RefusalProblem:
                raise DirectorRefusalError(
                    f"{self._who()} declined to write this script; rephrase the prompt or try another back end."
                ) from None
            except FormatProblem as p:
                if first is not None:  # the gate's one retry came back malformed: the first answer stands
                    return first[0]
                problem, failures = p, failures + 1
                logger.info("director answer unusable (%s), attempt %d of %d", p, failures, attempts)
                if failures >= attempts:
                    break
                turns = turns + [
                    {"role": "assistant", "content": text or ""},
                    {"role": "user", "content": prompts.retry_request(str(p), num_frames)},
                ]
                continue
            flagged = quality.script_problems(frames, style)
            if first is not None:  # the gate's retry: keep whichever answer has fewer failing frames
                return frames if len(flagged) <= len(first[1]) else first[0]
            if not flagged or not self.quality_retries:
                return frames
            first = (frames, flagged)
            logger.info("director answer fails the quality gate (%s); asking once more", quality.describe(flagged))
            turns = turns + [
                {"role": "assistant", "content": text or ""},
                {"role": "user", "content": prompts.quality_retry_request(quality.describe(flagged), num_frames)},
            ]
        tries = f"{attempts} tries" if attempts > 1 else "1 try"
        raise DirectorFormatError(
            f"{self._who()} gave an unusable answer after {tries} ({problem}); try again, use another model, "
            "or use the offline director."
        )

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
