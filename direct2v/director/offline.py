"""The built-in writer: a frame script without any model, the fallback when no language model
can be used. Small and honest rather than clever:
- the story's steps come in the prompt's order (offline_grammar.py reads them), frames are
  shared out over the steps, and each step is staged with words that are true of it
  ("partly melted", "the lawn half mown", "a dog halfway to its owner": offline_actions.py),
  so every frame shows something the one before did not; a span ("all night", "over many
  years") is staged by time or degree, never repeated (offline_time.py);
- every frame names its subject and place in full, with the prompt's own words; nothing is
  invented (no scenery, no "gentle breeze");
- where the prompt has no event to stage, the director says so (the result's `notice`) and
  the frames keep the prompt's words with small true variations: the living subject's own
  small movements and the motion of what the prompt names (offline_still.py); where nothing
  in it moves by itself, the camera moves in;
- the same request always gives the same script.
"""

from __future__ import annotations

import re
from dataclasses import replace

from . import prompts
from .base import Director
from .quality import split_shot
from .offline_blend import CAMERA_TALK, camera_text, compose, in_between_script, rewrite_frame
from .offline_actions import (
    AFFECT,
    CREATE,
    JUMP,
    VEILS,
    Stages,
    becomes,
    consume,
    fall,
    POSES,
    open_activity,
    still_setting,
    tumble,
    flip,
    fly_thing,
    bursts,
    topple,
    feed,
    drive_in,
    knock_off,
    kindle,
    burst_it,
    appear,
    emerge,
    storm,
    arrive,
    easing,
    take_out,
    place_on,
    incremental,
    jump,
    land,
    lose,
    opened,
    thickening,
    pour,
    PROPEL,
    propel,
    reach,
    read_through,
    rise,
    roam,
    set_or_rise,
    veil,
    where,
)
from .offline_fallback import beats, living, passive_beats, sudden_beats
from .offline_grammar import (
    CHANGE,
    ANIMALS,
    COLOURS,
    DETERMINERS,
    GOING,
    PREPOSITIONS,
    STATIC_PLACES,
    SUBJECT_PRONOUNS,
    WEATHER,
    Clause,
    Entity,
    Reader,
    can_be_noun,
    colour_target,
    entity,
    find_verb,
    ing,
    lemmas,
    participle,
    pieces,
    plural,
    recoloured,
)
from .offline_still import LOOKING, QUIET, bare_subject, interleave, still_frames, subject_moves
from .offline_verbs import DIG, everyday
from .offline_time import AT_TIME, SEASONS, TIMES, take_span, with_marks

GRADUAL = {"melt", "burn", "cover", "fill", "form", "develop", "grow", "fade", "rise", "set", "bloom", "open", "close",
           "freeze", "dry", "spread", "sink", "shrink", "wilt", "clear", "darken", "brighten", "empty",
           "flood", "thaw", "ripen", "gather", "rot", "wither", "cool", "fog", "soak", "rust", "age", "crumble", "decay",
           "erode", "tarnish", "corrode", "wear", "yellow", "overgrow", "ice", "warm", "heat", "swell", "deflate", "sprout",
           "hatch", "germinate", "wilt", "dissolve", "evaporate", "inflate"}
# Processes that start and keep going, stronger rather than finished.
PROCESS = {"boil", "pop", "bubble", "sizzle", "simmer", "flicker", "steam", "smoke", "foam", "flow", "crackle", "whistle",
           "drip", "rain", "snow", "pour", "roar", "rumble", "splash", "swirl", "sparkle", "twinkle", "crash", "pound",
           "ring", "buzz", "flash", "blink", "lap", "ripple", "gush", "trickle", "churn", "sway"}
# Things people and animals do on and on, with no end or product: they grow more lively.
ACTIVITY = {"laugh", "giggle", "cry", "sing", "dance", "play", "bark", "clap", "cheer", "wag", "howl", "chirp", "meow",
            "purr", "splash", "frolic", "romp"}
# Subjects without hands or a mouth: they do not catch, throw, eat or build.
THINGS = {"lightning", "thunder", "wave", "waves", "water", "river", "stream", "tide", "light", "beam", "sun", "moon",
          "storm", "flood", "lava", "sand", "ice", "fire", "flame", "flames", "sunlight", "moonlight", "shadow"}
# Verbs of moving along a way: "runs across a beach" is staged by where on the way.
MOTION = {"run", "walk", "jog", "drive", "ride", "fly", "float", "drift", "swim", "sail", "roll", "slide", "skate",
          "glide", "climb", "crawl", "hop", "skip", "march", "race", "speed", "cycle", "bike", "ski", "surf", "paddle",
          "row", "wander", "stroll", "hike", "dash", "sprint", "travel", "move", "blow", "skateboard", "tumble", "scurry",
          "trot", "gallop", "waddle", "limp", "stride", "amble", "zoom", "rush", "hurry", "chase", "flow", "fall", "sled",
          "carry", "push", "pull", "drag", "wheel", "tow", "lead", "haul", "steer", "pedal"}
# Verbs whose object is the way itself ("crosses a bridge" is across the bridge).
WAY_VERBS = {"cross": "across", "climb": "up", "descend": "down", "ascend": "up", "traverse": "across",
             "scale": "up"}  # "scales a rock wall": up the wall
ARRIVE = {"join", "arrive", "appear", "approach", "come"}
# Verbs whose end is an absence: the last frames show the place without the subject.
GONE = {"disappear", "vanish", "leave", "exit", "depart"}
AWAY = ("away", "off", "out")
# Things that cease to be where they are (partly gone); the rest of what goes away does it by distance.
VANISH = {"disappear", "vanish", "fade", "dissolve", "evaporate", "melt", "dwindle"}
AT_EDGE = ("a little farther off", "farther off", "near the edge of the frame", "at the edge of the frame",
           "at the very edge of the frame")  # "runs into the forest", "out of the room": toward the way out
AFAR = ("a little farther off", "farther off", "smaller, far off", "small in the distance", "tiny in the distance")
# Places that are "empty" once the subject is gone ("An empty station at sunset"); any other
# place is named alone ("Only a puff of smoke", "Only the flower").
EMPTIES = {"room", "house", "station", "platform", "street", "road", "stage", "field", "park", "kitchen", "shop", "store",
           "cafe", "café", "bakery", "office", "classroom", "hall", "building", "garage", "drain", "box", "nest", "cage",
           "bowl", "plate", "chair", "bench", "bed", "sofa", "couch", "table", "sky", "beach", "pool", "yard", "garden",
           "doorway", "hallway", "corridor", "alley", "lot", "track", "runway", "harbor", "harbour", "dock", "pier", "school",
           "church", "library", "theater", "theatre", "cinema", "restaurant", "gym", "barn", "stable", "tent", "bus",
           "elevator", "playground", "porch", "lobby", "stadium", "court", "pool", "shed", "cave"}
# Things that hide what goes into them ("runs into the forest" ends with the forest alone).
COVERS = {"smoke", "fog", "mist", "cloud", "clouds", "darkness", "shadows", "shadow", "forest", "woods", "trees", "crowd",
          "waves", "water", "dust", "snow", "grass", "bushes", "night", "distance", "sea", "ocean", "steam"}
# Verbs of a state: "a cat sleeping on a sofa" from the first frame, never "beginning to sleep".
STATES = {"sleep", "sit", "lie", "stand", "rest", "wait", "hover", "perch", "watch", "graze", "glow", "shine", "wear",
          "hold", "look", "stay", "remain", "live", "hang", "float", "drift", "lean", "kneel"}
# A noun phrase ends before a preposition, but "of" stays inside it ("a puff of smoke").
_NP_END = "|".join(sorted(PREPOSITIONS - {"of"}))
NO_EVENT = ("No event found in this prompt: every frame keeps its words, with small true changes (the subject's own "
            "small movements, the motion of what the prompt names, or else the framing). Add what happens "
            "(\"... then ...\") or use a language model to tell a story.")
