"""The offline director: a deterministic frame script without any model.

It reads the prompt as a small timeline. The prompt is cut into clauses at temporal words
("then", "later", "after", "before", "until", "suddenly", ", and ..."); each clause becomes a
*beat* with one or more *stages*:

- a steady action ("a corgi is running")       -> one stage, with a gait cue for runs and walks
- a gradual change ("a rainbow forming")        -> stages from "just beginning to form" to "fully formed"
- an arrival ("another corgi joins")            -> "... as another corgi approaches" then "two corgis ..."
- an exit ("the bird flies away")               -> "... flying away" then the scene without it
- a sudden change ("suddenly sprints")          -> a short burst stage, then the new action

Frames are spread over the beats in order, and every frame is written out in full: subject,
what it does at that instant, the setting, the camera framing and the style, so each prompt
stands alone and fits CLIP's 77 tokens. It is the default without API keys and what most
people see first, so it aims for sensible rather than clever.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import prompts
from .base import Director
from .tokens import CLIP_MAX_TOKENS, fits, truncate_to_limit

_DETERMINERS = {"a", "an", "the", "another", "some", "two", "three", "four", "several", "many", "one", "his", "her", "their", "my"}
_AUX = {"is", "are", "was", "were", "be", "being", "keeps", "starts", "begins", "continues"}
_NOT_VERBS_ING = {"king", "ring", "spring", "evening", "morning", "building", "ceiling", "wing", "thing", "string", "swing", "painting", "clothing", "lightning", "pudding", "ping", "sibling", "duckling", "darling", "sling", "sting", "bling"}
_VERBS = {
    "run", "walk", "sit", "sprint", "jump", "fly", "swim", "dance", "join", "arrive", "appear", "leave", "enter",
    "exit", "form", "develop", "grow", "turn", "become", "fall", "rise", "melt", "bloom", "open", "close", "start",
    "stop", "eat", "play", "chase", "ride", "drive", "sing", "look", "stand", "lie", "sleep", "wake", "roar", "bark",
    "climb", "dive", "race", "gallop", "crawl", "roll", "spin", "explode", "burn", "shine", "glow", "fade", "build",
    "gather", "clear", "spread", "fill", "pour", "drip", "flow", "crash", "break", "wave", "smile", "laugh", "cry",
    "hug", "kiss", "fight", "throw", "catch", "kick", "hit", "read", "write", "paint", "cook", "drink", "sail",
    "land", "take", "emerge", "disappear", "vanish", "approach", "come", "go", "move", "change", "set", "erupt",
    "strike", "float", "drift", "hover", "blossom", "sprout", "wilt", "freeze", "boil", "bounce", "leap", "hop",
    "skate", "ski", "surf", "trot", "stroll", "wander", "hunt", "pounce", "sneak", "lay", "rest", "yawn", "stretch",
    "show", "get", "fetch", "follow", "lead", "pass", "cross", "reach", "watch", "stare", "glide", "soar", "descend",
}
_ARRIVAL = {"join", "arrive", "appear", "enter", "come", "approach", "emerge", "show"}
_EXIT = {"leave", "exit", "disappear", "vanish", "go"}
_GRADUAL = {"form", "develop", "grow", "build", "gather", "melt", "bloom", "blossom", "rise", "set", "fade", "clear",
            "spread", "fill", "change", "turn", "become", "open", "close", "sprout", "wilt", "freeze", "boil", "burn"}
_LOCOMOTION = {"run", "walk", "sprint", "gallop", "trot", "race", "jog", "stroll", "dash"}
_IRREGULAR_PP = {"grow": "grown", "build": "built", "rise": "risen", "set": "set", "become": "become", "freeze": "frozen",
                 "burn": "burnt", "go": "gone", "come": "come", "show": "shown", "take": "taken", "fall": "fallen"}
_IRREGULAR_ING = {"lie": "lying", "die": "dying", "tie": "tying", "ski": "skiing", "be": "being", "see": "seeing"}
_SETTING = re.compile(
    r"\s+((?:in|on|over|under|across|through|along|near|beside|inside|above|below|beneath|around|into|onto)\s+"
    r"(?:a|an|the|some|his|her|their)?\s*[\w' -]+|at\s+(?:the|a|an|night|sunset|sunrise|dawn|dusk|noon|midnight)\b[\w' -]*)$",
    re.I,
)
_PRONOUNS = {"it", "they", "he", "she", "them", "him", "her"}
_WEATHER_NOUNS = {"rain": "heavy rain falling from dark gray clouds", "snow": "snow falling", "fog": "thick fog", "hail": "hail falling",
                  "wind": "strong wind blowing", "storm": "a storm raging", "sunshine": "bright sunshine"}
_PROCESS_CUES = {
    "thunderstorm": ["a few dark clouds gathering", "dark storm clouds building up", "heavy rain and strong wind",
                     "lightning striking, heavy rain, rough waves"],
    "storm": ["a few dark clouds gathering", "dark storm clouds building up", "heavy rain and strong wind",
              "lightning and heavy rain"],
    "rainbow": ["faint colors in the mist", "pale colored arc", "bright colored arc", "vivid colors, clear sky"],
    "sun": ["first light on the horizon", "warm orange light", "golden light", "bright daylight"],
    "flower": ["tight closed bud", "petals starting to unfold", "petals half open", "petals fully open"],
    "fire": ["a small flickering flame", "growing flames", "large flames", "roaring blaze"],
}
_GAIT = ["mid-stride", "legs stretched out in full stride", "feet pushing off the ground", "legs gathered beneath the body"]
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


@dataclass
class Stage:
    text: str
    weight: float = 1.0
    cue: str | None = None


@dataclass
class Beat:
    stages: list[Stage]
    weight: float = 1.0


@dataclass
class Clause:
    text: str
    sudden: bool = False


@dataclass
class Scene:
    """What the parser found: the beats in time order and the static setting."""

    beats: list[Beat] = field(default_factory=list)
    setting: str = ""
    subject: str = ""


# ---------------------------------------------------------------------- small word tools
def _base(verb: str) -> str:
    """'sprints' -> 'sprint', 'running' -> 'run', 'flies' -> 'fly', 'forming' -> 'form'."""
    v = verb.lower()
    if v.endswith("ing") and len(v) > 4:
        stem = v[:-3]
        if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
            return stem[:-1]  # running -> run
        if stem in {"danc", "div", "arriv", "emerg", "leav", "becom", "com", "rac", "glid", "driv", "rid", "smil",
                    "clos", "chas", "bounc", "approach", "melt", "rais", "ris", "gaz", "hov", "wav", "mov", "fad",
                    "writ", "tak", "shin", "sneak", "freez", "strok", "skat", "wander"}:
            return stem + ("e" if stem not in {"approach", "melt", "sneak", "wander"} else "")
        return stem
    if v.endswith("ies") and len(v) > 4:
        return v[:-3] + "y"
    if v.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        return v[:-2]
    if v.endswith("s") and not v.endswith("ss") and len(v) > 2:
        return v[:-1]
    return v


def _ing(base: str) -> str:
    if base in _IRREGULAR_ING:
        return _IRREGULAR_ING[base]
    if base.endswith("ie"):
        return base[:-2] + "ying"
    if base.endswith("e") and not base.endswith(("ee", "ye", "oe")):
        return base[:-1] + "ing"
    if (len(base) in (3, 4) and re.fullmatch(r".*[^aeiou][aeiou][bdgmnprt]", base)) or base in {"begin", "occur"}:
        return base + base[-1] + "ing"  # run -> running, sit -> sitting, stop -> stopping
    return base + "ing"


def _pp(base: str) -> str:
    if base in _IRREGULAR_PP:
        return _IRREGULAR_PP[base]
    if base.endswith("e"):
        return base + "d"
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        return base[:-1] + "ied"
    return base + "ed"


def _plural(noun: str) -> str:
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return {"man": "men", "woman": "women", "child": "children", "person": "people", "mouse": "mice",
            "goose": "geese", "sheep": "sheep", "fish": "fish", "deer": "deer", "wolf": "wolves"}.get(noun, noun + "s")


def _is_verb(word: str) -> bool:
    w = word.lower().strip(",")
    if w in _AUX:
        return True
    if w.endswith("ing") and len(w) > 4 and w not in _NOT_VERBS_ING:
        return True
    return _base(w) in _VERBS


def _article(noun_phrase: str) -> str:
    return "an" if noun_phrase[:1].lower() in "aeiou" else "a"


# ---------------------------------------------------------------------- parsing
def _split_clauses(prompt: str) -> list[Clause]:
    """Cut the prompt into clauses in time order ("X after Y" becomes Y, X)."""
    text = prompt.strip().rstrip(".!")
    parts = [p for p in re.split(r"\s*(?:[.;!]\s+|,?\s+and then\s+|,\s*then\s+|\s+then\s+|,\s*and\s+|,\s*but\s+|"
                                 r",\s*(?=(?:later|eventually|finally|afterwards|soon)\b))", text) if p.strip()]
    clauses: list[Clause] = []
    for part in parts:
        part = re.sub(r"^(?:then|and|but|later on|later|afterwards|after that|eventually|finally|soon),?\s+", "", part, flags=re.I)
        part = re.sub(r"\s+(?:later on|later|afterwards|eventually|soon after|soon|at last)$", "", part, flags=re.I)
        # "X suddenly Y": X, then a sudden Y (the subject carries over).
        m = re.match(r"(.+?)\s+(?:suddenly|all of a sudden|abruptly)\s+(.+)$", part, re.I)
        if m:
            clauses += [Clause(m.group(1)), Clause(m.group(2), sudden=True)]
            continue
        if re.match(r"(?:suddenly|all of a sudden|abruptly),?\s+", part, re.I):
            clauses.append(Clause(re.sub(r"^(?:suddenly|all of a sudden|abruptly),?\s+", "", part, flags=re.I), sudden=True))
            continue
        m = re.match(r"(.+?)\s+(?:after|once|when)\s+(.+)$", part, re.I)
        if m and not re.match(r"(?:after|once|when)\b", part, re.I):
            clauses += [Clause(m.group(2)), Clause(m.group(1))]  # "a rainbow forming after rain": rain first
            continue
        m = re.match(r"(.+?)\s+(?:before|until|till)\s+(.+)$", part, re.I)
        if m:
            clauses += [Clause(m.group(1)), Clause(m.group(2))]
            continue
        clauses.append(Clause(part))
    return clauses or [Clause(text)]


def _subject_and_predicate(clause: str) -> tuple[str, str]:
    """'A corgi is running' -> ('a corgi', 'is running'); 'sprints fast' -> ('', 'sprints fast')."""
    words = clause.split()
    if not words:
        return "", ""
    if _is_verb(words[0]) and words[0].lower() not in _DETERMINERS:
        return "", clause
    for i, w in enumerate(words[1:], start=1):
        if _is_verb(w) and words[i - 1].lower() not in _DETERMINERS:
            return " ".join(words[:i]), " ".join(words[i:])
    return clause, ""


def _participle_phrase(predicate: str) -> tuple[str, str]:
    """'is running fast' -> ('running fast', 'run'); 'sprints at full speed' -> ('sprinting at full speed', 'sprint')."""
    words = predicate.split()
    while words and words[0].lower() in _AUX and len(words) > 1:
        words = words[1:]
    if not words:
        return "", ""
    base = _base(words[0])
    if words[0].lower() in _AUX:
        return " ".join(words), ""
    return " ".join([_ing(base)] + words[1:]), base


def _head_noun(subject: str) -> str:
    words = [w for w in re.findall(r"[\w-]+", subject.lower()) if w not in _DETERMINERS]
    return words[-1] if words else subject.lower()


def _with_article(subject: str) -> str:
    if not subject:
        return subject
    first = subject.split()[0].lower()
    if first in _DETERMINERS or first.isdigit():
        return subject
    if subject.lower() in _WEATHER_NOUNS or subject.lower().endswith("s"):
        return subject
    return f"{_article(subject)} {subject}"


def parse_scene(prompt: str) -> Scene:
    scene = Scene()
    current_subject = ""  # the main subject, carried into clauses that have none
    current_state = ""  # what the frame shows at the end of the previous beat
    previous_noun = ""
    for clause in _split_clauses(prompt):
        text = clause.text.strip(" ,")
        m = _SETTING.search(text)
        if m and not re.match(r"at\s+full", m.group(1), re.I):
            if not scene.setting:
                scene.setting = m.group(1).strip()
            text = text[: m.start()].strip()
        subject, predicate = _subject_and_predicate(text)
        if subject.strip().lower() in _PRONOUNS:
            subject = ""  # "then it flies away": the frame must name the subject itself
        subject = _with_article(subject.strip())
        if not subject:
            subject = current_subject or "a scene"
        phrase, base = _participle_phrase(predicate)
        noun = _head_noun(subject)

        if not predicate:
            # A noun alone ("rain", "a sunny meadow"): a state, weather gets its usual look.
            state = _WEATHER_NOUNS.get(subject.lower(), subject)
            scene.beats.append(Beat([Stage(state)]))
            current_state, previous_noun = state, noun
            current_subject = current_subject or subject
            continue

        is_another = subject.lower().startswith(("another", "a second", "one more"))
        if base in _ARRIVAL and current_state and (is_another or noun != _head_noun(current_subject or "")):
            # An arrival: before, while approaching, then together.
            if is_another and noun == _head_noun(current_subject):
                verb_phrase = current_state[len(current_subject):].strip() if current_state.startswith(current_subject) else ""
                together = f"two {_plural(noun)} {verb_phrase} together".replace("  ", " ").strip()
            else:
                together = f"{current_state} together with {re.sub(r'^(another|a second|one more)', _article(noun), subject)}"
            arriving = subject.replace("another", "a second") if is_another else subject
            stages = [Stage(f"{current_state}, {arriving} approaching from the distance", 1.0),
                      Stage(together, 2.0)]
            scene.beats.append(Beat(stages, weight=1.0))
            current_state = together
            continue
        if (base in _EXIT or re.search(r"\b(?:away|off|out of)\b", predicate)) and current_state:
            rest = phrase.split(" ", 1)[1] if " " in phrase else "away"
            leaving = f"{subject} {_ing(base)} {rest}".strip()
            place = re.sub(r"^\w+\s+(?:(?:a|an|the|some)\s+)?", "", scene.setting) if scene.setting else "landscape"
            after = f"an empty {place}" if subject == current_subject else current_state
            scene.beats.append(Beat([Stage(leaving, 1.0), Stage(after, 1.0)]))
            current_state = after
            continue

        if not current_subject or subject not in ("a scene",):
            current_subject = current_subject or subject
        state = f"{subject} {phrase}".strip()
        if base in _GRADUAL:
            cues = _PROCESS_CUES.get(noun) or next((v for k, v in _PROCESS_CUES.items() if k in noun), None)
            rest = " ".join(phrase.split()[1:])
            after_prev = f" after the {previous_noun}" if previous_noun and previous_noun != noun and previous_noun in _WEATHER_NOUNS else ""
            texts = [f"{subject} just beginning to {base}", f"{subject} partly {_pp(base)}",
                     f"{subject} mostly {_pp(base)}", f"{subject} fully {_pp(base)}"]
            stages = [Stage(f"{t} {rest}".strip() + after_prev, 1.0, cues[i] if cues else None) for i, t in enumerate(texts)]
            scene.beats.append(Beat(stages, weight=1.5))
            current_state = f"{subject} fully {_pp(base)} {rest}".strip()
        elif clause.sudden:
            before = current_state or f"{subject} still"
            prev = before[len(subject):].strip() if before.startswith(subject) else ""
            burst = f"{subject} suddenly starting to {base or 'move'}"
            if prev:
                verb = "rising from" if _base(prev.split()[0]) in {"sit", "lie", "sleep", "rest", "lay", "crouch"} else "breaking off"
                burst = f"{subject} {verb} {prev}, suddenly starting to {base or 'move'}"
            stages = [Stage(burst, 1.0), Stage(state, 2.5)]
            scene.beats.append(Beat(stages, weight=1.2))
            current_state = state
        else:
            cue = "gait" if base in _LOCOMOTION else None
            scene.beats.append(Beat([Stage(state, 1.0, cue)]))
            current_state = state
        previous_noun = noun
    scene.subject = current_subject
    return scene


# ---------------------------------------------------------------------- timeline to frames
def _stage_at(scene: Scene, t: float) -> tuple[Stage, float]:
    """The stage shown at time t in [0, 1) and the time within that stage, in [0, 1)."""
    total = sum(b.weight for b in scene.beats)
    start = 0.0
    for beat in scene.beats:
        span = beat.weight / total
        if t < start + span or beat is scene.beats[-1]:
            local = min(max((t - start) / span, 0.0), 0.999999)
            stage_total = sum(s.weight for s in beat.stages)
            acc = 0.0
            for stage in beat.stages:
                share = stage.weight / stage_total
                if local < acc + share or stage is beat.stages[-1]:
                    return stage, min(max((local - acc) / share, 0.0), 0.999999)
                acc += share
        start += span
    raise AssertionError("unreachable")  # pragma: no cover


def _camera_text(camera: str | None, t: float) -> str:
    if camera is None or camera == prompts.CAMERA_REMOVE:
        return ""
    if camera == prompts.CAMERA_STATIC:
        return "static camera, steady framing"
    for pattern, framings in _CAMERA_MOVES:
        if pattern.search(camera):
            return framings[min(int(t * len(framings)), len(framings) - 1)]
    return camera


def _compose(segments: list[str], limit: int = CLIP_MAX_TOKENS) -> str:
    """Join the segments; drop the least important (last) ones until it fits CLIP's window."""
    parts = [s.strip(" ,") for s in segments if s and s.strip(" ,")]
    text = ", ".join(parts)
    while len(parts) > 1 and not fits(text, limit):
        parts.pop(-2 if len(parts) > 2 else -1)  # keep the style (last) as long as possible
        text = ", ".join(parts)
    text = truncate_to_limit(text, limit)
    return text[:1].upper() + text[1:]


