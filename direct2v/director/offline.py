"""The built-in writer: a frame script without any model, the fallback when no language model
can be used. Small and honest rather than clever:
- the story's steps come in the prompt's order (offline_grammar.py reads them), frames are
  shared out over the steps, and each step is staged with words that are true of it
  ("beginning to melt", "partly melted", "a caterpillar half turned into a butterfly");
- every frame names its subject and place in full, with the prompt's own words; nothing is
  invented (no scenery, no "gentle breeze");
- where the prompt has no event to stage, the director says so (`notice`) and the frames keep
  the prompt's words while the camera moves in;
- the same request always gives the same script.
"""

from __future__ import annotations

from . import prompts
from .base import Director
from .offline_blend import CAMERA_TALK, PUSH_IN, camera_text, compose, in_between_script, rewrite_frame
from .offline_grammar import (
    CHANGE,
    PREPOSITIONS,
    Clause,
    Entity,
    Reader,
    colour_target,
    ing,
    lemmas,
    participle,
    pieces,
    plural,
    recoloured,
)

GRADUAL = {"melt", "burn", "cover", "fill", "form", "develop", "grow", "fade", "rise", "set", "bloom", "open", "close",
           "freeze", "dry", "spread", "sink", "shrink", "wilt", "build", "clear", "darken", "brighten", "empty",
           "flood", "thaw", "ripen", "gather"}
ARRIVE = {"join", "arrive", "appear", "approach", "come"}
# Verbs of a state: "a cat sleeping on a sofa" from the first frame, never "beginning to sleep".
STATES = {"sleep", "sit", "lie", "stand", "rest", "wait", "hover", "perch", "watch", "graze", "glow", "shine", "wear",
          "hold", "float", "look", "stay", "remain", "live", "hang"}
NO_EVENT = ("No event found in this prompt: every frame keeps its words and the camera moves in slowly. Add what "
            "happens (\"... then ...\") or use a language model to tell a story.")


def _arrival(c: Clause, previous: Clause, last: str) -> list[str]:
    """'another corgi joins' a running corgi: it comes into the picture, then both are in it."""
    old, new = previous.subject, c.subject
    assert old is not None and new is not None
    coming = f"{last}, {new.np} {ing(c.verb)}{' ' + c.rest if c.rest else ''}"
    doing = f"{ing(previous.verb)} {previous.rest}".strip() if previous.verb else ""
    if new.head.lower() == old.head.lower() and not old.plural:
        look = [w for w in old.np.split()[:-1] if w.lower() not in ("a", "an", "the", "another")]
        both = " ".join(["two"] + look + [plural(old.head)])
        return [coming, f"{both} {doing} together".strip()]
    return [coming, f"{old.np} {doing}, {new.np} beside the {old.head}".replace("  ", " ")]