NOT_ENGLISH = ("This prompt does not look like English: the image model reads English only and the built-in writer "
               "cannot translate, so every frame keeps your words as written. Write the prompt in English, or use a "
               "language model director (a key for openai or gemini, or --llm-model with a multilingual model), "
               "which writes English frames.")
# Small, true variations for a prompt without an event: a slow step closer, nothing invented.
# A slow, steady push-in: the same angle all through (never a jump to a low angle or the side).
_LEVELS = ["wide shot", "medium wide shot", "medium shot", "medium close-up"]
GENTLE = [f"{level}{x}" for level in _LEVELS for x in ("", ", slightly closer")]
# The same steps, finer, for scripts longer than eight frames (16 frames, a doubled script).
GENTLE_FINE = [f"{level}{x}" for level in _LEVELS for x in ("", ", a touch closer", ", a little closer", ", closer")]


def _arrival(c: Clause, previous: Clause, last: str) -> list[str]:
    """'another corgi joins' a running corgi: it comes into the picture, then both are in it."""
    old, new = previous.subject, c.subject
    assert old is not None and new is not None
    rest = f" {c.rest}" if c.rest else ""
    # the newcomer comes closer frame by frame, then both are in the picture
    coming = [f"{last}, {new.np} {x}" for x in ("far off in the distance", "coming closer", "catching up",
                                                  "almost alongside")] + [f"{last}, {new.np} {ing(c.verb)}{rest}"]
    doing = f"{ing(previous.verb)} {previous.rest}".strip() if previous.verb else ""
    if new.head.lower() == old.head.lower() and not old.plural:
        look = [w for w in old.np.split()[:-1] if w.lower() not in ("a", "an", "the", "another")]
        both = " ".join(["two"] + look + [plural(old.head)])
        return coming + [f"{both} {doing} together".strip(), f"{both} {doing} side by side".strip()]
    return coming + [f"{old.np} {doing}, {new.np} beside the {old.head}".replace("  ", " "),
                     f"{old.np} and {new.np[:1].lower() + new.np[1:]} {doing} together".replace("  ", " ")]


def _action(c: Clause, s: str, v: str, rest: str, passive: bool = False) -> Stages:
    """An action the writer has no staging for (offline_fallback.py): beats that differ in what is
    seen (poses, hands, the distance to a goal), never an aspect ladder ("in the middle of digging")."""
    assert c.subject is not None
    if passive:
        return passive_beats(s, v, rest)
    return sudden_beats(s, c.subject.head, v, rest) if c.sudden else beats(s, c.subject.head, v, rest)


# Ways one goes "down" along, not downhill.
FLAT_WAYS = ("street", "road", "avenue", "boulevard", "alley", "lane", "hallway", "corridor", "aisle", "sidewalk",
             "highway", "runway", "track", "path", "river", "canal", "block", "freeway", "motorway", "pier", "dock")
_PATHS = {"across": ("at the near edge of", "at the far side of"), "down": ("at the top of", "at the bottom of"),
          "up": ("at the bottom of", "at the top of"), "along": ("at the start of", "at the end of")}


def _process(s: str, v: str, tail: str, weather: bool, wind: bool = False, lively: bool = False) -> list[str]:
    """Something that starts and keeps going ("a pot of water boils", "snow starts falling"):
    it begins, then grows in strength; nothing ends it."""
    g = ing(v)
    # "pops up": the way goes after "up" ("in a high chair" is a place, not a particle)
    particle = re.match(r"\s(up|out|down|off|over|in)\b(?!\s+(?:the|a|an|his|her|their|its|my|some)\b)", tail)
    if particle:
        g, tail = f"{g} {particle.group(1)}", tail[particle.end():]
    first = tail.split()[0].lower().strip(",") if tail.strip() else ""
    if re.match(r"\s(?:the|a|an|his|her|their|its|some)\s", tail) or (  # "the wind blows (the) leaves": before the verb
            first and first not in PREPOSITIONS and not first.endswith("ly") and can_be_noun(first)):
        return [f"{s} about to {v}{tail}", f"{s} beginning to {v}{tail}"] + [
            f"{s} {w + ' ' if w else ''}{g}{tail}" for w in ("gently", "", "steadily", "strongly", "fiercely", "wildly")]
    ways = ("a little", "", "more and more", "harder", "very hard", "harder than ever") if lively else (
        "slowly", "", "steadily", "faster", "quickly", "in a steady stream") if v in ("drip", "trickle", "leak") else (
        "gently", "", "steadily", "harder", "strongly", "very strongly") if wind else (
        "lightly", "", "steadily", "harder", "heavily", "very heavily") if weather else (
        "gently", "", "steadily", "harder", "vigorously", "at full strength")
    to = f"{v} {particle.group(1)}" if particle else v
    return [f"{s} about to {to}{tail}", f"{s} beginning to {to}{tail}"] + [
        f"{s} {g}{' ' + w if w else ''}{tail}" for w in ways]


def _path(s: str, v: str, rest: str) -> list[str] | None:
    """Motion along a path ("runs across a beach"): where on the path the subject is."""
    way_verb = v in WAY_VERBS and re.match(r"(?:the|a|an)\s", rest, re.I)
    if way_verb:  # "crosses a bridge": where on the bridge
        rest = f"{WAY_VERBS[v]} {rest}"
    elif v not in MOTION:  # "fireworks light up the sky" is no climb
        return None
    # "rides a bike down a hill": the bike goes along on the way
    m = re.match(r"(?:((?:a|an|the|his|her|their|its)\s+(?:[\w'-]+\s+){0,2}?[\w'-]+)\s+)?(across|down|up|along)\s+"
                 r"((?:the|a|an)\s+.+)$", rest, re.I)
    if not m:
        return None
    obj, prep, way, g = f" {m.group(1)}" if m.group(1) else "", m.group(2).lower(), m.group(3), ing(v)
    start, end = _PATHS[prep]
    if prep == "down" and re.match(r"(?:the|a|an)\s+(?:[\w'-]+\s+){0,2}?(?:%s)\b" % "|".join(FLAT_WAYS), way, re.I):
        start, end = "at the near end of", "at the far end of"  # "down a street" is along it, not downhill
    part = [f"{s} {'' if way_verb else g}{obj} {x} {prep} {way}" for x in (
        "a third of the way", "halfway", "two thirds of the way", "most of the way")]
    say = "" if way_verb else f" {prep}"
    kept = f" {'on' if v in RIDE else 'with'}{obj}" if obj else ""  # the bike is still there at the end
    return [f"{s} {start} {way}, about to {v}{obj}{say}", f"{s} beginning to {v}{obj}{say} {way}",
            f"{s} {g}{obj}{say} {way}", *part, f"{s}{kept} {end} {way}"]


