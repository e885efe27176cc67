"""The offline director: a deterministic frame script without any model.

offline_parse.py reads the prompt as a small timeline of *beats* (steady action, gradual
change, arrival, exit, sudden change, ...). This module is the writer: it shares the N frames
out over the beats by weight, renders each frame as one self-contained image description
(subject with its look + what happens at that instant + setting + weather/time + a small
progress cue + camera + style) and checks that it fits CLIP's 77 tokens.

Rules the writer keeps, because a frame prompt is read by Stable Diffusion on its own:
- the subject and setting are named in full in every frame (never "he", "it", "they");
- held actions still move: each frame gets a subject- and verb-appropriate cue ("ears
  pricked", "head turning toward the horizon"), so adjacent frames differ;
- changes are told in stages ("just beginning to form" ... "fully formed");
- nothing random: the same request always gives the same script.
It is the default without API keys and what most people see first, so it aims for sensible
and predictable rather than clever.
"""

from __future__ import annotations

import re

from . import prompts
from .base import Director
from .offline_parse import (
    BIRDS, MOTION, TIMES, VEHICLES, WEATHER, Beat, Scene, Subject, ing, parse_scene,
    past_participle, singular,
)
from .errors import DirectorInputError
from .parsing import same_frame
from .tokens import CLIP_MAX_TOKENS, fits, token_lengths, truncate_to_limit

_CAMERA_MOVES: list[tuple[re.Pattern[str], list[str]]] = [
    (re.compile(r"zoom(?:s|ing)?\s*in|push(?:es|ing)?\s*in|dolly\s*(?:in|forward)|move\s*closer|close in", re.I),
     ["wide shot", "medium wide shot", "medium shot", "medium close-up", "close-up shot"]),
    (re.compile(r"zoom(?:s|ing)?\s*out|pull(?:s|ing)?\s*(?:back|out)|dolly\s*(?:out|back)", re.I),
     ["close-up shot", "medium close-up", "medium shot", "medium wide shot", "wide shot"]),
    (re.compile(r"pan(?:s|ning)?\s*left", re.I),
     ["centered in the frame", "right of center in the frame", "on the right side of the frame"]),
    (re.compile(r"pan(?:s|ning)?\s*right", re.I),
     ["centered in the frame", "left of center in the frame", "on the left side of the frame"]),
    (re.compile(r"tilt(?:s|ing)?\s*up|crane\s*up", re.I),
     ["centered in the frame", "low in the frame, more sky visible", "at the bottom of the frame, wide sky above"]),
    (re.compile(r"tilt(?:s|ing)?\s*down|crane\s*down", re.I),
     ["centered in the frame", "high in the frame, more ground visible", "at the top of the frame, ground below"]),
    (re.compile(r"orbit|rotat|circl|arc\b|around", re.I),
     ["front view", "three-quarter front view", "side view", "three-quarter rear view", "rear view"]),
]
_CAMERA_TALK = re.compile(
    r"(?:,\s*)?\b(?:(?:the\s+)?camera\b[^,.;]*|(?:slow(?:ly)?\s+|fast\s+)?(?:zoom(?:s|ing)?|pan(?:s|ning)?|tilt(?:s|ing)?|"
    r"dolly(?:ing)?)\s+(?:in|out|left|right|up|down|forward|back)\b|(?:extreme\s+)?(?:close-up|close up|wide|medium|long|"
    r"tracking|drone|aerial|establishing)\s+(?:shot|view)|(?:shot|filmed)\s+from\s+[^,.;]+)",
    re.I,
)