def _stages(c: Clause, before: list[str], previous: Clause | None = None) -> tuple[list[str], float]:
    """The texts one clause moves through, in order, and its share of the frames."""
    if c.subject is None:
        return [c.text], 1.0
    s, v, rest = c.subject.np, c.verb, c.rest
    tail = f" {rest}" if rest else ""
    with_ = f", {c.companion}" if c.companion else ""
    now = f"{s} being {participle(v)}{tail}" if c.passive else f"{s} {ing(v)}{tail}"
    begin = f"{s} beginning to be {participle(v)}{tail}" if c.passive else f"{s} beginning to {v}{tail}"
    words = rest.split()
    # "changes from green to red": the subject as each end, and on the way between.
    if v in CHANGE | {"go", "fade"} and "from" in [w.lower() for w in words] and " to " in f" {rest} ":
        i = [w.lower() for w in words].index("from")
        span = " ".join(words[i + 1:])
        a, b = (x.strip(" ,") for x in span.split(" to ", 1))
        return [_as(c.subject, a), f"{s} beginning to {v}{tail}", f"{now}", _as(c.subject, b)], 2.0
    # "turns into a butterfly": the subject becomes the thing it turns into.
    colour = colour_target(rest)
    if v in CHANGE and words and words[0].lower() in ("into", "to"):
        # "turns into a butterfly" ends as the butterfly; "turns to red" as the subject in red.
        target = recoloured(s, colour) if colour else " ".join(words[1:])
        return [f"{begin}{with_}", f"{s} half {participle(v)}{tail}{with_}", f"{target}{with_}"], 2.0
    if v in GRADUAL and not (v in ("open", "close") and _transitive(c)):
        done = f"{s} {{}} {ing(v)}{tail}" if _transitive(c) else f"{s} {{}} {participle(v)}{tail}"
        stages = [f"{begin}{with_}"] + [done.format(x) + with_ for x in ("partly", "mostly", "fully")]
        if colour:  # "ripens to yellow": no longer the green one once mostly there
            late = f"{recoloured(s, None)} {{}} {participle(v)}{tail}"
            stages[2:] = [late.format(x) + with_ for x in ("mostly", "fully")]
        return stages, 2.0
    if c.weather and before:  # "suddenly it starts to rain": over the scene as it was
        return [f"{before[-1]}, {begin}", f"{before[-1]}, {now}"], 1.0
    if v in ARRIVE and before and previous is not None and previous.subject is not None:
        return _arrival(c, previous, before[-1]), 1.5
    if c.participle or c.sudden or v in STATES:  # going on all the time, or all at once
        return [f"{now}{with_}"], 1.0
    return [f"{begin}{with_}", f"{now}{with_}", f"{now}{with_}"], 1.0  # most of an action is doing it


def _transitive(c: Clause) -> bool:
    first = c.rest.split()[0].lower() if c.rest else ""
    return first in {"a", "an", "the", "some", "his", "her", "their", "its"} or (
        "NOUN" in lemmas(first) and "ADV" not in lemmas(first) and first not in PREPOSITIONS)


def _as(subject: Entity, state: str) -> str:
    """'a traffic light' as 'green' -> 'a green traffic light'; 'a city' as 'night' -> 'a city at night'."""
    if len(state.split()) == 1 and "ADJ" in lemmas(state):
        words = subject.np.split()
        if words[0].lower() in ("a", "an", "the", "some", "two", "three"):
            det = "a" if words[0].lower() == "an" else words[0]
            return " ".join([det, state] + words[1:])
        return f"{state} {subject.np}"
    prep = "in" if state.lower() in ("spring", "summer", "autumn", "fall", "winter") else "at"
    return f"{subject.np} {prep} {state}"


def allocate(weights: list[float], n: int) -> list[int]:
    """Frames per step: one each where there are enough frames, the rest by weight. With fewer
    frames than steps, steps are sampled evenly (first and last kept)."""
    count = len(weights)
    if n < count:
        chosen = [count - 1] if n == 1 else [round(j * (count - 1) / (n - 1)) for j in range(n)]
        return [chosen.count(i) for i in range(count)]
    ideal = [w / sum(weights) * n for w in weights]
    counts = [1] * count
    for _ in range(n - count):
        i = max(range(count), key=lambda j: (ideal[j] - counts[j], -j))
        counts[i] += 1
    return counts


