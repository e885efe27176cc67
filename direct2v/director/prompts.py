"""The task prompts the director sends to an LLM (method.md section 1, paper section 4.3),
and the follow-up turns: doubling the frame rate, retrying a malformed answer, and rewriting
one frame of an (edited) table.

`TASK_PROMPT_VERSION` goes into the response-cache key: bump it whenever any text below
changes, so cached scripts written under the old instructions are not served.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

TASK_PROMPT_VERSION = "2026-12-v3"  # v3: three short examples of different kinds, pacing, absent ends, no-event, accents
# The single-frame rewrite turn (`redirect_frame_request`) is versioned on top of the task
# prompt: bump the suffix when that turn's text changes; a new task version changes it too.
REDIRECT_PROMPT_VERSION = f"{TASK_PROMPT_VERSION}+redirect-v1"
# The task with a start picture (`picture_instruction`), versioned the same way; a text-only
# request keeps the plain task version, so its cached scripts stay valid.
IMAGE_PROMPT_VERSION = f"{TASK_PROMPT_VERSION}+image-v1"

# {"role": "system" | "user" | "assistant", "content": ...}; the first user turn may also
# carry "image" (a vision.DirectorImage), which each back end sends in its own shape.
Message = dict[str, Any]

# Three worked examples of different kinds (an action with an end, a change by degrees, an
# exit that ends on the empty place), each short and far from everyday prompts, so a small
# model learns the form without copying a subject, a place or a light into the user's script.
EXAMPLES = [
    ("a paper plane is thrown and lands on a desk", 4, "pencil sketch",
     ["plane held in a hand", "plane glides", "plane lands on the desk"],
     ["A folded paper plane held up in a hand above a cluttered desk, pencil sketch",
      "A folded paper plane leaving an open hand above a cluttered desk, pencil sketch",
      "A folded paper plane gliding low over a cluttered desk, nose tipped down, pencil sketch",
      "A folded paper plane resting on a cluttered desk between two pencils, pencil sketch"]),
    ("an ice sculpture melts in the sun", 3, None,
     ["sculpture whole", "sculpture melting", "a puddle"],
     ["An ice sculpture of a swan on a stone pedestal in bright sun, crisp edges",
      "An ice sculpture of a swan half melted on a stone pedestal in bright sun, dripping water",
      "A puddle of water on a stone pedestal in bright sun, a few ice shards left"]),
    ("a hot-air balloon drifts away over a valley", 3, None,
     ["balloon above the valley", "balloon drifts off", "empty sky"],
     ["A striped hot-air balloon floating low over a green valley, clear morning sky",
      "A small striped hot-air balloon far off near the horizon over a green valley, clear morning sky",
      "An empty clear morning sky over a green valley, distant hills"]),
]


def _example_text(prompt: str, n: int, style: str | None, beats: list[str], frames: list[str]) -> str:
    answer = json.dumps({"beats": beats, "frames": frames}, ensure_ascii=False)
    return f"User prompt: {prompt}. {n} frames{', style: ' + style if style else ''}.\n{answer}"


SYSTEM_PROMPT = """\
You are the director of a short video that a text-to-image model will draw frame by frame. \
Each frame is drawn on its own from its own description, so every description must stand alone.

First plan the beats: the steps of the story in the order the prompt tells them (2 to 5 short \
phrases). Then write the frames so the beats happen in that order, spread over the frames.

Pacing:
- The first frame shows the moment just before the first change; the last frame shows how it ends.
- Give each beat frames in proportion to how long it takes: a quick event (a jump, a pop, a splash) \
one or two frames, a slow change (melting, growing, filling, night falling) many, a little further \
in each frame.
- Something being made grows from frame to frame (a wall half painted, then nearly finished); \
something that changes shows each stage on the way.
- When something leaves, vanishes or is hidden, the last frames show the place without it and do \
not name it: the image model draws everything a description names, even after "without" or "no".
- If the prompt has no event (just a thing or a scene), do not invent a story: keep the subject and \
the setting in every frame and vary only small things that are true of it (framing, a slight change \
of pose or light). Plan one beat: "no event".