# ---------------------------------------------------------------------- cues
# Small, concrete details that move a held action along without changing the story. Keyed
# by verb and subject class; none uses a pronoun, and each reads well for one or many.
_VERB_CUES: dict[tuple[str, str] | str, list[str]] = {
    ("run", "animal"): ["legs stretched out mid-stride", "ears flapping in the wind", "paws kicking up dirt",
                        "tail streaming behind"],
    ("run", "person"): ["arms pumping mid-stride", "feet pushing off the ground", "hair blowing back",
                        "leaning forward with speed"],
    ("sprint", "animal"): ["body stretched out at full stretch", "legs gathered beneath the body",
                           "dust flying behind", "tail out for balance"],
    ("sprint", "person"): ["arms pumping hard", "leaning forward at full speed", "feet barely touching the ground"],
    ("fly", "person"): ["looking up at the sky", "arms raised, holding on", "hair blowing in the wind"],
    ("walk", "animal"): ["one front paw raised mid-step", "head held high", "tail swaying gently"],
    ("walk", "person"): ["mid-step", "arms swinging gently", "one foot forward"],
    ("sit", "bird"): ["feathers ruffled by the breeze", "head tilted", "wings folded", "looking around"],
    ("sit", "animal"): ["alert, ears pricked", "head turning toward the horizon", "tail flicking", "muscles tensing"],
    ("sit", "person"): ["hands resting on the knees", "looking around calmly", "glancing to the side"],
    ("lie", "animal"): ["head resting on the front paws", "eyes half closed", "ears twitching"],
    ("sleep", "animal"): ["curled up, eyes closed", "breathing slowly", "one ear twitching"],
    ("sleep", "person"): ["eyes closed, breathing slowly", "head resting on a pillow", "peaceful expression"],
    "stand": ["standing still", "looking ahead", "head turning slightly"],
    "fly": ["wings spread wide", "wings raised mid-beat", "gliding on the wind"],
    "soar": ["wings spread wide", "gliding on the wind", "banking gently"],
    "swim": ["gliding through the water", "ripples spreading", "splashing gently"],
    "sail": ["sails full of wind", "bow cutting through the water", "wake trailing behind"],
    "drive": ["wheels turning", "headlights on", "dust trailing behind"],
    "ride": ["moving at a steady pace", "leaning into the motion", "wind rushing past"],
    "jump": ["crouching, ready to jump", "in mid-air", "landing softly"],
    "dance": ["arms raised gracefully", "spinning mid-turn", "one leg extended"],
    "play": ["mid-motion, full of energy", "bouncing playfully", "turning quickly"],
    "blow": ["soap bubbles floating in the air", "a big bubble forming at the wand", "bubbles drifting upward",
             "bubbles shimmering with rainbow colors"],
    "watch": ["eyes fixed ahead", "head tilted with curiosity", "calmly watching"],
    "order": ["talking to the barista", "pointing at the menu board", "paying at the register",
              "waiting for the coffee"],
    "plant": ["pushing the flagpole into the ground", "the flag unfurling", "holding the flagpole upright"],
    "wave": ["arms raised high", "waving toward the camera", "hands moving side to side"],
    "read": ["turning a page", "eyes on the page", "holding the book open"],
    "eat": ["taking a bite", "chewing", "reaching for more"],
    "drink": ["raising the cup", "taking a sip", "setting the cup down"],
    "cook": ["stirring a pot", "steam rising", "tasting from a spoon"],
    "paint": ["brush touching the canvas", "mixing colors", "stepping back to look"],
    "sing": ["mouth open mid-note", "eyes closed, singing", "arms open wide"],
    "climb": ["reaching for the next hold", "pulling up", "one foot braced"],
    "bark": ["mouth open mid-bark", "head raised", "tail wagging"],
    "roar": ["jaws wide open", "head thrown back", "teeth bared"],
    "float": ["drifting slowly", "bobbing gently", "turning slowly"],
    "gallop": ["mane flying", "hooves off the ground", "legs stretched out mid-stride"],
    "chase": ["closing the gap", "legs stretched out mid-stride", "dust flying behind"],
    "fish": ["casting the line", "waiting patiently", "reeling in"],
    "surf": ["riding the crest of a wave", "spray flying", "crouched low on the board"],
}
_CLASS_CUES = {
    "person": ["focused expression", "soft natural light", "slight turn of the head", "relaxed posture"],
    "bird": ["feathers ruffled by the breeze", "head tilted", "wings folded", "looking around"],
    "animal": ["ears pricked", "tail swaying", "head tilted slightly", "fur ruffled by the breeze"],
    "vehicle": ["moving steadily", "light glinting off the surface", "soft reflections"],
    "sky": ["soft light", "clouds drifting", "light shifting slowly"],
    "thing": ["soft natural light", "gentle breeze", "light shifting slowly", "calm atmosphere"],
}
# Gradual change, in order. 8 levels so up to 8 frames of one change never repeat.
_LEVELS = ["just beginning to {b}", "slowly {ing}", "partly {pp}", "half {pp}", "more than half {pp}",
           "mostly {pp}", "almost fully {pp}", "fully {pp}"]
_SUN = {"set": ["high above the horizon", "sinking toward the horizon", "low over the horizon, golden light",
                "touching the horizon, orange sky", "half below the horizon, red sky",
                "only a sliver above the horizon, red sky", "just set, a glowing rim on the horizon",
                "just below the horizon, purple afterglow"],

        "rise": ["just below the horizon, first glow of dawn", "a sliver above the horizon",
                 "half above the horizon, pink sky", "resting on the horizon, orange sky",
                 "rising above the horizon, golden light", "clear of the horizon, warm light", "climbing into the sky", "high in the bright morning sky"]}