def _with_article(word: str, np_rest: str) -> str:
    """'a' or 'an' before `word`, then the rest of the noun phrase."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word} {np_rest}".strip()


def _gradual(c: Clause, s: str, v: str, tail: str, first: bool) -> list[str]:
    """A change by degrees: the subject as it was (where the prompt says where), then partly to fully."""
    transitive = _transitive(c)
    end = None if colour_target(c.rest) or transitive else re.match(r"(.*?)\s+(?:in)?to\s+(.+)$", tail)
    full = tail
    if end:  # "burns down to nothing": the end is the last frame's, never "slightly burned down to nothing"
        tail = end.group(1)
    still = re.sub(r"^\s\w+ly\b", "", tail)  # "melts slowly": "half melted", not "half melted slowly"
    done = f"{s} {{}} {participle(v)}{still}"
    if transitive:
        done = f"{s} {{}} {ing(v)}{still}"
    degrees = ["slightly", "partly", "half", "mostly", "almost fully", "fully"]
    if c.passive:
        begin = [f"{s} about to be {participle(v)}{tail}", f"{s} beginning to be {participle(v)}{tail}"]
    elif first and not transitive and c.places and not (end and c.places[0].split(" ", 1)[-1] in end.group(2)):
        begin = [f"{s} {c.places[0]}", f"{s} beginning to {v}{tail}"]  # "a candle on a wooden table", before it burns
    else:
        begin = [f"{s} about to {v}{tail}", f"{s} beginning to {v}{tail}"]
    stages = begin + [done.format(x) for x in degrees]
    if end:
        stages[-1] = f"{s} {participle(v)}{full}"
    colour = colour_target(c.rest)
    if colour:  # "ripens to yellow": no longer the green one once mostly there
        late = f"{recoloured(s, None)} {{}} {participle(v)}{tail}"
        stages[-3:] = [late.format(x) for x in degrees[-3:]]
    return stages


def _gone(c: Clause, s: str, v: str, tail: str, final: bool = True) -> list[str] | None:
    """'vanishes in a puff of smoke', 'flies away': going, then the place without the subject."""
    words = [w for w in c.rest.lower().split() if not w.endswith("ly")]  # "sinks slowly into the sea"
    # "flies from a branch into the night"; "throws a stone into the sea", "digs into the snow" stay
    into_cover = "into" in words and words[-1:] and words[-1] in COVERS and v not in set(PROPEL) | set(DIG) and not (
        words[0] in DETERMINERS | {"his", "her", "their", "its", "my"} and v not in MOTION)
    off = words[:1] == ["off"] and v in MOTION - {"fall", "tumble", "slide", "slip", "roll", "drop", "hop", "climb"} and \
        (len(words) == 1 or words[1] in DETERMINERS | PREPOSITIONS)  # "falls off his skateboard" is no exit
    away = words[:1] == ["away"] or v in MOTION and words[2:3] == ["away"] and words[0] in DETERMINERS | {
        "his", "her", "their", "its"}  # "rides her bike away": she leaves with it
    if v not in GONE and not (away or off or words[:2] == ["out", "of"] or into_cover) or \
            v in ("take", "give", "put", "turn", "show", "crash", "bump", "slam") or v in LOOKING:
        return None
    to, g = (f"be {participle(v)}", f"being {participle(v)}") if c.passive else (v, ing(v))
    left = re.match(r"out\s+of\s+((?:(?:the|a|an|his|her|its|their)\s+)?[^,]+)$", c.rest, re.I)
    if left and not final and not c.passive and v in {"jump", "leap", "hop", "climb", "crawl", "scramble", "splash", "get",
                                                      "roll", "step", "swing"}:  # "after jumping out of a pond": the story goes on beside it
        np = left.group(1)
        the = np if re.match(r"(?:the|a|an|his|her|its|their)\s", np, re.I) else f"the {np}"  # "out of bed"
        return [f"{s} in {np}", f"{s} about to {to} out of {np}", f"{s} {g} out of {np}", f"{s} beside {the}"]
    empty = _empty_place(c) if final else None  # the story goes on with the subject: no empty place
    ways = ("partly", "half", "almost") if empty else ("partly", "half", "mostly", "almost", "nearly all")
    steps = [f"{x} gone" for x in ways]
    if v not in VANISH and not c.passive:  # one who leaves is drawn whole, farther off, never "half gone"
        afar = AT_EDGE if words[:1] == ["into"] or words[:2] == ["out", "of"] or into_cover else AFAR
        steps = list(afar[-len(ways):]) if empty else list(afar)
    going = [f"{s} about to {to}{tail}", f"{s} beginning to {to}{tail}", f"{s} {g}{tail}"] + [
        f"{s} {x}, {g}{tail}" for x in steps]
    return going + ([empty, f"{empty}, all quiet"] if empty else [])


def _empty_place(c: Clause) -> str | None:
    """The place a subject left, named without it (an image model draws every noun it reads)."""
    nps = re.findall(r"((?:the|a|an)\s+[^,]+?)(?=\s+(?:%s)\s|$)" % _NP_END, c.rest)
    bare = re.search(r"\b(?:out\s+of|into|from)\s+([a-z]+)$", c.rest, re.I)  # "runs out of school"
    if not nps and bare and bare.group(1).lower() in EMPTIES:
        return _with_article("empty", bare.group(1))
    if not nps and c.places:
        nps = [c.places[-1].split(" ", 1)[1]]
    if not nps:
        if c.verb in ("fly", "float", "drift", "soar"):
            return "An empty sky"
        return None
    np = nps[-1]
    came = re.search(r"\bfrom\s+((?:the|a|an)\s+[\w'-]+)", c.rest)
    if came and np.split()[-1].lower() in ("night", "darkness", "dark", "distance", "dusk"):
        return f"Only {came.group(1)} in the {np.split()[-1].lower()}"  # "flies from a branch into the night"
    det, _, noun = np.partition(" ")
    at = c.rest[c.rest.find(np) + len(np):]
    if c.verb == "melt" and c.rest.lower().startswith("away"):  # "melts away in the sun": what is left of it
        return f"A puddle {c.rest.split(' ', 1)[1]}" if len(c.rest.split()) > 1 else "A puddle"
    if noun.split()[-1].lower() in EMPTIES:
        return f"{_with_article('empty', noun)}{at}"
    return f"Only {np}{at}"


def _stages(c: Clause, before: list[str], previous: Clause | None = None, first: bool = True,
            final: bool = True) -> tuple[list[str], float]:
    """The texts one clause moves through, in order, and its share of the frames. A phrase that
    spans the clip ("all night", "over many years") is staged, never repeated in every frame."""
    if c.subject is None:
        return _timelapse(c.text) or still_setting(c.text) or [c.text], 1.0
    rest, span = take_span(c.rest)
    if span is None:
        return _event(c, before, previous, first, final)
    c = replace(c, rest=rest, places=[p for p in c.places if p in rest])
    texts, weight = _event(c, before, previous, first, final, over_time=True, marked=bool(span.marks))
    return with_marks(texts, span.marks), max(weight, 2.0)


def _on_object(c: Clause, s: str, v: str, rest: str, transitive: bool) -> tuple[list[str] | None, str, str]:
    """(stages of what the subject does to its object, or None; the verb; its words): eating,
    pouring, catching, throwing, building... "runs after a stick" is read as a chase."""
    head = c.subject.head if c.subject else ""
    after = re.match(r"after\s+((?:the|a|an|his|her|their|its|some)\s.+)$", rest, re.I)
    if v in ("run", "race", "dash", "go", "chase", "rush") and after:  # "runs after a stick" is a chase
        v, rest, transitive = "chase", after.group(1), True
    objecty = transitive or re.match(r"(?:up|out|down)\s+(?:the|a|an|his|her|their|its|some)\s", rest, re.I)
    hands = head.lower() not in WEATHER | VEILS | THINGS  # "lightning strikes a tree", "smoke fills the kitchen"
    objecty = hands and (objecty or (v in CREATE and rest.lower().startswith("on ")))  # "writes on a chalkboard"
    if c.passive or not hands:
        return None, v, rest
    done = everyday(s, v, rest, c.subject.person) or (None if not objecty else (  # offline_verbs: dig, fry, toast...
        lose(s, v, rest) or pour(s, v, rest) or consume(s, v, rest) or read_through(s, v, rest) or
        flip(s, v, rest) or fly_thing(s, v, rest) or knock_off(s, v, rest) or drive_in(s, v, rest) or
        take_out(s, v, rest) or place_on(s, v, rest) or kindle(s, v, rest) or burst_it(s, v, rest) or feed(s, v, rest) or
        reach(s, v, rest) or propel(s, v, rest) or opened(s, v, rest) or
        (incremental(s, v, rest) if v in CREATE | AFFECT else None)))
    return done, v, rest


def _event(c: Clause, before: list[str], previous: Clause | None, first: bool, final: bool,
           over_time: bool = False, marked: bool = False) -> tuple[list[str], float]:
    """`_stages` for a clause without a span; over_time: a change told by degrees (its span
    gone); marked: each frame will show its own time, so what goes on all along is held."""
    assert c.subject is not None
    s, v, rest = c.subject.np, c.verb, c.rest
    tail = f" {rest}" if rest else ""
    now = f"{s} being {participle(v)}{tail}" if c.passive else f"{s} {ing(v)}{tail}"
    words = rest.split()
    changed = _changed(c, s, v, rest, now)
    if changed:
        return changed, 2.0
    ends = easing(s, v, rest) if c.subject.head.lower() in ("rain", "snow", "hail", "drizzle", "sleet") else None
    if ends:  # "the rain stops": lighter, then gone
        return ends, 1.0
    if c.weather and before and c.holds is None:  # "suddenly it starts to rain": over the scene as it was
        return [f"{before[-1]}, {s} beginning to {v}", f"{before[-1]}, {now}", f"{before[-1]}, {now} steadily",
                f"{before[-1]}, {_heavier(s, v, now)}"], 1.0
    seen = emerge(s, v, rest) or (appear(s, v, rest) if v not in ("come", "arrive", "join") and not c.subject.person
                                  else None)
    if seen:  # "a rainbow appears": it comes into view
        return seen, 1.5
    if v in ARRIVE and before and previous is not None and previous.subject is not None and c.holds is None:
        return _arrival(c, previous, before[-1]), 1.5
    head, transitive = c.subject.head, _transitive(c)
    up = set_or_rise(s, head, v, rest) or rise(s, head, v, rest) or veil(s, head, v, rest, transitive) or \
        emerge(s, v, rest) or storm(s, head, v, rest) or arrive(s, v, rest)
    if up:
        return up, 2.0
    gone = _gone(c, s, v, tail, final)
    if gone:
        return gone, 2.0
    done, v, rest = _on_object(c, s, v, rest, transitive)
    if done:
        return done, 2.0
    if v in GRADUAL and not (v in ("open", "close", "wear") and transitive):  # "wears a hat" is how one looks
        return _gradual(c, s, v, tail, first), 2.0
    toppled = topple(s, v, rest, c.passive)
    if toppled:
        return toppled, 1.5
    if c.passive and v in CREATE | AFFECT:  # "a pumpkin is carved into a jack-o-lantern": by degrees
        done = f"{s} {{}} {participle(v)}{tail}"
        return [f"{s} about to be {participle(v)}{tail}", f"{s} beginning to be {participle(v)}{tail}"] + [
            done.format(x) for x in ("barely", "partly", "half", "mostly", "almost fully", "fully")], 2.0
    if c.passive:  # "a ball is kicked": about to be, being, having just been
        return _action(c, s, v, rest, passive=True), 1.0
    many = bursts(c.subject, v, rest)
    if many:
        return many, 1.5
    moving = v in MOTION or v in JUMP
    path = tumble(s, v, rest, c.subject.person) or jump(s, v, rest) or fall(s, v, rest) or land(s, v, rest) or \
        where(s, v, rest, moving) or \
        _path(s, v, rest) or (None if c.sudden or c.onset else roam(s, v, rest, moving and v not in STATES))
    if path:
        return path, 1.0
    drifting = v in ("float", "drift") and words[:1] and words[0].lower() in ("up", "down", "away", "off", "into", "toward")
    if v in STATES and not drifting and not c.background and final and not first:  # "... and sits on the porch"
        return _settling(s, v, tail, now), 0.75
    # going on all the time, or the scene a later event happens in; a quiet activity alone ("a girl reads") too
    if (v in STATES and not drifting) or c.background or (v in QUIET and first and final):
        return ([now] if c.background or marked else _with_moves(thickening(now), c, first and final) or [now]), 1.0
    return _doing(c, s, v, rest, first, over_time, marked)


def _doing(c: Clause, s: str, v: str, rest: str, first: bool, over_time: bool, marked: bool) -> tuple[list[str], float]:
    """The rest of `_event`: an activity, a process, a sudden start, a change over time, or an action
    the writer has no staging for (the fallback's beats)."""
    assert c.subject is not None
    head, transitive, words, tail = c.subject.head, _transitive(c), rest.split(), f" {rest}" if rest else ""
    now = f"{s} {ing(v)}{tail}"
    weather, one = head.lower() in WEATHER, s.lower().startswith(("a ", "an ", "one "))  # "a balloon pops" once
    # "a baby laughs": livelier; "dances slowly" keeps its own manner
    lively = v in ACTIVITY and not transitive and not (words and words[0].lower().endswith("ly"))
    once = v == "pop" and (one or words[:1] == ["up"])  # "a balloon pops", "toast pops up": once, not on and on
    watery = v in ("wash", "pound", "beat") and head.lower() in ("wave", "waves", "water", "tide", "sea", "surf", "rain")
    if not (marked or over_time or weather) and _open_beats(c, s, lively, transitive):  # "dances in the rain"
        return _open_beats(c, s, lively, transitive) or [], 1.0
    if (lively or c.onset) and not (weather or marked) and living(head, rest):  # no "harder than ever": beats
        return _action(c, s, v, rest), 1.0
    if c.onset or weather or lively or ((v in PROCESS or watery) and not transitive and not once):
        windy = head.lower() == "wind" or v in ("sway", "rustle", "flutter", "bend", "toss")  # moved by the wind
        return ([now] if marked else _process(s, v, tail, weather, windy, lively)), 1.0
    if c.sudden:  # all at once, then it goes on: away (a verb of moving) or livelier
        g = ing(v)
        if v not in MOTION:  # then visible beats of the doing (offline_fallback), never "harder than ever"
            return _action(c, s, v, rest), 1.0
        more = [f"{s} {g} away{tail}", f"{s} {g} farther away{tail}", f"{s} {g} into the distance{tail}",
                f"{s} far off, {g}{tail}"]
        return [f"{s} suddenly starting to {v}{tail}", f"{s} suddenly {g}{tail}", now] + more, 1.0
    if over_time:  # "rusts over many years": by degrees
        return _gradual(c, s, v, tail, first), 2.0
    return ([now] if marked else _action(c, s, v, rest)), 1.0


# How one is once sat or lain down: the end of "sits down" is no second "sitting down".
SETTLED = {"sit": "seated", "lie": "lying flat", "kneel": "kneeling", "settle": "settled"}


def _heavier(s: str, v: str, now: str) -> str:
    """Weather further on: 'heavy rain falling', 'the fog nearly gone' (never 'heavy the fog lifting')."""
    if v in ("lift", "clear", "stop", "fade", "thin", "ease", "disappear", "melt", "break", "part"):
        return f"{s} nearly gone"
    return f"heavy {now}" if s.split()[0].lower() not in DETERMINERS else f"{now} everywhere"


def _settling(s: str, v: str, tail: str, now: str) -> list[str]:
    """'... and sits on the porch': about to, going down, there ('sits down': never 'sitting down down')."""
    if v not in SETTLED:
        return [f"{s} about to {v}{tail}", f"{s} beginning to {v}{tail}", now]
    if tail.startswith(" down"):  # "sit down in a classroom": then seated there; "sits down to read": reading
        purpose = re.match(r"\s+to\s+(\w+)(.*)$", tail[5:])
        there = f", {ing(purpose.group(1))}{purpose.group(2)}" if purpose and lemmas(purpose.group(1)).get("VERB") \
            else tail[5:]
        return [f"{s} about to {v}{tail}", f"{s} {ing(v)}{tail}", f"{s} {SETTLED[v]}{there}"]
    return [f"{s} about to {v}{tail}", f"{s} {ing(v)} down{tail}", now]
SEEDS = {"seed", "seeds", "acorn", "acorns", "bulb", "bulbs", "bean", "beans", "pip", "pips", "pit", "kernel"}


def _grown_into(s: str, what: str) -> list[str]:
    """'a seed grows into a sunflower': the subject becomes what it grows into, young to full-grown
    (never 'a seed mostly grown into a sunflower')."""
    words = what.split()
    kind = [w for w in words[1:] if not ("ADJ" in lemmas(w.lower()) and "NOUN" not in lemmas(w.lower()))] or words[-1:]
    head = re.sub(r"[^\w' -]", "", " ".join(kind))  # "a tall oak tree": a young oak tree
    sprout = s.split()[-1].lower() in SEEDS
    young = [f"A tiny sprout where {s[:1].lower() + s[1:]} was planted", f"A small {kind[0]} seedling"] if sprout else \
        [f"{s} beginning to grow", f"{s} growing bigger"]
    return [s, f"{s} about to {'sprout' if sprout else 'grow'}"] + young + [
        _with_article("young", head), _with_article("half-grown", head), _with_article("nearly full-grown", head), what]


def _open_beats(c: Clause, s: str, lively: bool, transitive: bool) -> list[str] | None:
    """Drawable beats of an activity with no end (offline_actions.open_activity), or None."""
    v = c.verb
    if c.onset or c.sudden or not (v in set(POSES) | MOTION | PROCESS | STATES | ACTIVITY - {"fall"} or v == "shake"):
        return None
    if not (lively or not transitive or v == "shake" or v not in POSES):
        return None
    return open_activity(s, v, c.rest)


def _changed(c: Clause, s: str, v: str, rest: str, now: str) -> list[str] | None:
    """'changes from green to red', 'turns into a butterfly', 'the roofs turn white'."""
    words, tail = rest.split(), f" {rest}" if rest else ""
    grown = re.match(r"from\s+((?:a|an|the)\s+[\w' -]+?)\s+(?:in)?to\s+((?:a|an|the)\s+[\w' -]+)$", rest, re.I)
    if v in CHANGE and grown:  # "grows from a sapling into a tall oak": one thing becoming another, by degrees
        a, b, done = grown.group(1), grown.group(2), participle(v)
        return [f"{s} as {a}", f"{s} about to {v}", f"{s} beginning to {v}"] + [
            f"{s} {x} {done}" for x in ("slightly", "partly", "half", "mostly")] + [f"{s} {done} into {b}"]
    if v in CHANGE | {"go", "fade"} and "from" in [w.lower() for w in words] and " to " in f" {rest} ":
        # the subject as each end, and on the way between
        i = [w.lower() for w in words].index("from")
        a, b = (x.strip(" ,") for x in " ".join(words[i + 1:]).split(" to ", 1))
        return [_as(c.subject, a), f"{s} about to {v}{tail}", f"{s} beginning to {v}{tail}", now,
                f"{s} half {a} and half {b}", f"{s} mostly {b}", f"{s} almost fully {b}", _as(c.subject, b)]
    colour = colour_target(rest)
    if v == "grow" and words[:1] == ["into"] and len(words) > 1 and not colour:
        return _grown_into(s, " ".join(words[1:]))
    if v in CHANGE and words and words[0].lower() in ("into", "to"):
        # "turns into a butterfly" ends as the butterfly; "turns to red" as the subject in red.
        target = recoloured(s, colour) if colour else " ".join(words[1:])
        return [f"{s} about to {v}{tail}", f"{s} beginning to {v}{tail}"] + [
            f"{s} {x} {participle(v)}{tail}" for x in ("slightly", "partly", "half", "mostly", "almost fully")] + [target]
    return becomes(s, v, rest)


def _timelapse(text: str) -> list[str] | None:
    """'a city skyline from dusk to night': the scene at each time between, in order."""
    m = re.match(r"(.+?)\s+from\s+([\w ]+?)\s+(?:to|until|till)\s+([\w ]+)$", text, re.I)
    if not m:
        return None
    scene, a, b = m.group(1), m.group(2).lower(), m.group(3).lower()
    for order in (TIMES, SEASONS):
        if a in order and b in order:
            i, j = order.index(a), order.index(b)
            steps = order[i:j + 1] if i <= j else order[i:] + order[:j + 1]
            at = [f"in {t}" if order is SEASONS else AT_TIME.get(t, f"at {t}") for t in steps]
            out = [f"{scene} {at[0]}", f"{scene} {at[0]}, the light starting to change"]
            for k, t in enumerate(at[:-1]):
                nxt = steps[k + 1]
                out += [f"{scene} {t}, turning to {nxt}", f"{scene} {t}, almost {nxt}", f"{scene} {at[k + 1]}"]
            return out
    return None


def _transitive(c: Clause) -> bool:
    first = c.rest.split()[0].lower() if c.rest else ""
    return first in {"a", "an", "the", "some", "his", "her", "their", "its"} or (
        "NOUN" in lemmas(first) and "ADV" not in lemmas(first) and first not in PREPOSITIONS)


def _as(subject: Entity, state: str) -> str:
    """'a traffic light' as 'green' -> 'a green traffic light'; 'a city' as 'night' -> 'a city at night'."""
    if len(state.split()) == 1 and ("ADJ" in lemmas(state) or state.lower() in COLOURS):
        words = subject.np.split()
        if words[0].lower() in ("a", "an", "the", "some", "two", "three"):
            det = words[0] if words[0].lower() not in ("a", "an") else ("an" if state[0] in "aeiou" else "a")
            return " ".join([det, state] + words[1:])
        return f"{state} {subject.np}"
    prep = "in" if state.lower() in SEASONS else "at"
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
    """n frames over the stages in order; the first and last frames show the first and last
    (with `Stages.ranks`, the n most telling ones, in order)."""
    ranks = getattr(stages, "ranks", None)
    if ranks and n < len(stages):
        return [x for x, r in zip(stages, ranks) if r < n]
    if n == 1:
        return [stages[len(stages) // 2]]
    return [stages[round(k * (len(stages) - 1) / (n - 1))] for k in range(n)]
    # More frames than stages (16 frames, a doubled script): a repeated stage becomes a frame on
    # the way to the next one ("..., about to be half mowed"), from the stages' own words.
    for k in range(1, n):
        if out[k] == out[k - 1] and stages.index(out[k]) + 1 < len(stages):
            out[k] = between(out[k], stages[stages.index(out[k]) + 1], True)
        elif out[k] == out[k - 1]:
            out[k] = between(stages[-2], out[k], False)
    return out


def _companion(c: Clause) -> list[str]:
    """What goes on at the same time ("while clouds gather"), as phrases that move on too."""
    s, v = c.subject.np if c.subject else "", c.verb
    tail = f" {c.rest}" if c.rest else ""
    if c.subject is None or not v:
        return [c.text]
    sky = set_or_rise(s, c.subject.head, v, c.rest)  # "as the sun sets": against the horizon
    if sky:
        return sky
    if v in GRADUAL and not _transitive(c):
        return _gradual(c, s, v, tail, False)
    if v in CHANGE and c.rest.split()[:1] in (["to"], ["into"], ["from"]):  # "as the seasons change to spring"
        return _stages(c, [])[0]
    if v in STATES or c.participle:
        return [f"{s} {ing(v)}{tail}"]
    return becomes(s, v, c.rest) or [f"{s} beginning to {v}{tail}", f"{s} {ing(v)}{tail}"]


def _after_comma(text: str, c: Clause) -> str:
    """A step told after what goes on through it: "a mouse eating cheese, a little full" (its own
    subject once, when the two share it), else "..., the roofs half white"."""
    assert c.holds is not None and c.subject is not None
    np = c.subject.np
    if c.holds.subject is c.subject and text.startswith(np + " "):
        return text[len(np) + 1:]
    return text[:1].lower() + text[1:] if text.startswith(np) and np.split()[0] in ("A", "An", "The") else text


UNDO = {"wash", "knock", "blow", "sweep", "destroy", "crush", "flatten", "wreck", "smash", "break", "topple", "eat",
        "carry", "melt", "pop", "tear", "erase"}


def _undone(c: Clause) -> str:
    """'..., a wave washing the sandcastle away': the one who made what is undone, watching (not making)."""
    h = c.holds
    if h is None or h.subject is None or c.verb not in UNDO | GONE or not h.rest:
        return ""
    made = re.match(r"(?:(?:a|an|the|his|her|their|its)\s+)?((?:[\w'-]+\s+){0,2}?[\w'-]+)\b", h.rest)
    heads = [made.group(1).split()[-1].lower()] if made else []
    heads += [x.lower() for x in re.findall(r"\binto\s+(?:a|an)\s+(?:[\w'-]+\s+)*?([\w'-]+)$", h.rest)]  # into a tower
    if not any(x in c.rest.lower().split() for x in heads):
        return ""
    return f"{h.subject.np} watching, "


def _going_on(c: Clause) -> str:
    """'snow falls on a quiet village' as it goes on: 'snow falling on a quiet village'."""
    if c.subject is None:
        return c.text
    rest = take_span(c.rest)[0]
    return f"{c.subject.np} {ing(c.verb)}{' ' + rest if rest else ''}"


def _lasting(c: Clause) -> bool:
    """Weather or something in the air (rain, fog, smoke): it stays over the scene after it came."""
    return c.subject is not None and c.subject.head.lower() in WEATHER | VEILS and c.verb not in ("stop", "clear", "lift") \
        and c.subject.head.lower() not in ("night", "dusk", "dawn", "evening", "morning", "day", "sunset", "sunrise")


RIDE = {"ride", "cycle", "pedal", "skate", "skateboard", "scooter", "sled", "ski", "surf"}
_TIP = {"fall", "tumble", "slip", "crash", "topple", "wipe"}


def _keep_ridden(clauses: list[Clause]) -> None:
    """'rides his bike down the street, falls, and gets back up': the fall is off the bike (beside it,
    not from a height) and the bike stays in the later steps of the same rider."""
    ridden = None
    for c in clauses:
        if c.subject is None:
            continue
        m = re.match(r"((?:a|an|the|his|her|their|its)\s+(?:[\w'-]+\s+){0,2}?[\w'-]+)(?=\s+(?:%s)\b|$)"
                     % "|".join(sorted(PREPOSITIONS)), c.rest, re.I) or \
            re.search(r"\bon\s+((?:a|an|his|her|their)\s+[\w'-]+)$", c.rest, re.I)  # "skates down a ramp on a board"
        if c.verb in RIDE and m:
            ridden = (c.subject, m.group(1))
        elif ridden and c.subject is ridden[0] and c.verb in _TIP and not re.match(r"(?:off|from)\b", c.rest, re.I):
            c.rest = f"off {ridden[1]}"
            c.places = []
        elif ridden and c.subject is ridden[0] and ridden[1] not in c.rest:
            c.rest = f"{c.rest} beside {ridden[1]}".strip()
            c.places = [f"beside {ridden[1]}"]
        elif ridden and c.subject is not ridden[0]:
            ridden = None


CONTAINERS = {"pan", "pot", "bowl", "oven", "cup", "glass", "mug", "jar", "box", "bag", "basket", "bucket", "sink", "vase",
              "tray", "skillet", "wok", "plate", "kettle", "teapot", "bottle", "can", "dish", "oven", "toaster", "microwave",
              "fridge", "drawer"}
# Places that hold a fire: "in the fireplace" is where the fire is, not where one sits; "by the fireplace" is a place.
HEARTHS = {"fireplace", "stove", "grill", "pit", "hearth", "firepit", "stove"}
_PARTICLES = {"off", "out", "aboard", "in", "on", "down", "up", "inside"}
_STOPS = {"pull", "stop", "land", "dock", "park", "halt", "reach", "enter", "board"}
CARRY = {"make", "pour", "brew", "take", "grab", "pick", "buy", "get", "fetch", "fill", "bring"}


def _keep_vehicle_and_carried(clauses: list[Clause]) -> None:
    """Later steps keep the things of the one before: 'a train pulls into the station and passengers
    step off' is off the train at the station; 'makes a cup of tea and sits by the window' keeps the cup."""
    carried = ""
    for prev, c in zip(clauses, clauses[1:]):
        if prev.subject is None or c.subject is None:
            continue
        if c.subject is not prev.subject and not prev.subject.person and c.rest.lower() in _PARTICLES and \
                prev.verb in MOTION | ARRIVE | _STOPS:  # off the train that came; "a mouse peeks out" is no boarding
            the = re.sub(r"^(?:a|an)\s", "the ", prev.subject.np, flags=re.I)
            c.rest = f"{c.rest} {the[:1].lower() + the[1:]}"
            c.places = c.places or [p.replace("in the", "at the", 1) for p in prev.places[-1:]]
            c.rest += f" {c.places[-1]}" if c.places else ""
            continue
        made = re.match(r"((?:a|an|the|his|her|their)\s+(?:[\w'-]+\s+){0,3}?[\w'-]+)(?=\s+(?:%s)\b|$)"
                        % _NP_END, prev.rest, re.I)
        if c.subject is not prev.subject:
            carried = ""
        elif prev.verb in CARRY and made:
            carried = re.sub(r"^(?:a|an)\s", "the ", made.group(1), flags=re.I)
        if carried and carried.split()[-1] not in c.rest and c.verb in STATES | GOING | {"read", "drink", "sip", "watch"}:
            c.rest = f"{c.rest} with {carried}".strip()


def read_story(prompt: str) -> list[Clause]:
    reader, clauses = Reader(), []
    for text, link in pieces(prompt):
        clause = reader.read(text, link)
        if link == "as" and clauses and clause.subject is not None:
            clauses[-1].companion = clause
            continue
        if link == "until" and clauses and clauses[-1].subject is not None:
            clause.holds = clauses[-1]
        clauses.append(clause)
    _keep_ridden(clauses)
    _keep_vehicle_and_carried(clauses)
    # A place named once holds for the steps that do not name their own ("... on the floor, a dog eats it"),
    # and a scene's place named late holds for its first steps ("a cat stretches and yawns on a windowsill").
    where = next((c for c in clauses if any(p in c.rest for p in c.places)), None)
    named = next((p for p in where.places if p in where.rest), "") if where else ""
    if re.search(r"\b(?:puff|cloud|flash|burst|swirl|shower|blaze)\s+of\b|\b(?:%s)$" % "|".join(CONTAINERS), named):
        named = ""  # "vanishes in a puff of smoke": how it ends, not where the story happens
    for c in clauses:
        if c.places or not named:
            break
        if c.subject is where.subject and not c.weather and c.holds is None and c.verb not in ARRIVE and \
                not re.search(r"\b(?:%s)\b" % "|".join(sorted(PREPOSITIONS - {"of", "with", "for"})), c.rest, re.I):
            c.rest = f"{c.rest} {named}".strip()
    place = ""
    for c in clauses:
        if c.places:  # "fries them in a pan": a pan holds the onions, it is not where the story goes on
            head = c.places[-1].split()[-1].lower()
            place = "" if head in CONTAINERS or (head in HEARTHS and c.places[-1].startswith("in ")) else c.places[-1]
        elif place and c.subject is not None and c.verb in ("leave", "exit") and not c.rest:
            c.rest = place.split(" ", 1)[1]  # "then leaves": the place it is in
        elif place and c.subject is not None and not c.weather and c.verb not in ARRIVE and c.holds is None and \
                c.rest.lower().split()[:1] not in (["away"], ["off"], ["out"], ["outside"], ["inside"], ["home"], ["indoors"]) and \
                not (c.verb == "go" and c.rest.lower().startswith("for ")) and place.split()[-1] not in c.rest.split():
            c.rest = f"{c.rest} {place}".strip()
    return clauses


def looks_english(prompt: str) -> bool:
    """Whether most words of `prompt` are in lemminflect's English lexicon (or the grammar's own
    word lists); a prompt in another language or script is not."""
    words = re.findall(r"[^\W\d_]+", prompt.lower())
    if not words:
        return True
    known = [w for w in words if w.isascii() and (lemmas(w) or w in PREPOSITIONS or w in DETERMINERS or
                                                  w in SUBJECT_PRONOUNS or w in {"and", "or", "while", "as", "then"})]
    return len(known) >= 0.6 * len(words)


_DEGREE = re.compile(r"\b(?:slightly|partly|half|mostly|fully|gone)\b")


def _goes_on_from(texts: list[str], c: Clause, before: list[str]) -> list[str]:
    """'a seed sprouts and grows into a sunflower', 'melts and disappears': a change that goes on
    from where the subject's last change ended starts there (no 'about to' after 'fully sprouted')."""
    if not before or not _DEGREE.search(before[-1]) or c.subject is None:
        return texts
    kept = [t for t in texts if not re.search(r"\b(?:about to|beginning to)\b", t) and t != c.subject.np]
    return kept if 2 <= len(kept) < len(texts) else texts  # nothing dropped: the stages keep their ranks


def _main_frames(prompt: str, num_frames: int) -> tuple[list[str], list[str], bool]:
    """(the story's text per frame, what goes on at the same time per frame, whether there was an event)."""
    clauses = [Clause(None, text=prompt)] if _scene_list(prompt) else read_story(prompt)
    if len(clauses) == 1 and _compound_misread(prompt, clauses[0]):  # "palm trees on a tropical beach"
        clauses = [Clause(None, text=prompt)]
    if not clauses:  # punctuation only ("!!!"): nothing to read, the words as written
        return [prompt] * num_frames, [""] * num_frames, False
    state = _worded_as_state(prompt, clauses[0]) if len(clauses) == 1 else None
    if state:  # "a car parked on a road", "a cup of tea steaming on a desk": a still scene, as written
        lit = still_setting(state)
        mains = _spread(lit, num_frames) if lit else [state] * num_frames
        return _still(clauses[0], mains, prompt, num_frames), [""] * num_frames, False
    for c, nxt in zip(clauses, clauses[1:]):
        # "a corgi is running, and another corgi joins": the running is the scene the event happens in
        c.background = c.participle and (nxt.sudden or nxt.weather or nxt.verb in ARRIVE)
    staged: list[list[str]] = []
    weights: list[float] = []
    for i, c in enumerate(clauses):
        texts, weight = _stages(c, [x for st in staged for x in st], clauses[i - 1] if i else None, i == 0,
                                i == len(clauses) - 1)
        texts = _goes_on_from(texts, c, staged[-1] if i and clauses[i - 1].subject is c.subject else [])
        if i + 1 < len(clauses) and clauses[i + 1].subject is c.subject and clauses[i + 1].verb in GONE:
            kept = [t for t in texts if " gone" not in t]  # "fades away and disappears": gone once, at the end
            texts, weight = (kept, weight * len(kept) / len(texts)) if kept else (texts, weight)
        if len(texts) == 1 and len(clauses) > 1 and (c.background or c.verb in STATES):
            weight = 0.01  # the scene a later event happens in: one frame, the event holds it after
        if i + 1 < len(clauses) and clauses[i + 1].holds is c:
            # it goes on through the next step: no end of its own (a state: one frame, the next holds it)
            texts, weight = texts[: max(1, len(texts) // 2)], (1.0 if len(texts) > 2 else 0.01)
        staged.append(texts)
        weights.append(weight)
    mains: list[str] = []
    withs: list[str] = []
    ambient = ""  # weather or a veil once it came stays over the scene ("it starts to rain, a girl ...")
    for c, texts, n in zip(clauses, staged, allocate(weights, num_frames)):
        if n:
            held = f"{_going_on(c.holds)}, " if c.holds is not None else ""  # "snow falling, the roofs half white"
            ruined = _undone(c)  # "builds a sandcastle until a wave washes it away": no building once it goes
            mains += [(ruined if ruined and k else held) + _after_comma(t, c)
                      for k, t in enumerate(_spread(texts, n))] if held else _spread(texts, n)
            withs += _spread(_companion(c.companion), n) if c.companion else [ambient if not held else ""] * n
        if _lasting(c):
            ambient = _going_on(c)
            ambient = ambient[:1].lower() + ambient[1:] if lemmas(ambient.split()[0]) else ambient  # "clouds parting"
    # a still scene's growing light is a true variation, not an event: the notice still says so
    event = any(len(t) > 1 and not (c.subject is None and t == still_setting(c.text)) for c, t in zip(clauses, staged)) \
        or len(staged) > 1 or any(withs)
    if not event and len(clauses) == 1:  # nothing happens: small true variations where the prompt has any
        mains = _still(clauses[0], mains, prompt, num_frames)
    elif len(clauses) == 1 and clauses[0].companion and len(set(mains)) == 1 and \
            any(a == b for a, b in zip(withs, withs[1:])):  # "a cat sleeps on the windowsill while it rains outside"
        mains = _still(clauses[0], mains, prompt, num_frames, moving=True)
    return mains, withs, event


def _sentence_case(prompt: str) -> str:
    """'A Girl Rides Her Bike Down The Street' (or all capitals) -> 'A girl rides her bike down the
    street': a title-cased prompt's capitals are no names, and every frame would repeat them mid-sentence."""
    words = [w for w in prompt.split() if w[:1].isalpha()]
    if len(words) < 4 or not (all(w[0].isupper() for w in words) or prompt.isupper()):
        return prompt
    return prompt[:1] + prompt[1:].lower()


def _scene_list(prompt: str) -> bool:
    """Whether `prompt` is one scene told as a list ('cozy cabin interior, fireplace, snow outside the
    window', 'a cute corgi puppy, studio lighting'): a verbless first piece, then pieces that are
    no clause of their own (no verb, or a few words without an article)."""
    parts = [p.split() for p in prompt.split(",") if p.strip()]
    if len(parts) < 2 or find_verb(parts[0], False) is not None:
        return False
    return all((find_verb(p, False) is None or (len(p) <= 3 and not set(w.lower() for w in p) & DETERMINERS)) and
               not _told(p) for p in parts[1:])


# Plurals that name things in a scene far more often than they are a verb ("palm trees", "cherry
# blossoms", "street lights", "the northern lights"): after a bare noun they end the noun phrase.
SCENE_PLURALS = {"trees", "blossoms", "lights", "flowers", "lanterns", "candles", "houses", "buildings", "mountains",
                 "hills", "clouds", "stars", "boats", "lamps", "bells", "roses", "fields", "rocks", "stones", "shells",
                 "petals", "branches", "windows", "shadows", "fountains", "towers", "rooftops", "roofs", "peaks",
                 "cliffs", "dunes", "bushes", "vines", "pines", "palms", "leaves", "flags", "fences", "walls", "balloons", "kites",
                 "ships", "cars", "bikes", "birds", "lilies", "pads", "sails", "flakes"}


def _compound_misread(prompt: str, c: Clause) -> bool:
    """Whether the one clause's verb is the plural ending a noun phrase ('palm trees on a tropical
    beach' read as 'palm' doing 'tree'): a bare, lifeless subject or a lone adjective before it, then a place."""
    if c.subject is None or c.passive or c.participle:
        return False
    m = re.search(r"\b%s\s+([\w'-]+)" % re.escape(c.subject.np), prompt, re.I)
    word, words = (m.group(1).lower() if m else ""), c.subject.np.lower().split()
    first = c.rest.split()[0].lower() if c.rest else ""
    head = c.subject.head.lower()
    bare = words[0] not in DETERMINERS and not c.subject.person and head not in ANIMALS  # "rain clouds", "snow flakes"
    adjective = not lemmas(head).get("NOUN")  # "the northern": no subject on its own
    return word in SCENE_PLURALS and (bare or adjective) and (not first or first in PREPOSITIONS - _TURNS)


_TURNS = {"up", "down", "out", "off", "away"}  # "city lights up at night" is lighting up


def _told(words: list[str]) -> bool:
    """'plays soccer', 'dances in the rain', 'running': a piece that goes on with a verb of the subject before."""
    first, nxt = words[0].lower(), (words[1].lower() if len(words) > 1 else "")
    lemma = (lemmas(first).get("VERB") or ("",))[0]
    return bool(lemma) and first != lemma and (first.endswith("s") and not nxt.endswith("ing") or first.endswith("ing"))


# Processes that, worded as a participle in a scene, only go on ("a cup of tea steaming on a desk").
AMBIENT = {"steam", "flicker", "glow", "shimmer", "sparkle", "twinkle", "ripple", "sway", "smoke", "crackle", "glisten",
           "gleam", "rustle", "flutter"}
# Light and veils that only go on where they are ("steam rising from a hot bowl of soup", "sunlight
# streaming through the forest"): a scene, not a veil coming on by degrees.
LIGHTS = {"sunlight", "moonlight", "light", "sunbeams", "sunbeam", "rays", "lamplight", "candlelight"}
HANGING = {"rise", "drift", "curl", "hang", "swirl", "stream", "filter", "pour", "fall", "shine", "spill"}
# What one has on or in hand: "a cat wearing sunglasses" is how it looks, not a change by degrees.
WORN = {"wear", "hold"}
# Ways and waters that lie across the land: "a stream running through a forest" goes nowhere.
LANDSCAPE = {"river", "stream", "creek", "brook", "canal", "road", "path", "trail", "lane", "track", "railway",
             "highway", "fence", "wall", "bridge", "hedge"}
LIES = {"run", "wind", "flow", "meander", "stretch", "lead", "cut", "curve", "snake", "span", "cross", "twist", "weave"}


def _worded_as_state(prompt: str, c: Clause) -> str | None:
    """The scene's words where its one clause is worded as a state, not an event: a past participle
    with no object ('a car parked on a country road', 'a mountain range covered in snow', 'an owl
    perched on a branch') or an ambient process going on ('a cup of hot tea steaming on a desk')."""
    if c.subject is None or c.holds or c.companion or c.onset or c.sudden or c.passive or c.weather:
        return None
    tail = f" {c.rest}" if c.rest else ""
    head = c.subject.head.lower()
    if c.participle and (c.verb in AMBIENT | WORN or head in LIGHTS | VEILS and c.verb in HANGING) or \
            head in LANDSCAPE and c.verb in LIES:  # "steam rising from a bowl of soup", "sunlight streaming in"
        return f"{c.subject.np} {ing(c.verb)}{tail}"
    m = re.search(r"\b%s\s+([\w'-]+)" % re.escape(c.subject.np), prompt, re.I)
    word, first = (m.group(1).lower() if m else ""), (c.rest.split()[0].lower() if c.rest else "")
    if word == participle(c.verb) and word != c.verb and word.endswith(("ed", "en", "t")) and \
            first in STATIC_PLACES | {"with", "among", "against", "up", "out", "together"} and \
            not re.search(r"\baway\b", c.rest):  # "two cats curled up together on a blanket"
        return f"{c.subject.np} {word}{tail}"
    return None


def _with_moves(texts: list[str] | None, c: Clause, alone: bool) -> list[str] | None:
    """'a woman waits at a bus stop in the rain' as the rain comes on: she moves a little too
    (offline_still.subject_moves), so the frames differ in more than the rain's adjective."""
    if not texts or not alone or c.subject is None:
        return texts
    head = re.split(r"\s+(?:in|with|wearing|of)\s+", c.subject.np)[0].split()[-1]
    moves = subject_moves(head, c.subject.person, c.subject.plural, c.verb, c.rest, set(re.findall(r"[a-z]+", c.rest)))
    if not moves:
        return texts
    if not re.search(r"\b(?:rain|drizzle)\b", texts[0]):
        return None  # snow or fog the subject is in need not be falling or coming: it stays, the subject moves
    return [f"{t}, {m[0]}" for t, m in zip(texts, interleave([moves], len(texts)))]


def _still(c: Clause, mains: list[str], prompt: str, n: int, moving: bool = False) -> list[str]:
    """A scene without an event: its subject's own small movements and the motion of what it names
    (offline_still.still_frames: 'a red fox, sniffing the air', '..., the mist drifting slowly');
    where its light already steps ('a sleepy owl in a tree at dusk') or something goes on beside it
    (`moving`: 'a cat sleeps on the windowsill while it rains outside'), the subject moves as well."""
    if c.subject is None:
        head, many, state = bare_subject(c.text)
        person, rest = False, "" if state else c.text  # "a man with a beard looking at the camera": looking
    else:  # "a woman in a red dress": the woman; "a girl with headphones" is one girl
        np = re.split(r"\s+(?:in|with|wearing|of)\s+", c.subject.np)[0]
        head, person, state, rest = np.split()[-1], c.subject.person, c.verb, c.rest
        many = c.subject.plural if head == c.subject.head else entity(np).plural
    if len(set(mains)) == 1 and not moving:
        return still_frames(mains[0], prompt, n, head, person, many, state, rest) or mains
    moves = subject_moves(head, person, many, state, rest, set(re.findall(r"[a-z]+", prompt.lower())))
    return [f"{m}, {b[0]}" for m, b in zip(mains, interleave([moves], n))] if moves else mains


def write_script(prompt: str, num_frames: int, camera: str | None = None, style: str | None = None) -> tuple[list[str], bool]:
    """N frame prompts for `prompt`, and whether the prompt had an event to stage."""
    if camera == prompts.CAMERA_REMOVE:
        prompt = CAMERA_TALK.sub("", prompt).strip(" ,") or prompt
    prompt, shot = split_shot(_sentence_case(prompt))
    if shot:  # "a drone shot of a waterfall": the story is the waterfall, the shot goes in every frame
        style = ", ".join(x for x in (shot.lower(), style) if x)
    if looks_english(prompt):
        mains, withs, event = _main_frames(prompt, num_frames)
    else:
        mains, withs, event = [prompt] * num_frames, [""] * num_frames, False
    # Where the words alone would repeat a frame (no event, or more frames than the story has
    # steps), the framing changes a little: a real change, never a made-up detail. No camera
    # move otherwise: the story is the change.
    gentle = camera is None and any(a == b and x == y for a, b, x, y in zip(mains, mains[1:], withs, withs[1:]))
    frames = []
    for k, (main, also) in enumerate(zip(mains, withs)):
        cam = camera_text(camera, k / num_frames)
        if gentle:
            steps = GENTLE if num_frames <= len(GENTLE) else GENTLE_FINE
            cam = steps[round(k * (len(steps) - 1) / max(1, num_frames - 1))]
        frames.append(compose([main, also], [cam, style or ""]))
    return frames, event


class OfflineDirector(Director):
    """Deterministic, instant, always available; no cache needed. The result's `notice` says
    when the prompt had no event to stage (or is not in English). Re-directing a row gives the story's own row where the neighbours are
    still the story's, else a frame between the neighbours (offline_blend.rewrite_frame);
    doubling the frame rate of an edited table writes in-between frames."""

    backend = "offline"
    model = None

    def __init__(self, model: str | None = None, api_key: str | None = None, base_url: str | None = None, **_: object):
        super().__init__()  # model/key/url accepted so make_director's call is uniform; unused

    def author(self) -> str:
        return "the built-in writer (rule-based, no language model)"

    def _direct(self, user_prompt, num_frames, fps, camera, style) -> list[str]:
        frames, event = write_script(user_prompt, num_frames, camera, style)
        if self._run is not None and not looks_english(user_prompt):
            self._run.notice = NOT_ENGLISH
        elif self._run is not None and not event:
            self._run.notice = NO_EVENT  # the result's notice: the page and the CLI show it
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