Rules for every frame description:
- Write in English (translate a prompt in another language); names and words with accents such as \
café or Zoë are fine. Describe one still image: who or what is in it, what they look like, what \
they are doing at that instant, where it takes place, the light and the weather.
- Repeat the static elements (subject identity, breed or species, colours, clothing, setting, \
style) with the same words in every frame, so the frames look like one continuous shot.
- Move only the dynamic elements (action, pose, arrivals and exits, changes of state, weather, \
camera) forward in time, smoothly from frame to frame; no two frames in a row are the same, and \
changing only the shot or camera words does not count as a change.
- Name the subject in full in every frame it is in. Never refer to other frames: no "it", "they", \
"them", "again", "still", "the same", "continues", "as before", "previous" or "next".
- At most about 40 words per description, the style included; the image model reads at most \
77 tokens and cuts off the rest.
- Plain visual language, no frame numbers, no timestamps, no quotation marks.

Examples (they show the form only: never take their subjects, places, colours or light):
""" + "\n".join(_example_text(*e) for e in EXAMPLES) + """

Answer with JSON only, exactly in this shape: \
{"beats": ["first beat", ...], "frames": ["description of frame 1", "description of frame 2", ...]}"""

CAMERA_STATIC = "static"
CAMERA_REMOVE = "remove"

_CAMERA_ALIASES = {
    "": None,
    "auto": None,
    "default": None,
    "static": CAMERA_STATIC,
    "keep static": CAMERA_STATIC,
    "fixed": CAMERA_STATIC,
    "still": CAMERA_STATIC,
    "none": CAMERA_REMOVE,
    "remove": CAMERA_REMOVE,
    "no camera": CAMERA_REMOVE,
    "off": CAMERA_REMOVE,
}


def normalize_camera(camera: str | None) -> str | None:
    """None (follow the prompt), "static", "remove", or a free-text move such as "slow zoom in"."""
    if camera is None:
        return None
    key = " ".join(str(camera).lower().split())
    return _CAMERA_ALIASES.get(key, " ".join(str(camera).split()))


def normalize_style(style: str | None) -> str | None:
    if style is None:
        return None
    style = " ".join(str(style).split()).strip(" .,")
    return style or None


def _camera_instruction(camera: str | None) -> str:
    if camera is None:
        return "Mention the camera only if the user's prompt does."
    if camera == CAMERA_STATIC:
        return "Keep the camera static: the same framing and viewpoint in every frame, and no camera movement."
    if camera == CAMERA_REMOVE:
        return "Leave out all camera talk: no camera moves, shot sizes, lenses or angles, even if the prompt has them."
    return (
        f"Add this camera move, spread evenly over the frames: {camera}. Write it into each frame as "
        "that frame's framing (shot size, angle, where the subject sits in the picture), not as motion."
    )


PICTURE_INSTRUCTION = (
    "The attached picture is frame 1 of the video: the video starts from it. Take the static elements "
    "(subject identity, species or breed, colours, clothing, the setting, the light, the visual style) from "
    "the picture and describe them in words, with the same words in every frame; the user's prompt may give "
    "only the motion. Frame 1 describes the picture as it is; the later frames move the dynamic elements on "
    "from there as the prompt says. Where the prompt names something the picture does not show, follow the prompt."
)


def direct_request(
    user_prompt: str, num_frames: int, fps: float, camera: str | None, style: str | None, picture: bool = False
) -> str:
    """The first user turn: the abstract prompt and the controllable attributes; with
    `picture`, also how to use the attached start picture (frame 1)."""
    seconds = num_frames / fps
    return turn(
        f"User prompt: {user_prompt}",
        "",
        f"Write exactly {num_frames} frame descriptions for a {seconds:g}-second video at {fps:g} frames per second.",
        PICTURE_INSTRUCTION if picture else None,
        _camera_instruction(camera),
        f"Visual style for every frame: {style}. End each description with it." if style else None,
        f'Answer with {{"beats": [...], "frames": [...]}} holding exactly {num_frames} frame strings.',
    )


def turn(*lines: str | None) -> str:
    """A user turn's text: its lines, those that are None left out."""
    return "\n".join(line for line in lines if line is not None)


def double_fps_request(fps: float, num_frames: int) -> str:
    """The paper's follow-up turn (section 4.3), in its own words, plus the answer format."""
    return (
        f"Now, at a frame rate of {2 * fps:g} fps, divide each frame in the previous result into two "
        f"separate image descriptions. This should eventually result in {2 * num_frames} frames. "
        f"Keep the same rules and the same order, and answer with {{\"beats\": [...], \"frames\": [...]}} "
        f"holding exactly {2 * num_frames} frame strings."
    )