# What a change looks like at each stage, for common subjects (spread over the levels).
_PROCESS_CUES = {
    "thunderstorm": ["calm water, a few dark clouds gathering", "dark clouds gathering", "storm clouds building up, wind rising",
                     "waves growing, first raindrops", "heavy rain and strong wind", "distant lightning, heavy rain",
                     "lightning striking, heavy rain, rough waves"],
    "storm": ["a few dark clouds gathering", "storm clouds building up", "wind rising", "heavy rain and strong wind",
              "lightning and heavy rain"],
    "rainbow": ["faint colors in the mist", "a pale colored arc", "a clearer colored arc", "bright colored arc",
                "vivid colors, clearing sky", "vivid colors, clear sky"],
    "snowman": ["crisp white snow, a few drops of water", "water dripping from the edges", "carrot nose drooping, slushy surface",
                "head sagging, body shrinking", "slumped into a mound of wet slush", "a puddle of slush with a carrot nose"],
    "flower": ["tight closed bud", "petals starting to unfold", "petals half open", "petals fully open"],
    "fire": ["a small flickering flame", "growing flames", "large flames", "a roaring blaze"],
    "tree": ["a small sapling", "a young tree", "a tall tree", "a large tree with a full crown"],
    "ice": ["solid and glistening", "water beading on the surface", "shrinking, a puddle spreading", "almost all water"],
    "cloud": ["a few wisps", "clouds thickening", "towering clouds", "the sky full of clouds"],
}
_WEATHER_STATES = {
    "rain": ["heavy rain falling from dark gray clouds", "rain pouring down, puddles forming",
             "rain easing off, clouds starting to break"],
    "snow": ["snowflakes drifting down", "snow falling steadily", "thick snow blanketing the ground"],
    "fog": ["thick fog", "fog drifting slowly", "fog thinning"],
    "storm": ["dark storm clouds", "a storm raging, heavy rain", "lightning in the dark sky"],
}
_CONDITIONS = {
    "rain": ["the first raindrops falling", "rain falling", "heavy rain pouring down"],
    "rain:stop": ["the rain easing off", "the last drops of rain, clouds breaking", "the sky clearing after the rain"],
    "snow": ["the first snowflakes falling", "snow falling", "thick snow falling, everything turning white"],
    "night": ["at dusk", "at twilight, lights turning on", "at night"],
    "day": ["at dawn, first light", "in the early morning light", "in bright daylight"],
    "morning": ["at dawn, first light", "in the early morning light", "in bright morning light"],
    "fog": ["a light mist rolling in", "fog thickening", "in dense fog"],
    "storm": ["dark clouds gathering", "wind rising, first raindrops", "a storm raging, lightning"],
    "wind": ["a breeze picking up", "wind blowing", "strong wind gusting"],
}
# Times of day and seasons in order, for "from day to night", "from winter to spring".
_TIME_SCALE = [("dawn", "at dawn, first light"), ("morning", "in the early morning light"),
               ("day", "at midday in bright daylight"), ("noon", "at midday in bright daylight"),
               ("afternoon", "in the early afternoon sun"), ("", "in the late afternoon, long shadows"),
               ("", "in golden hour light"), ("sunset", "at sunset, orange sky"),
               ("dusk", "at dusk, lights turning on"), ("evening", "at dusk, lights turning on"),
               ("twilight", "at twilight, deep blue sky"), ("night", "at night, lights glowing"),
               ("midnight", "at midnight, lights glowing")]
_SEASONS = [("spring", "in early spring, fresh buds"), ("", "in spring, blossoms everywhere"),
            ("summer", "in summer, lush and green"), ("", "in late summer, golden light"),
            ("autumn", "in early autumn, leaves turning"), ("fall", "in autumn, red and orange leaves"),
            ("", "in late autumn, bare branches"), ("winter", "in winter, covered in snow")]
_SPOTS = {"sofa", "couch", "bed", "chair", "table", "bench", "branch", "windowsill", "desk", "shelf", "rug",
          "mat", "rock", "fence", "roof", "stool", "log", "pillow", "cushion", "wire", "ledge", "perch"}
_REST_POSE = {
"sit": "a sitting position", "lie": "the ground", "sleep": "sleep", "rest": "rest",
              "crouch": "a crouch", "stand": "a standstill", "perch": "the perch"}


def _cues(subject: Subject, verb: str) -> list[str]:
    cls = "bird" if singular(subject.head) in BIRDS else subject.cls
    cues = _VERB_CUES.get((verb, cls)) or _VERB_CUES.get(verb) or _CLASS_CUES.get(cls, _CLASS_CUES["thing"])
    if subject.plural and verb in MOTION:
        cues = ["side by side"] + cues
    return cues