def _spread(stages: list[str], n: int) -> list[str]:
    """n frames over the stages in order; the first and last frames show the first and last."""
    if n == 1:
        return [stages[len(stages) // 2]]
    return [stages[round(k * (len(stages) - 1) / (n - 1))] for k in range(n)]


def read_story(prompt: str) -> list[Clause]:
    reader, clauses = Reader(), []
    for text, link in pieces(prompt):
        clause = reader.read(text, link)
        if link == "as" and clauses and clause.subject is not None:
            clauses[-1].companion = f"{clause.subject.np} {'beginning to ' + clause.verb if clause.onset else ing(clause.verb)}" \
                + (f" {clause.rest}" if clause.rest else "")
            continue
        clauses.append(clause)
    # A place named once holds for the steps that do not name their own ("... on the floor, a dog eats it").
    place = ""
    for c in clauses:
        if c.places:
            place = c.places[-1]
        elif place and c.subject is not None and c.verb in ("leave", "exit") and not c.rest:
            c.rest = place.split(" ", 1)[1]  # "then leaves": the place it is in
        elif place and c.subject is not None and not c.weather and c.verb not in ARRIVE and \
                c.rest.lower().split()[:1] != ["away"] and place not in c.rest:
            c.rest = f"{c.rest} {place}".strip()
    return clauses


def write_script(prompt: str, num_frames: int, camera: str | None = None, style: str | None = None) -> tuple[list[str], bool]:
    """N frame prompts for `prompt`, and whether the prompt had an event to stage."""
    if camera == prompts.CAMERA_REMOVE:
        prompt = CAMERA_TALK.sub("", prompt).strip(" ,") or prompt
    clauses = read_story(prompt)
    staged: list[list[str]] = []
    weights: list[float] = []
    for i, c in enumerate(clauses):
        texts, weight = _stages(c, [x for st in staged for x in st], clauses[i - 1] if i else None)
        staged.append(texts)
        weights.append(weight)
    event = any(len(t) > 1 for t in staged) or len(staged) > 1
    mains: list[str] = []
    for texts, n in zip(staged, allocate(weights, num_frames)):
        if n:
            mains += _spread(texts, n)
    # Where the words alone would repeat a frame, the camera moves in over the whole video: a
    # real change between frames, and one continuous move rather than jumps.
    push_in = camera is None and any(a == b for a, b in zip(mains, mains[1:]))
    frames = []
    for k, main in enumerate(mains):
        cam = camera_text(camera, k / num_frames)
        if push_in:
            cam = PUSH_IN[round(k * (len(PUSH_IN) - 1) / (num_frames - 1))]
        frames.append(compose([main], [cam, style or ""]))
    return frames, event


class OfflineDirector(Director):
    """Deterministic, instant, always available; no cache needed. `notice` says when the prompt
    had no event to stage. Re-directing a row gives the story's own row where the neighbours are
    still the story's, else a frame between the neighbours (offline_blend.rewrite_frame);
    doubling the frame rate of an edited table writes in-between frames."""

    backend = "offline"
    model = None

    def __init__(self, model: str | None = None, api_key: str | None = None, base_url: str | None = None, **_: object):
        super().__init__()  # model/key/url accepted so make_director's call is uniform; unused

    def _direct(self, user_prompt, num_frames, fps, camera, style) -> list[str]:
        frames, event = write_script(user_prompt, num_frames, camera, style)
        if not event:
            self.notice = NO_EVENT  # shown once by the page and the CLI (Director.take_notice)
        self.conversation = prompts.Conversation([], user_prompt, fps, frames, camera, style)
        return frames

    def _double(self, frames, fps, user_prompt, camera, style) -> list[str]:
        """The director's own script is re-timed at 2N from the prompt; an edited table keeps
        every row and gains a frame between each pair (the edits are the story now)."""
        if user_prompt and write_script(user_prompt, len(frames), camera, style)[0] == frames:
            doubled = write_script(user_prompt, 2 * len(frames), camera, style)[0]
        else:
            doubled = in_between_script(frames, style)
        self.conversation = prompts.Conversation([], user_prompt, 2 * fps, doubled, camera, style)
        return doubled

    def _redirect(self, frames, index, fps, user_prompt, camera, style) -> str:
        story = write_script(user_prompt, len(frames), camera, style)[0] if user_prompt else None
        frame = rewrite_frame(frames, index, story, camera, style)
        table = list(frames)
        table[index] = frame
        self.conversation = prompts.Conversation([], user_prompt, fps, table, camera, style)
        return frame