def retry_request(problem: str, num_frames: int) -> str:
    """The follow-up turn after a malformed answer: say what was wrong and ask again, in the
    shape the schema asks for (the beats first)."""
    return (
        f"That answer could not be used: {problem}. Answer again with only the JSON object "
        f'{{"beats": [...], "frames": [...]}} holding 1 to 5 short beats and exactly {num_frames} non-empty '
        "frame strings, one per frame, and nothing else."
    )


def quality_retry_request(problems: str, num_frames: int) -> str:
    """The one follow-up turn after an answer that fails the quality gate (quality.py): name the
    frames and what is wrong, keep the rest."""
    return (
        f"Some frames break the rules; {problems}. Rewrite those frames so each "
        "stands alone (name the subject in full, no words that point at other frames, at most about 40 words "
        "with the style, each frame a step further than the one before and not only new shot words, an "
        "absent subject left unnamed), keep the other frames as they are, and answer "
        f'again with {{"beats": [...], "frames": [...]}} holding exactly {num_frames} frame strings.'
    )


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def redirect_frame_request(frames: Sequence[str], index: int, style: str | None = None) -> str:
    """The follow-up turn that rewrites only frame index+1 of the table in the previous answer."""
    n, k = len(frames), index + 1
    current = frames[index]
    context = []
    if index > 0:
        context.append(f"continues from frame {k - 1} ({_quote(frames[index - 1]) if frames[index - 1] else 'not written yet'})")
    if index + 1 < n:
        context.append(f"leads into frame {k + 1} ({_quote(frames[index + 1]) if frames[index + 1] else 'not written yet'})")
    where = "It is the only frame" if n == 1 else "It is the first frame" if index == 0 else (
        "It is the last frame" if index == n - 1 else "It sits in the middle")
    return turn(
        "The user may have edited the frames in your previous answer; treat them as the script now.",
        f"Rewrite ONLY frame {k} of the {n} frames. Leave every other frame as it is and do not repeat them.",
        f"Write frame {k} as a fresh, self-contained image description that "
        + (" and ".join(context) if context else "tells the user's prompt in one still image")
        + f". {where} of the video, so place its moment in time accordingly.",
        "Keep the subject identity, look, setting and style exactly as the other frames describe them, "
        "and keep the same rules: one still image in English, no references to other frames, at most "
        "about 40 words with the style, at most 77 CLIP tokens.",
        f"The current frame {k} reads {_quote(current)}; your version must be worded differently."
        if current else f"Frame {k} is empty now; write it.",
        f"End the description with the visual style: {style}." if style else None,
        f'Answer with JSON only, exactly in this shape: {{"frame": "the new description of frame {k}"}}',
    )


def redirect_retry_request(problem: str, index: int) -> str:
    """The follow-up turn after an unusable single-frame answer."""
    return (
        f"That answer could not be used: {problem}. Answer again with only the JSON object "
        f'{{"frame": "..."}} holding one new, non-empty description of frame {index + 1}, worded '
        "differently from the current one, and nothing else."
    )


def assistant_answer(frames: Sequence[str]) -> str:
    """A clean assistant turn holding a script, as if the model had answered it."""
    return json.dumps({"frames": list(frames)}, ensure_ascii=False)


@dataclass
class Conversation:
    """The turns so far and the script they ended with; `double_fps` continues from here."""

    messages: list[Message]
    user_prompt: str
    fps: float
    frames: list[str]
    camera: str | None = None
    style: str | None = None


def direct_messages(
    user_prompt: str, num_frames: int, fps: float, camera: str | None, style: str | None, image: Any = None
) -> list[Message]:
    """The task: the system prompt and the first user turn, which carries `image` (the start
    picture, a vision.DirectorImage) when one is given."""
    user: Message = {"role": "user", "content": direct_request(user_prompt, num_frames, fps, camera, style, image is not None)}
    if image is not None:
        user["image"] = image
    return [{"role": "system", "content": SYSTEM_PROMPT}, user]


def frames_json_schema() -> dict:
    """JSON schema of the answer: the planned beats first (so a model writes its plan before the
    frames), then the frames. The count is not in it: strict modes of several servers reject
    minItems/maxItems, and the count is checked after parsing anyway."""
    return {
        "type": "object",
        "properties": {
            "beats": {"type": "array", "items": {"type": "string"}},
            "frames": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["beats", "frames"],
        "additionalProperties": False,
    }


def frame_json_schema() -> dict:
    """JSON schema of a single-frame rewrite: {"frame": "..."}."""
    return {
        "type": "object",
        "properties": {"frame": {"type": "string"}},
        "required": ["frame"],
        "additionalProperties": False,
    }