def _motion(subject: Subject, verb: str = "") -> str:
    """How this subject moves when the prompt does not say: a ship sails, a bird flies."""
    if verb in MOTION:
        return verb
    head = singular(subject.head)
    if head in BIRDS or head in {"plane", "airplane", "jet", "helicopter", "balloon"}:
        return "fly"
    if head in {"ship", "boat", "sailboat", "yacht", "ferry", "canoe", "kayak"}:
        return "sail"
    if head in VEHICLES:
        return "drive"
    return "walk"


def _pick(stages: list[str], k: int, n: int, single: int | None = None) -> str:
    """Stage for frame k of n, spread so the first and last frames show the first and last stage."""
    if n == 1:
        return stages[len(stages) // 2 if single is None else single]
    return stages[round(k * (len(stages) - 1) / (n - 1))]


# ---------------------------------------------------------------------- rendering one beat
def _where(beat: Beat) -> str:
    return beat.place.text if beat.place else ""


def _join(*parts: str) -> str:
    return re.sub(r"\s+", " ", " ".join(p for p in parts if p)).strip(" ,").replace(" ,", ",")


def _steady_main(beat: Beat) -> str:
    """The beat's held picture; for a change, its end state ("a flower fully bloomed")."""
    action = beat.action
    if beat.kind == "gradual" and beat.verb and not (beat.verb in _SUN and singular(beat.subject.head) == "sun"):
        action = _join(f"fully {past_participle(beat.verb)}", " ".join(action.split()[1:]))
    main = _join(beat.subject.np, action, _where(beat))

    return _join(main, f", {beat.companion}") if beat.companion else main


def _conditions(beat: Beat) -> str:
    return ", ".join(_CONDITIONS.get(c, [c])[-1] for c in beat.conditions)


def render_beat(beat: Beat, n: int, previous: Beat | None = None) -> list[tuple[str, str]]:
    """(main text, progress cue) for each of the beat's n frames."""
    s, np_, where = beat.subject, beat.subject.np, _where(beat)
    cues = _cues(s, beat.verb)
    cycle = [cues[k % len(cues)] for k in range(n)]
    blank = [""] * n
    kind = beat.kind

    if kind == "steady":
        return list(zip([_steady_main(beat)] * n, cycle))

    if kind == "state":
        weather = next((w for w in _WEATHER_STATES if singular(s.head) == w or s.head.startswith(w)), None)
        if weather:  # the weather is the picture, and it moves on toward what follows
            return [(_join(_pick(_WEATHER_STATES[weather], k, n, 0), where), "") for k in range(n)]
        return list(zip([_join(np_, where)] * n, [_CLASS_CUES["thing"][k % 4] for k in range(n)]))

    if kind == "gradual":
        words = beat.action.split()
        rest = " ".join(words[1:])
        after = ""
        if previous is not None and previous.kind == "state" and previous.subject.head in WEATHER:
            after = f"after the {previous.subject.head}"
        if n == 1:
            return [(_join(np_, beat.action, where, after), "")]
        if beat.verb in _SUN and singular(s.head) == "sun":
            return [(_join(np_, _pick(_SUN[beat.verb], k, n), where), "") for k in range(n)]
        b = beat.verb
        levels = [lv.format(b=b, ing=ing(b), pp=past_participle(b)) for lv in _LEVELS]
        process = _PROCESS_CUES.get(singular(s.head)) or next((v for key, v in _PROCESS_CUES.items() if key in s.head), None)
        out = []
        for k in range(n):
            level = _pick(levels, k, n)
            cue = _pick(process, k, n) if process else ""
            out.append((_join(np_, level, rest, where, after), cue))
        return out

    if kind == "transition":
        return _render_transition(beat, n)

    if kind == "enter":
        m = _motion(s, beat.verb)
        place = beat.place.np if beat.place else "the place"
        if beat.place and beat.place.enclosed:
            stages = [f"{ing(m)} up to the entrance of {place}", f"opening the door of {place}",
                      f"stepping through the doorway into {place}", f"{ing(m)} into {place}", f"{ing(m)} inside {place}"]
        else:
            stages = [f"{ing(m)} toward {place}", f"{ing(m)} up to the edge of {place}", f"{ing(m)} into {place}",
                      f"{ing(m)} through {place}", f"{ing(m)} deep inside {place}"]
        return [(_join(np_, _pick(stages, k, n, 3)), "") for k in range(n)]

    if kind == "approach":
        stages = ["far in the distance", "approaching", "drawing closer", "arriving", "having just arrived"]
        return [(_join(np_, _pick(stages, k, n, 3), where), "") for k in range(n)]

    if kind == "exit":
        return _render_exit(beat, n)

    if kind == "arrival":
        return _render_arrival(beat, n)

    if kind == "sudden":
        before = beat.before
        if before is not None and before.kind == "state":
            return list(zip([_join(_steady_main(before), f", {np_} suddenly {beat.action}")] * n, cycle))
        out = list(zip([_steady_main(beat)] * n, cycle))
        if n >= 2 and before is not None and before.subject is s:
            pose = _REST_POSE.get(before.verb)
            burst = f"suddenly leaping up from {pose}" if pose else f"suddenly starting to {beat.verb or 'move'}"
            if pose:
                burst += f", about to {beat.verb}"
            out = [(_join(np_, burst, where), "")] + out[: n - 1]
        return out

    if kind == "condition":
        before = beat.before
        stages = _CONDITIONS.get(beat.condition, [beat.condition])
        base = _steady_main(before) if before is not None else np_
        if beat.condition in TIMES and before is not None and before.place and before.place.head in TIMES:
            base = _join(before.subject.np, before.action)  # "at sunset" gives way to the new time
        bcues = _cues(before.subject, before.verb) if before is not None else cues
        return [(_join(base, f", {_pick(stages, k, n, len(stages) - 1)}"), bcues[k % len(bcues)] if before and before.kind == "steady" else "")
                for k in range(n)]
    return list(zip([_steady_main(beat)] * n, blank))  # pragma: no cover


def _render_exit(beat: Beat, n: int) -> list[tuple[str, str]]:
    s, np_ = beat.subject, beat.subject.np
    m = _motion(s, beat.verb)
    place = beat.place
    if beat.verb in {"disappear", "vanish", "fade"}:
        stages = ["clearly visible", "glowing faintly", "starting to fade", "half transparent, fading",
                  "faint and translucent", "barely visible", "almost vanished, only a faint outline left"]
        return [(_join(np_, _pick(stages, k, n, 3), _where(beat)), "") for k in range(n)]
    if place is not None and place.enclosed and m != "fly":
        p = place.np
        stages = [f"{ing(m)} toward the door of {p}", f"{ing(m)} out the door of {p}", f"stepping out of {p}",
                  f"{ing(m)} away from {p}"]
        return [(_join(np_, _pick(stages, k, n, 1)), "") for k in range(n)]
    where = _where(beat)
    if place is not None and place.prep in ("on", "at") and place.head in _SPOTS:
        p = place.np  # a sofa or a branch: one leaves it, not "into the distance on a sofa"
        if m == "fly":
            stages = [f"about to take off from {p}", f"lifting off from {p}, wings spread", f"flying away from {p}",
                      f"far away in the sky, {p} left behind"]
        else:
            stages = [f"{where}, turning to leave", f"getting off {p}", f"{ing(m)} away from {p}",
                      f"{ing(m)} out of sight, {p} left behind"]
        return [(_join(np_, _pick(stages, k, n, 2)), "") for k in range(n)]
    if m == "fly":
        stages = [f"about to take off {where}", f"lifting off {where}", f"flying away {where}",
                  f"flying off into the distance {where}", f"far away in the sky {where}, a small speck"]
    else:
        stages = [f"{where}, turning to leave", f"{ing(m)} away {where}", f"{ing(m)} off into the distance {where}",
                  f"small in the distance {where}, {ing(m)} away"]
    return [(_join(np_, _pick(stages, k, n, 1)), "") for k in range(n)]


def _render_arrival(beat: Beat, n: int) -> list[tuple[str, str]]:
    before, nc, group = beat.before, beat.newcomer, beat.subject
    assert before is not None and nc is not None
    before_main = _steady_main(before)
    approach = [f"{nc.np} appearing in the distance", f"{nc.np} approaching", f"{nc.np} catching up"]
    n_approach = 0 if n == 1 else 1 if n <= 3 else min(3, round(n / 3))
    out = [(_join(before_main, f", {_pick(approach, k, n_approach, 1)}"), "") for k in range(n_approach)]
    same = singular(nc.head) == singular(before.subject.head)
    if same and before.kind != "state":
        together = _join(group.np, before.action, "together", _where(beat))
    elif before.kind != "state":
        together = _join(before_main, f", {nc.np} beside the {before.subject.head}")
    else:
        together = _join(before_main, f", {nc.np} {beat.action}")
    cues = _cues(group if same else before.subject, before.verb)
    out += [(together, cues[k % len(cues)]) for k in range(n - n_approach)]
    return out


def _scale_slice(scale: list[tuple[str, str]], src: str, dst: str) -> list[str] | None:
    keys = [k for k, _ in scale]

    def find(word: str) -> int | None:
        w = word.lower().removeprefix("the ").strip()
        return keys.index(w) if w in keys else None

    a, b = find(src), find(dst)
    if a is None or b is None or a == b:
        return None
    texts = [t for _, t in scale]
    part = texts[a: b + 1] if a < b else texts[b: a + 1][::-1]
    return [t for i, t in enumerate(part) if i == 0 or t != part[i - 1]]  # synonyms share a text


def _render_transition(beat: Beat, n: int) -> list[tuple[str, str]]:
    s, np_, a, b = beat.subject, beat.subject.np, beat.src, beat.dst
    cues = _cues(s, beat.verb)
    stages = _scale_slice(_TIME_SCALE, a, b) or _scale_slice(_SEASONS, a, b)
    if stages:
        lead = _join(np_, beat.action)
        return [(_join(lead, stage), "") for stage in (_pick(stages, k, n) for k in range(n))]
    if beat.verb in MOTION:
        v = ing(beat.verb)
        the_b = re.sub(r"^(?:a|an)\s+", "the ", b)
        stages = [f"{v} in {a}", f"{v} out of {a}", f"{v} away from {a}, {b} ahead", f"{v} toward {b}",
                  f"{v} into {b}", f"{v} through {b}", f"{v} deep in {the_b}"]
        dst_head = b.split()[-1].lower()
        ramp: list[str] = []
        if dst_head in {"storm", "thunderstorm", "rain"}:
            sea = singular(s.head) in {"ship", "boat", "sailboat", "yacht", "ferry", "canoe", "kayak"} or \
                any(w in a.lower() for w in ("harbor", "harbour", "sea", "ocean", "port", "bay"))
            ramp = (["calm water, clear sky", "calm water", "darkening sky", "dark clouds, rising waves",
                     "heavy rain, rough waves", "lightning, towering waves"] if sea else
                    ["clear sky", "clouds gathering", "darkening sky", "dark storm clouds, wind rising",
                     "heavy rain", "lightning, pouring rain"])
        out = []
        for k in range(n):
            cue = _pick(ramp, k, n) if ramp else ""
            if n > len(stages) and not ramp:
                cue = cues[k % len(cues)]
            out.append((_join(np_, _pick(stages, k, n)), cue))
        return out
    lead = _join(np_, beat.action)
    stages = [f"{a}", f"{a} slowly giving way to {b}", f"halfway between {a} and {b}", f"mostly {b}", f"{b}"]
    return [(_join(lead, f", {_pick(stages, k, n)}", _where(beat)), "") for k in range(n)]


# ---------------------------------------------------------------------- the script
def allocate(weights: list[float], n: int) -> list[int]:
    """Frames per beat: at least one each when there are enough frames, the rest by weight.
    With fewer frames than beats, beats are sampled evenly (first and last kept); one frame
    shows the heaviest beat (the first of equals)."""
    count = len(weights)
    if n < count:
        if n == 1:
            chosen = [max(range(count), key=lambda i: (weights[i], -i))]
        else:
            chosen = [round(j * (count - 1) / (n - 1)) for j in range(n)]
        return [chosen.count(i) for i in range(count)]
    total = sum(weights)
    ideal = [w / total * n for w in weights]
    counts = [1] * count
    for _ in range(n - count):
        i = max(range(count), key=lambda j: (ideal[j] - counts[j], -j))
        counts[i] += 1
    return counts


def _tokens(text: str) -> int:
    return token_lengths([text])[0] - 2  # without the begin/end markers


def _compose(main: str, cue: str, camera: str, style: str, limit: int = CLIP_MAX_TOKENS) -> str:
    """main, cue, camera, style joined with commas, fitted to CLIP's window: the main part is
    shortened first (a long user description), then the cue and the camera are dropped;
    the style, which the user asked for in every frame, goes last."""
    extras = [e for e in (cue, camera, style) if e]
    while True:
        text = ", ".join([main] + extras)
        if fits(text, limit):
            break
        tail = _tokens(", " + ", ".join(extras)) if extras else 0
        if limit - 2 - tail >= 10:
            text = truncate_to_limit(main, limit - tail) + ", " + ", ".join(extras)
            if fits(text, limit):
                break
        if len(extras) <= 1:
            text = truncate_to_limit(text, limit)
            break
        extras.pop(0)
    text = re.sub(r"\s+", " ", text).strip(" ,")
    text = re.sub(r"(?:,\s*)+,", ",", text)
    return text[:1].upper() + text[1:]


def write_script(prompt: str, num_frames: int, camera: str | None = None, style: str | None = None) -> list[str]:
    """N self-contained frame prompts for `prompt` (see the module docstring)."""
    if camera == prompts.CAMERA_REMOVE:
        prompt = _CAMERA_TALK.sub("", prompt).strip(" ,") or prompt
    scene: Scene = parse_scene(prompt)
    counts = allocate([b.weight for b in scene.beats], num_frames)
    rows: list[tuple[str, str]] = []
    for i, (beat, n) in enumerate(zip(scene.beats, counts)):
        if n:
            previous = scene.beats[i - 1] if i else None
            for main, cue in render_beat(beat, n, previous):
                cond = _conditions(beat) if beat.kind != "condition" else ""
                rows.append((_join(main, f", {cond}") if cond else main, cue))
    frames: list[str] = []
    fallback = _CLASS_CUES.get(scene.subject.cls if scene.subject else "thing", _CLASS_CUES["thing"])
    for i, (main, cue) in enumerate(rows):
        t = (i + 0.5) / num_frames
        frame = _compose(main, cue, _camera_text(camera, t), style or "")
        extra = 0
        while frames and frame == frames[-1] and extra < len(fallback):  # never the same picture twice in a row
            frame = _compose(main, ", ".join(x for x in (cue, fallback[(i + extra) % len(fallback)]) if x),
                             _camera_text(camera, t), style or "")
            extra += 1
        frames.append(frame)
    return frames


def _camera_text(camera: str | None, t: float) -> str:
    if camera is None or camera == prompts.CAMERA_REMOVE:
        return ""
    if camera == prompts.CAMERA_STATIC:
        return "static camera, steady framing"
    for pattern, framings in _CAMERA_MOVES:
        if pattern.search(camera):
            return framings[min(int(t * len(framings)), len(framings) - 1)]
    return camera



# ---------------------------------------------------------------------- one frame again
_CAMERA_FRAMINGS = {f.casefold() for _, framings in _CAMERA_MOVES for f in framings} | {"static camera", "steady framing"}
_VARIATION_CUES = ["soft natural light", "gentle breeze", "light shifting slowly", "calm atmosphere",
                   "fine detail", "shallow depth of field"]


def _clauses(text: str) -> list[str]:
    return [c.strip(" .;") for c in text.split(",") if c.strip(" .;")]


def _ckey(clause: str) -> str:
    return " ".join(clause.casefold().split()).strip(" .,;")


def _is_camera(clause: str) -> bool:
    return _ckey(clause) in _CAMERA_FRAMINGS or bool(_CAMERA_TALK.fullmatch(clause.strip()))


def _overlaps(clause: str, others: list[str]) -> bool:
    key = _ckey(clause)
    return any(key in _ckey(o) or _ckey(o) in key for o in others)


def _fit(required_head: list[str], optional: list[str], tail: list[str], limit: int = CLIP_MAX_TOKENS) -> str:
    """head clauses, then as many optional clauses as fit (in order, skipping ones that repeat
    a clause already there), then the tail; within `limit` tokens."""
    chosen: list[str] = []
    for clause in optional:
        if _overlaps(clause, required_head + chosen + tail):
            continue
        if fits(", ".join(required_head + chosen + [clause] + tail), limit):
            chosen.append(clause)
    text = ", ".join(required_head + chosen + tail)
    if not fits(text, limit):  # the fixed parts alone are too long: shorten the head, keep the tail
        text = _compose(", ".join(required_head), "", "", ", ".join(tail), limit)
    text = re.sub(r"\s+", " ", text).strip(" ,")
    return text[:1].upper() + text[1:]


def blend_frames(before: str, after: str, style: str | None = None, camera: str | None = None, extra: str = "") -> str:
    """A frame between `before` and `after`, from their own words: the main clause (subject,
    action, setting) of `before`, the detail clauses both share, the details only `before`
    has, then those only `after` has (as many as fit in 77 tokens, none repeated), then
    `before`'s camera framing and the style (or the clauses both end with) last. `extra` is a
    cue put in first."""
    a, b = _clauses(before), _clauses(after)
    if not a:
        a, b = b, a
    if not a:
        return ""
    if style:
        skey = _ckey(style)
        a = [c for c in a if _ckey(c) != skey] or a[:1]
        b = [c for c in b if _ckey(c) != skey]
        end = [style]
    else:  # the clauses both end with (a style, "static camera, steady framing") stay last
        k = 0
        while k < min(len(a), len(b)) - 1 and _ckey(a[-1 - k]) == _ckey(b[-1 - k]):
            k += 1
        end = a[len(a) - k:]
        a, b = a[: len(a) - k], b[: len(b) - k]
    if camera == prompts.CAMERA_REMOVE:
        a = [c for c in a if not _is_camera(c)] or a[:1]
        b = [c for c in b if not _is_camera(c)]
    bkeys = {_ckey(c) for c in b}
    akeys = {_ckey(c) for c in a}
    shared = [c for c in a[1:] if _ckey(c) in bkeys and not _is_camera(c)]
    cam = [c for c in a[1:] if _is_camera(c)]
    a_only = [c for c in a[1:] if _ckey(c) not in bkeys and not _is_camera(c)]
    b_only = [c for c in b[1:] if _ckey(c) not in akeys and not _is_camera(c)]
    optional = ([extra] if extra else []) + a_only + b_only
    return _fit([a[0]] + shared, optional, cam + end)


def rewrite_frame(
    frames: list[str], index: int, user_prompt: str = "", camera: str | None = None, style: str | None = None
) -> str:
    """The offline director's new version of frame `index` (see OfflineDirector._redirect)."""
    n, current = len(frames), frames[index]
    prev = frames[index - 1] if index > 0 else ""
    nxt = frames[index + 1] if index + 1 < n else ""
    if user_prompt:
        story = write_script(user_prompt, n, camera, style)
        untouched = all(not frames[j] or same_frame(frames[j], story[j]) for j in (index - 1, index + 1) if 0 <= j < n)
        if untouched and not same_frame(story[index], current):
            return story[index]  # the neighbours are the director's own: its row fits them best
    if prev and nxt:
        before, after = prev, nxt
    elif prev or nxt:
        neighbour = prev or nxt
        if current:
            before, after = (prev, current) if prev else (current, nxt)
        elif user_prompt:
            before, after = story[index], neighbour
        else:
            before, after = neighbour, neighbour
    elif current or user_prompt:
        before = after = current or story[index]
    else:
        raise DirectorInputError(
            f"Frame {index + 1} and the rows around it are empty; type a prompt or fill in a neighbouring row."
        )
    frame = blend_frames(before, after, style, camera)
    k = 0
    while same_frame(frame, current) and k < len(_VARIATION_CUES):  # a new take, never the same words
        frame = blend_frames(before, after, style, camera, extra=_VARIATION_CUES[(index + k) % len(_VARIATION_CUES)])
        k += 1
    return frame if fits(frame) else truncate_to_limit(frame)


def in_between(before: str, after: str, camera: str | None, style: str | None, avoid: tuple[str, ...] = ()) -> str:
    """A frame between `before` and `after` that repeats neither of the `avoid` frames."""
    frame = blend_frames(before, after, style, camera)
    k = 0
    while any(same_frame(frame, a) for a in avoid) and k < len(_VARIATION_CUES):
        frame = blend_frames(before, after, style, camera, extra=_VARIATION_CUES[k])
        k += 1
    return frame if fits(frame) else truncate_to_limit(frame)


class OfflineDirector(Director):
    """Deterministic, instant, always available; no cache needed.

    Re-directing one frame (`redirect_frame`) writes the row from the story and its
    neighbours, deterministically: with a user prompt whose script the neighbouring rows
    still match (nobody edited them), the row is the one this director writes for that prompt
    at that table length. Otherwise (edited neighbours, no prompt, or the row already is the
    director's own) it blends the neighbours' own words (`blend_frames`): the main clause of
    the frame before, the details both neighbours share, the details of the frame before and
    then of the frame after, as many as fit in 77 tokens, the camera framing of the frame
    before, and the style last. At the first or last row the current row stands in for the
    missing neighbour. If that would repeat the current row word for word, a small visual cue
    is added, so every press gives a different row than the one shown.
    """

    backend = "offline"
    model = None

    def __init__(self, model: str | None = None, api_key: str | None = None, base_url: str | None = None, **_: object):
        super().__init__()  # model/key/url accepted so make_director's call is uniform; unused

    def _direct(self, user_prompt, num_frames, fps, camera, style) -> list[str]:
        frames = write_script(user_prompt, num_frames, camera, style)
        self.conversation = prompts.Conversation([], user_prompt, fps, frames, camera, style)
        return frames

    def _double(self, frames, fps, user_prompt, camera, style) -> list[str]:
        """Frames this director wrote itself are re-timed at 2N (each frame's half-intervals).
        Edited frames are kept exactly as written, and after each comes an in-between frame
        blended from it and the next (the last one from itself, with a variation cue)."""
        if user_prompt and write_script(user_prompt, len(frames), camera, style) == frames:
            doubled = write_script(user_prompt, 2 * len(frames), camera, style)
        else:
            doubled = []
            for i, frame in enumerate(frames):
                after = frames[i + 1] if i + 1 < len(frames) else frame
                doubled += [frame, in_between(frame, after, camera, style, avoid=(frame, after))]
        self.conversation = prompts.Conversation([], user_prompt, 2 * fps, doubled, camera, style)
        return doubled

    def _redirect(self, frames, index, fps, user_prompt, camera, style) -> str:
        frame = rewrite_frame(frames, index, user_prompt, camera, style)
        table = list(frames)
        table[index] = frame
        self.conversation = prompts.Conversation([], user_prompt, fps, table, camera, style)
        return frame