def write_script(prompt: str, num_frames: int, camera: str | None = None, style: str | None = None) -> list[str]:
    """N self-contained frame prompts for `prompt` (see the module docstring)."""
    if camera == prompts.CAMERA_REMOVE:
        prompt = _CAMERA_TALK.sub("", prompt).strip(" ,") or prompt
    scene = parse_scene(prompt)
    frames = []
    for i in range(num_frames):
        t = (i + 0.5) / num_frames
        stage, local = _stage_at(scene, t)
        cue = stage.cue
        if cue == "gait":
            cue = _GAIT[i % len(_GAIT)]
        shown = stage.text.startswith("an empty")  # the exit's last stage already names the place
        setting = scene.setting if scene.setting and scene.setting not in stage.text and not shown else ""
        main = f"{stage.text} {setting}".strip()
        frames.append(_compose([main, cue or "", _camera_text(camera, t), style or ""]))
    return frames


class OfflineDirector(Director):
    """Deterministic, instant, always available; no cache needed."""

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
        Edited frames cannot be re-derived from the prompt without losing the edits, so each is
        repeated: the story and its timing stay exactly as the person wrote them."""
        if user_prompt and write_script(user_prompt, len(frames), camera, style) == frames:
            doubled = write_script(user_prompt, 2 * len(frames), camera, style)
        else:
            doubled = [f for frame in frames for f in (frame, frame)]
        self.conversation = prompts.Conversation([], user_prompt, 2 * fps, doubled, camera, style)
        return doubled
