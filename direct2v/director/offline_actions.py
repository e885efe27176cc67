"""How the built-in writer stages one event so that every frame shows something new: an action
progresses through what it does to its object (the lawn half mowed, the apple half eaten),
through where the subject is (far from the gate, close to it, through it) or how high it is
(just off the ground, high in the sky), and a state through degrees (thin fog over the hills,
the hills hidden under thick fog). Each builder returns the texts in story order, or None when
the words do not fit it; offline.py picks the first that fits.
"""

from __future__ import annotations

import re

from lemminflect import getLemma

from .offline_grammar import COLOURS, FEELINGS, PEOPLE, PREPOSITIONS, ing, is_plural_noun, lemmas, participle

_NP_END = "|".join(sorted((PREPOSITIONS - {"of"}) | {"while", "as", "when", "together", "alone", "again", r"\w+ly"}))
_DET = r"(?:a|an|the|some|his|her|their|its|my|your|our|two|three|several)"


class Stages(list):
    """Texts in story order; `ranks` (optional) says which to keep first when there are fewer
    frames than texts (an action keeps "about to", "doing" and "done" before the steps between)."""

    ranks: list[int] | None = None


def ranked(texts: list[str], ranks: list[int]) -> Stages:
    out = Stages(texts)
    out.ranks = ranks
    return out


def split_object(rest: str) -> tuple[str, str] | None:
    """'a bike down a hill' -> ('a bike', ' down a hill'): the object, then the words after it."""
    m = re.match(r"((?:%s\s+)?(?:[\w'-]+\s+){0,3}?[\w'-]+(?:\s+of\s+(?:%s\s+)?(?:[\w'-]+\s+)?[\w'-]+)?)(?=\s+(?:%s)\b|$)(.*)$"
                 % (_DET, _DET, _NP_END), rest, re.I)
    if not m or m.group(1).split()[0].lower() in PREPOSITIONS:
        return None
    return m.group(1), m.group(2)


def the(np: str) -> str:
    """'a glass of milk' -> 'the glass of milk'; 'his shoes' -> 'the shoes'."""
    words = np.split()
    if re.fullmatch(_DET, words[0], re.I):
        words = words[1:]
    return "the " + " ".join(words)


def _plural(np: str) -> bool:
    head = np.split(" of ")[0].split()[-1]
    return is_plural_noun(head) or np.split()[0].lower() in ("two", "three", "several", "some")


# ---------------------------------------------------------------------- on an object
# Verbs whose object comes into being or is done bit by bit: staged by how much is done.
CREATE = {"build", "paint", "draw", "knit", "spin", "carve", "sculpt", "stack", "bake", "write", "sew", "weave", "assemble",
          "construct", "decorate", "dig", "sketch", "shape", "mold", "mould", "frost", "craft", "make"}
AFFECT = {"mow", "sweep", "wash", "clean", "wipe", "scrub", "polish", "peel", "chop", "slice", "cut", "rake", "shovel",
          "fill", "water", "iron", "fold", "wrap", "unwrap", "trim", "prune", "plow", "plough", "harvest", "colour",
          "color", "load", "unload", "pack", "unpack", "dust", "vacuum", "mop", "tidy", "shave", "brush", "comb",
          "braid", "sand", "scrape", "frost", "ice", "dry", "empty", "clear", "set", "pick", "plant", "collect",
          "gather", "fix", "repair", "mend", "finish", "light", "inflate", "blow", "bury", "hang",
          # whole to pieces, bit by bit like chop/slice ("the tomatoes diced", "the plank half sawn"); a knee
          # wrapped like a present; socks or flowers sorted one by one
          "dice", "mince", "grate", "shred", "saw", "bandage", "sort", "arrange", "organize", "organise",
          # beans ground bit by bit; a tire "half pumped up" like "half inflated"; a board "half erased"
          "grind", "pump", "erase"}
CONSUME = {"eat": "eaten", "devour": "eaten", "munch": "eaten", "nibble": "eaten", "gobble": "eaten",
           "chew": "eaten", "lick": "gone", "drink": "empty", "sip": "empty", "gulp": "empty", "slurp": "empty"}
REACH = {"catch", "grab", "snatch", "seize", "fetch", "chase", "grasp", "hug", "greet", "pet", "kiss"}
PROPEL = {"throw": True, "toss": True, "fling": True, "pitch": True, "lob": True, "hurl": True, "skip": True,
          "kick": False, "hit": False, "bat": False, "strike": False, "shoot": False, "serve": False, "launch": True,
          # a fishing line is cast like a throw (wind up, release, it flies out, lands); a pass or a bowl is a throw
          # to someone; a heave or a chuck a hard throw; a punt a kick
          "cast": True, "pass": True, "bowl": True, "heave": True, "chuck": True, "punt": False}
# "launches a paper airplane" is thrown from the hand (True: held first, never "lining up in front of it")
# Verbs that are a throw or a hit only with these objects: "serves the soup", "passes a truck",
# "casts a shadow" are not.
_THROWN_ONLY = {"serve": r"ball|shuttlecock|birdie", "pass": r"ball|puck|football|frisbee|baton",
                "bowl": r"ball", "cast": r"net|stone|rock|pebble"}  # a fishing line: offline_verbs.cast_line
LOSE = {"lose", "shed", "drop"}
# What one catches by getting on board: "catches a train" is no frisbee caught and held.
RIDDEN = {"train", "bus", "tram", "ferry", "flight", "plane", "taxi", "cab", "subway", "boat", "streetcar", "shuttle"}
# Words that make a shade of a colour ("light blue"): part of the colour, not of the thing painted.
SHADES = {"light", "dark", "pale", "bright", "deep", "soft", "pastel", "navy", "sky", "baby", "hot"}
# Things one paints over (they are there before): "paints the fence" covers it, it does not make it.
SURFACES = {"fence", "wall", "walls", "door", "doors", "room", "house", "nails", "bench", "boat", "car", "shed", "barn",
            "ceiling", "floor", "gate", "railing", "chair", "table", "window", "shutters", "furniture", "bike"}


def pour(s: str, v: str, rest: str) -> list[str] | None:
    """'pours milk into a glass': the glass fills."""
    m = re.match(r"(.+?)\s+(?:into|in)\s+((?:%s)\s+[\w'-]+)(.*)$" % _DET, rest, re.I)
    if v not in ("pour", "fill") or not m:
        return None
    what, vessel, after = m.group(1), the(m.group(2)), m.group(3)
    doing = f"{s} {ing(v)} {rest}"
    empty, full = ("empty ", "full ") if _plural(vessel) else ("an empty ", "a full ")  # "two cups": empty cups
    return [f"{s} beside {empty}{vessel[4:]}{after}", f"{s} about to {v} {rest}", f"{s} beginning to {v} {rest}"] + [
        f"{doing}, {vessel} {x}" for x in ("a quarter full", "half full", "nearly full")] + [
        f"{s} finishing pouring, {vessel} full{after}", f"{s} beside {full}{vessel[4:]}{after}"]


def _bubbles(s: str, rest: str) -> list[str] | None:
    """'blows bubbles': a first bubble, a few, the air full of them."""
    m = re.match(r"((?:soap\s+)?bubbles)\b(.*)$", rest, re.I)
    if not m:
        return None
    kind, after = m.group(1), m.group(2)
    return [f"{s} about to blow {kind}{after}", f"{s} blowing a first bubble{after}",
            f"{s} blowing {kind}{after}, a few {kind} floating", f"{s} blowing {kind}{after}, more {kind} floating",
            f"{s} blowing {kind}{after}, many {kind} floating around", f"{s} blowing {kind}{after}, {kind} drifting up",
            f"{s} blowing {kind}{after}, the air full of {kind}", f"{s} watching {kind} drift away{after}"]


def incremental(s: str, v: str, rest: str) -> list[str] | None:
    """'paints a mural on a wall', 'mows a lawn': the object grows or is done bit by bit."""
    flame = re.match(r"out\s+((?:%s)\s+(?:[\w'-]+\s+)?(?:candle|match|lantern|torch))\b(.*)$" % _DET, rest, re.I)
    if v == "blow" and flame:  # one candle: its flame bends and goes out
        obj, after = flame.group(1), flame.group(2)
        return [f"{s} about to blow out {obj}{after}", f"{s} leaning toward {obj}{after}",
                f"{s} blowing at {obj}{after}, the flame flickering", f"{s} blowing at {obj}{after}, the flame bending",
                f"{s} blowing out {obj}{after}, the flame almost out", f"{s} beside {obj}{after}, the flame out",
                f"{s} beside {obj}{after}, a wisp of smoke rising", f"{s} beside {obj}{after}, the last smoke fading"]
    if v == "blow" and not rest.lower().startswith(("out ", "up ")):
        return _bubbles(s, rest)  # "blows out the candles" puts them out one by one; bubbles come one by one
    surface = re.match(r"on\s+((?:%s)\s+[\w'-]+(?:\s+[\w'-]+)?)(.*)$" % _DET, rest, re.I)
    if v in ("write", "draw", "paint", "scribble", "sketch", "doodle") and surface:  # "writes on a chalkboard"
        board, after = surface.group(1), surface.group(2)
        covered = {"write": "writing", "scribble": "scribbles", "paint": "paint"}.get(v, "drawings")
        return [f"{s} in front of a blank {board.split(' ', 1)[1]}{after}", f"{s} about to {v} on {board}{after}",
                f"{s} beginning to {v} on {board}{after}"] + [
            f"{s} {ing(v)} on {board}{after}, {the(board)} {x} covered in {covered}"
            for x in ("a little", "partly", "half", "mostly")] + [f"{s} beside {the(board)} covered in {covered}{after}"]
    made = v in CREATE
    particle = re.match(r"(?:up|out|off|down)\s+(?=%s\b)" % _DET, rest, re.I)  # "blows out the candles"
    parts = split_object(rest[particle.end():] if particle else rest)
    particle_out = v == "blow" and rest.lower().startswith("out ")  # candles are blown out one by one
    if not parts or ((v in ("light", "set", "pick", "fix", "finish", "gather", "collect", "plant", "hang") or particle_out)
                     and not _plural(parts[0]) and re.match(_DET + r"\s", parts[0], re.I)):  # one thing: no degrees
        return None
    obj, after = parts
    words = obj.split()
    colour = words[-1] if len(words) > 1 and words[-1].lower() in COLOURS else ""
    if colour and len(words) > 2 and words[-2].lower() in SHADES:  # "paints a wall light blue"
        colour = f"{words[-2]} {colour}"
    if colour:  # "paints her nails red": the nails are painted red, "red" is no part of them
        obj = obj[: -len(colour)].rstrip()
    made = made and not (v == "paint" and obj.split()[-1].lower() in SURFACES)
    into = re.match(r"\s+into\s+((?:a|an|two|three|four|several|many)\s+[\w' -]+?|(?:[\w'-]+\s+){0,2}?[\w'-]+s)(?=\s+(?:%s)\s|$)(.*)$"
                    % _NP_END, after, re.I)  # "into a vase", "into loaves"
    product = the((into.group(1) if into else obj).split(" of ")[0])  # "a tower of blocks": the tower grows
    own = re.match(r"(?:his|her|their|its|my|your|our)\s", obj, re.I)  # "paints her nails": she has them after
    what = f"{particle.group(0) if particle else ''}{obj}{' ' + colour if colour else ''}{after}"
    after = into.group(2) if into else after
    mass = not re.match(_DET + r"\s", obj, re.I) and not _plural(obj)  # "chops wood": no "a fully chopped wood"
    done = participle(v) + (f" {particle.group(0).strip()}" if particle else "") + (f" {colour}" if colour else "")
    doing = f"{s} {ing(v)} {what}"
    if mass and not made and not into:  # "chops wood", "hangs laundry": how much of it
        steps = [f"a little of {product} {done}", f"some of {product} {done}", f"about half of {product} {done}",
                 f"most of {product} {done}", f"nearly all of {product} {done}"]
        return [f"{s} about to {v} {what}", f"{s} beginning to {v} {what}"] + [f"{doing}, {x}" for x in steps] + [
            f"{s} beside {product} all {done}{after}"]
    if "'s " in obj and not into:  # "cuts a man's hair": the barber steps back from it done
        steps = [f"{product} {x} {done}" for x in ("barely", "a quarter", "half", "three quarters", "nearly all")]
        return [f"{s} about to {v} {what}", f"{s} beginning to {v} {what}"] + [f"{doing}, {x}" for x in steps] + [
            f"{s} stepping back, {obj} fully {done}{after}"]
    if own and not into:
        end = f"{s} with {obj} all {done}{after}" if _plural(obj) else f"{s} with {obj} fully {done}{after}"
        steps = [f"{product} {x} {done}" for x in ("barely", "a quarter", "half", "three quarters", "nearly all")]
        return [f"{s} about to {v} {what}", f"{s} beginning to {v} {what}"] + [f"{doing}, {x}" for x in steps] + [end]
    if _plural(product) and not into:
        steps = [f"the first of {product} {done}", f"a few of {product} {done}", f"about half of {product} {done}",
                 f"most of {product} {done}"]
        steps += [f"all but a few of {product} {done}"]
        return [f"{s} about to {v} {what}", f"{s} beginning to {v} {what}"] + [f"{doing}, {x}" for x in steps] + [
            f"{s} beside {product} all {done}{after}"]
    if into and _plural(product):  # "shapes dough into loaves": the loaves come one by one, all there at the end
        steps = [f"the first of {product} {done}", f"a few of {product} {done}", f"about half of {product} {done}",
                 f"most of {product} {done}", f"nearly all of {product} {done}"]
        return [f"{s} about to {v} {what}", f"{s} beginning to {v} {what}"] + [f"{doing}, {x}" for x in steps] + [
            f"{s} beside {product}, all {done}{after}"]
    else:
        steps = [f"{product} just begun" if made else f"{product} barely {done}", f"{product} a quarter {done}",
                 f"{product} half {done}", f"{product} three quarters {done}"]
        end = f"{s} beside {_article('finished' if made else 'fully ' + done, product[4:])}{after}"
    return [f"{s} about to {v} {what}", f"{s} beginning to {v} {what}"] + [f"{doing}, {x}" for x in steps] + [
        f"{doing}, {product} nearly {'finished' if made else 'all ' + done}", end]


def _article(word: str, np: str) -> str:
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word} {np}".strip()


def flip(s: str, v: str, rest: str) -> list[str] | None:
    """'flips a pancake in a pan': up into the air, over, and back down."""
    parts = split_object(rest)
    if v not in ("flip", "toss") or not parts or not re.search(r"\b(?:pan|skillet|griddle|wok)\b", rest, re.I):
        return None
    obj, after = parts
    it, doing = the(obj), f"{s} {ing(v)} {obj}{after}"
    return [f"{s} about to {v} {obj}{after}", f"{doing}, {it} lifting off", f"{doing}, {it} in the air",
            f"{doing}, {it} turning over in mid-air", f"{doing}, {it} upside down in mid-air",
            f"{doing}, {it} coming back down", f"{s} catching {obj}{after}", f"{s} with {obj} flipped{after}"]


def fly_thing(s: str, v: str, rest: str) -> list[str] | None:
    """'flies a kite on a beach': the kite goes up, the flier stays on the ground."""
    parts = split_object(rest)
    if v != "fly" or not parts or parts[0].split()[-1].lower() not in ("kite", "drone", "plane", "balloon", "glider"):
        return None
    obj, after = parts
    it, doing = the(obj), f"{s} flying {obj}{after}"
    return [f"{s} holding {obj}{after}", f"{s} running with {obj}{after}", f"{s} letting go of {obj}{after}",
            f"{doing}, {it} just off the ground", f"{doing}, {it} rising", f"{doing}, {it} high in the air",
            f"{doing}, {it} high in the sky", f"{doing}, {it} soaring far up in the sky"]


def topple(s: str, v: str, rest: str, passive: bool) -> list[str] | None:
    """'a glass is knocked over', 'a vase tips over': standing, wobbling, tipping, on its side."""
    if v not in ("knock", "tip", "fall", "topple", "blow", "push", "keel") or not re.match(r"over\b", rest, re.I) or \
            (v in ("knock", "push", "blow") and not passive):
        return None
    tail = rest[4:].strip()
    tail = f" {tail}" if tail else ""
    return [f"{s} standing upright{tail}", f"{s} starting to wobble{tail}", f"{s} wobbling{tail}",
            f"{s} starting to tip over{tail}", f"{s} tipping over{tail}", f"{s} halfway over{tail}",
            f"{s} falling onto its side{tail}", f"{s} lying on its side{tail}"]


def feed(s: str, v: str, rest: str) -> list[str] | None:
    """'feeds ducks at a pond', 'feeds bread to swans': the animals come closer and gather round."""
    given = re.match(r"((?:%s\s+)?[\w'-]+)\s+to\s+(.+)$" % _DET, rest, re.I)  # "feeds bread to swans"
    parts = split_object(given.group(2)) if given else split_object(rest)
    food = given.group(1) if given else "food"
    if v != "feed" or not parts or not _plural(parts[0]):
        return None
    obj, after = parts
    them = obj.split()[-1] if re.match(_DET + r"\s", obj, re.I) else obj
    doing = f"{s} feeding {obj}{after}"
    return [f"{s} about to feed {obj}{after}", f"{s} holding out {food} to {obj}{after}",
            f"{doing}, a few {them} coming closer", f"{doing}, more {them} coming closer",
            f"{doing}, {them} gathering around", f"{doing}, many {them} gathered around",
            f"{doing}, {them} crowding around, eating", f"{s} surrounded by {them}{after}"]


# Things that happen once each, to many at a time: staged by how many have.
BURST = {"explode", "burst", "pop", "bloom", "open", "appear", "sparkle", "hatch", "sprout", "land", "light"}


def bursts(subject, v: str, rest: str) -> list[str] | None:
    """'fireworks explode over a lake': a first one, a few, many, the sky full of them."""
    if v not in BURST or not subject.plural or subject.np.split()[0].lower() in ("two", "three", "four", "five") or \
            rest.split()[:1] in (["up"], ["out"]):
        return None
    many, g = subject.np.split()[-1], ing(v)
    many = many.lower() if many[:1].isupper() and len(subject.np.split()) == 1 else many  # "Fireworks explode"
    one = getLemma(many, "NOUN")[0] if many.lower().endswith("s") else many
    lead = " ".join(w for w in subject.np.split()[:-1] if w.lower() not in ("the", "some", "many"))
    kind = f"{lead} {many}".strip()
    tail = f" {rest}" if rest else ""
    return [f"{subject.np} about to {v}{tail}", f"a first {(lead + ' ' + one).strip()} {g}{tail}",
            f"a few {kind} {g}{tail}", f"more {kind} {g}{tail}", f"many {kind} {g}{tail}",
            f"many {kind} {g} at once{tail}", f"dozens of {kind} {g}{tail}", f"the last {kind} {g}{tail}"]


def take_out(s: str, v: str, rest: str) -> list[str] | None:
    """'pulls a tray of cookies out of the oven': reaches in, draws it out, holds it up."""
    m = re.match(r"((?:%s)\s+(?:[\w'-]+\s+){0,3}?[\w'-]+)\s+(?:out\s+of|from)\s+((?:%s)\s+[\w' -]+?)$" % (_DET, _DET),
                 rest, re.I)
    if v not in ("pull", "take", "lift", "draw", "get", "fish") or not m:
        return None
    obj, place = m.group(1), m.group(2)
    it = the(obj)
    return [f"{s} in front of {place}, {it} inside", f"{s} reaching into {place}", f"{s} taking hold of {obj} in {place}",
            f"{s} pulling {obj} partly out of {place}", f"{s} pulling {obj} halfway out of {place}",
            f"{s} lifting {it} clear of {place}", f"{s} holding {it} beside {place}", f"{s} setting down {it}"]


def place_on(s: str, v: str, rest: str) -> list[str] | None:
    """'hangs a painting on the wall': holds it up, sets it there, straightens it, steps back."""
    m = re.match(r"((?:%s)\s+(?:[\w'-]+\s+){0,2}?[\w'-]+)\s+(?:on|onto|above|over)\s+((?:%s)\s+.+)$" % (_DET, _DET),
                 rest, re.I)
    if v not in ("hang", "put", "place", "set", "pin", "mount", "lay", "stick") or not m or _plural(m.group(1)):
        return None
    obj, place = m.group(1), m.group(2)
    it = the(obj)
    return [f"{s} holding {obj} near {place}", f"{s} lifting {obj} toward {place}", f"{s} holding {obj} against {place}",
            f"{s} {ing(v)} {obj} on {place}", f"{s} letting go of {it} on {place}", f"{s} straightening {it} on {place}",
            f"{s} stepping back from {it} on {place}", f"{s} beside {it} on {place}"]


def knock_off(s: str, v: str, rest: str) -> list[str] | None:
    """'knocks a vase off a shelf': nudges it to the edge, it tips over and falls."""
    m = re.match(r"((?:%s)\s+(?:[\w'-]+\s+){0,2}?[\w'-]+)\s+(?:off|from)\s+((?:%s)\s+.+)$" % (_DET, _DET), rest, re.I)
    if v not in ("knock", "push", "nudge", "swat", "bat", "tip") or not m:
        return None
    obj, place = m.group(1), m.group(2)
    it = the(obj)
    return [f"{s} beside {obj} on {place}", f"{s} reaching toward {obj} on {place}", f"{s} pushing {obj} on {place}",
            f"{s} pushing {obj} to the edge of {place}", f"{s} watching {it} tip over the edge of {place}",
            f"{s} watching {it} fall off {place}", f"{s} watching {it} fall through the air below {place}",
            f"{s} looking down at {it} below {place}"]


def drive_in(s: str, v: str, rest: str) -> list[str] | None:
    """'hammers a nail into a board': the nail goes in bit by bit."""
    m = re.match(r"((?:%s)\s+(?:[\w'-]+\s+){0,2}?[\w'-]+)\s+into\s+((?:%s)\s+.+)$" % (_DET, _DET), rest, re.I)
    if v not in ("hammer", "drive", "pound", "tap", "screw", "push", "press", "stick", "sink") or not m:
        return None
    obj, place = m.group(1), m.group(2)
    it, doing = the(obj), f"{s} {ing(v)} {obj} into {place}"
    return [f"{s} holding {obj} against {place}", f"{s} about to {v} {obj} into {place}",
            f"{doing}, {it} barely in", f"{doing}, {it} a quarter of the way in", f"{doing}, {it} halfway in",
            f"{doing}, {it} mostly in", f"{doing}, {it} almost all the way in",
            f"{s} beside {it} {participle(v)} all the way into {place}"]


def burst_it(s: str, v: str, rest: str) -> list[str] | None:
    """'pops a balloon with a pin': the point comes close, touches, the thing bursts."""
    parts = split_object(rest)
    if v not in ("pop", "burst", "prick") or not parts or _plural(parts[0]):
        return None
    obj, after = parts
    tool = re.match(r"\s+with\s+((?:%s)\s+[\w'-]+)(.*)$" % _DET, after, re.I)
    point, place = (tool.group(1), tool.group(2)) if tool else ("a finger", after)
    it = the(obj)
    return [f"{s} holding {point} near {obj}{place}", f"{s} bringing {point} closer to {obj}{place}",
            f"{s} touching {obj} with {point}{place}", f"{s} pressing {point} into {obj}{place}",
            f"{s} {ing(v)} {obj}{place}, {it} bursting", f"{s} flinching as {it} bursts{place}",
            f"{s} beside scraps of {it[4:]}{place}", f"{s} holding {point} beside scraps of {it[4:]}{place}"]


def kindle(s: str, v: str, rest: str) -> list[str] | None:
    """'lights a campfire': a spark, a small flame, the fire catching, a blazing fire."""
    parts = split_object(rest)
    if v not in ("light", "start", "kindle", "build") or not parts or \
            parts[0].split()[-1].lower() not in ("fire", "campfire", "bonfire", "fireplace", "stove", "torch"):
        return None
    obj, after = parts
    it = the(obj)
    return [f"{s} kneeling beside {obj}{after}", f"{s} striking a match by {obj}{after}",
            f"{s} holding a flame to {obj}{after}", f"{s} beside {obj}{after}, a small flame catching",
            f"{s} beside {obj}{after}, {it} starting to burn", f"{s} beside {obj}{after}, {it} growing",
            f"{s} beside {obj}{after}, {it} burning brightly", f"{s} beside {obj}{after}, {it} blazing"]


def read_through(s: str, v: str, rest: str) -> list[str] | None:
    """'reads a book': from its first pages to its last, then closed."""
    parts = split_object(rest)
    if v != "read" or not parts or parts[0].split()[-1].lower() not in ("book", "novel", "magazine", "letter", "comic",
                                                                         "newspaper", "story", "diary", "notebook"):
        return None
    obj, after = parts
    return [f"{s} about to read {obj}{after}", f"{s} opening {obj}{after}", f"{s} reading the first pages of {obj}{after}",
            f"{s} reading {obj}{after}, a third of the way through", f"{s} reading {obj}{after}, halfway through",
            f"{s} reading {obj}{after}, most of the way through", f"{s} reading the last pages of {obj}{after}",
            f"{s} closing {obj}{after}, finished"]


# Held vessels one drinks from (not a stream or a bowl on the floor one walks up to): the vessel empties.
HELD = {"bottle", "cup", "glass", "mug", "can", "carton", "flask", "thermos", "jug", "teacup", "tumbler", "straw"}
# Hours a clock strikes: no ball to wind up and hit.
HOURS = {"midnight", "noon", "midday", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "hour", "o'clock"}
# What birds and bees drink from on the wing: no walking up to a flower, no lowering the head.
BLOOMS = {"flower", "flowers", "blossom", "blossoms", "bloom", "blooms", "feeder", "bud"}
# One's own body: licked or chewed, never eaten up.
BODY = {"paw", "paws", "lip", "lips", "fur", "face", "hand", "hands", "nose", "whiskers", "tail", "feet", "foot",
        "fingers", "finger", "nails", "coat"}


def consume(s: str, v: str, rest: str) -> list[str] | None:
    """'eats an apple': the apple a quarter, half, mostly eaten; 'drinks a glass of milk': the glass empties."""
    parts = split_object(rest)
    if v not in CONSUME or not parts:
        return None
    obj, after = parts
    if obj.split()[-1].lower() in BODY:  # "licks its paws", "chews his lip": nothing is eaten
        return None
    source = re.match(r"\s+from\s+((?:%s)\s+(?:[\w'-]+\s+){0,2}?([\w'-]+))(?=\s+(?:%s)\b|$)(.*)$"
                      % (_DET, _NP_END), after, re.I)
    if source and source.group(2).lower() in HELD and CONSUME[v] == "empty":  # "drinks milk from a bottle"
        return consume(s, v, f"{source.group(1)} of {obj}{source.group(3)}")
    if source and source.group(2).lower() in BLOOMS:  # "a hummingbird drinks nectar from a flower": on the wing
        at = f"{source.group(1)}{source.group(3)}"
        return [f"{s} flying toward {at}", f"{s} hovering near {at}", f"{s} hovering at {at}",
                f"{s} {ing(v)} {obj} from {at}", f"{s} {ing(v)} deep in {at}", f"{s} backing away from {at}",
                f"{s} hovering beside {at}", f"{s} flying off from {at}"]
    if source and CONSUME[v] == "empty":  # "drinks water from a stream": the stream is not drunk dry
        at = f"{source.group(1)}{source.group(3)}"
        person = s.split()[-1].lower() in PEOPLE  # a person kneels and cups the water; an animal lowers its head
        down, up = ("kneeling by", "standing up beside") if person else ("lowering its head to", "lifting its head from")
        return [f"{s} walking up to {at}", f"{s} at the edge of {at}", f"{s} bending down to {at}",
                f"{s} {down} {at}", f"{s} {ing(v)} {obj} from {at}",
                f"{s} {'cupping' if person else 'lapping up'} {obj} from {at}",
                f"{s} {up} {at}", f"{s} standing beside {at}, {obj} dripping"]
    what, g, end = f"{obj}{after}", ing(v), CONSUME[v]
    contents = obj.split(" of ", 1)[1] if " of " in obj else obj  # "a cup of coffee": a sip of coffee
    holder = obj.split(" of ")[0].split()[-1].lower() in ("bowl", "plate", "cup", "mug", "box", "bag", "jar", "can",
                                                        "bottle", "basket", "bucket", "pot", "tray", "carton", "packet")
    # "a bowl of cereal": the cereal is eaten; "a slice of pizza": the slice is
    vessel = the(obj.split(" of ")[0] if CONSUME[v] == "empty" or not holder else contents)
    bit = "sip" if end == "empty" else ("lick" if v == "lick" else "bite")
    if end == "empty" and " of " in obj:
        amounts = [f"{vessel} nearly full", f"{vessel} half empty", f"{vessel} mostly empty", f"{vessel} nearly empty"]
        last = f"{s} holding {_article('empty', vessel[4:]) if not _plural(vessel) else 'empty ' + vessel[4:]}{after}"
    else:
        word = "gone" if end == "empty" else end
        amounts = [f"{vessel} a quarter {word}", f"{vessel} half {word}", f"{vessel} mostly {word}",
                   f"{vessel} nearly all {word}"]
        last = f"{s} having {participle(v)} all of {vessel}{after}"
    return [f"{s} about to {v} {what}", f"{s} taking a first {bit} of {contents}{after}"] + [
        f"{s} {g} {what}, {x}" for x in amounts] + [f"{s} finishing the last of {the(contents)}{after}", last]


def reach(s: str, v: str, rest: str) -> Stages | None:
    """'catches a frisbee', 'picks up a shell': eyes it, moves in, reaches, takes it, holds it."""
    up = v == "pick" and re.match(r"up\s+", rest, re.I)
    parts = split_object(rest[up.end():] if up else rest)
    if (v not in REACH and not up) or not parts:
        return None
    obj, after = parts
    g = ing(v) + (" up" if up else "")
    if v == "catch" and RIDDEN & set(obj.lower().split()):  # "catches a train": boards it, never holds it
        return ranked([f"{s} seeing {obj} pull in{after}", f"{s} hurrying toward {obj}{after}",
                       f"{s} running alongside {obj}{after}", f"{s} waving at {obj}{after}",
                       f"{s} reaching the doors of {obj}{after}", f"{s} stepping onto {obj}{after}",
                       f"{s} just inside {obj}{after}", f"{s} on board {obj}{after}"], [0, 4, 5, 6, 3, 1, 7, 2])
    if v in ("hug", "greet", "pet", "kiss"):
        near = [f"{s} seeing {obj}{after}", f"{s} walking toward {obj}{after}", f"{s} getting close to {obj}{after}",
                f"{s} reaching out to {obj}{after}"]
        return ranked(near + [f"{s} about to {v} {obj}{after}", f"{s} {g} {obj}{after}",
                              f"{s} {g} {obj} warmly{after}", f"{s} together with {obj}{after}"], [0, 4, 6, 3, 5, 1, 7, 2])
    if v == "chase":  # the chase, not its end: nothing says it is caught
        return ranked([f"{s} spotting {obj}{after}", f"{s} crouching, about to chase {obj}{after}",
                       f"{s} starting to chase {obj}{after}", f"{s} running after {obj}{after}",
                       f"{s} gaining on {obj}{after}", f"{s} close behind {obj}{after}", f"{s} lunging at {obj}{after}",
                       f"{s} nearly catching {obj}{after}"], [0, 4, 2, 1, 5, 6, 3, 7])
    texts = [f"{s} eyeing {obj}{after}", f"{s} moving toward {obj}{after}", f"{s} getting close to {obj}{after}",
             f"{s} reaching for {obj}{after}", f"{s} lunging for {obj}{after}", f"{s} {g} {obj}{after}",
             f"{s} having just {participle(v)}{' up' if up else ''} {obj}{after}", f"{s} holding {obj}{after}"]
    return ranked(texts, [0, 6, 7, 3, 5, 1, 4, 2])


def propel(s: str, v: str, rest: str) -> Stages | None:
    """'kicks a ball', 'throws a stone into a lake': gets ready, does it, the object flies off."""
    parts = split_object(rest)
    if v not in PROPEL or not parts or (v in _THROWN_ONLY and not re.search(r"\b(?:%s)\b" % _THROWN_ONLY[v], parts[0])):
        return None  # "serves the soup" is no tennis serve
    obj, after = parts
    if obj.split()[-1].lower() in HOURS or re.match(r"\s+in\s+%s\s+(?:[\w-]+\s+)?(?:bowl|pan|skillet|wok|pot)\b" % _DET,
                                                  after, re.I):
        return None  # "the clock strikes midnight", "tosses a salad in a bowl": nothing flies off
    target = re.match(r"\s+(into|at|toward|towards|over|across|through|onto|against|to%s)\s+(.+)$" % ("|on" if v == "skip" else ""),
                      after, re.I)  # "skips rocks on a lake": over the water
    where, place = (f" {target.group(1)} {target.group(2)}", "") if target else ("", after)
    g, done = ing(v), participle(v)
    stand = re.sub(r"^\s+off\b", " on", place)  # "throws a plane off a balcony": holding it on the balcony
    ready = f"{s} holding {obj}{stand}" if PROPEL[v] else f"{s} lining up in front of {obj}{stand}"
    flying = [f"{s} watching {obj} fly away{where}{place}", f"{s} watching {obj} far off in the air{where}{place}"]
    if target and target.group(1).lower() in ("across", "over", "through"):
        flying[-1] = f"{s} watching {obj} far {target.group(1).lower()} {target.group(2)}"
    elif target:
        flying[-1] = f"{s} watching {obj} reach {target.group(2)}"
    texts = [ready, f"{s} getting ready to {v} {obj}{where}{place}", f"{s} winding up to {v} {obj}{where}{place}",
             f"{s} {g} {obj}{where}{place}", f"{s} having just {done} {obj}{where}{place}",
             f"{s} following through, {obj} in the air{place}", *flying]
    return ranked(texts, [0, 4, 7, 1, 2, 5, 6, 3])


def lose(s: str, v: str, rest: str) -> list[str] | None:
    """'a tree loses its leaves': all of them, most, half, a few, none."""
    m = re.match(r"(?:its|his|her|their|the|all\s+(?:its|of\s+its))\s+([\w'-]+)(.*)$", rest, re.I)
    if v not in LOSE or not m or not (is_plural_noun(m.group(1)) or m.group(1).lower() in ("fur", "hair", "skin")):
        return None
    things, after = m.group(1), m.group(2)
    return [f"{s} with all its {things}{after}", f"{s} beginning to {v} its {things}{after}",
            f"{s} {ing(v)} its {things}, a few {things} gone{after}", f"{s} with a quarter of its {things} gone{after}",
            f"{s} with half of its {things} gone{after}", f"{s} with most of its {things} gone{after}",
            f"{s} with only a few {things} left{after}", f"{s} bare, with no {things} left{after}"]


def opened(s: str, v: str, rest: str) -> list[str] | None:
    """'opens a door': closed, reached for, slightly, half, wide open (closing: the other way)."""
    parts = split_object(rest)
    if v not in ("open", "close", "shut") or not parts:
        return None
    obj, after = parts
    thing = the(obj)
    ways, start, end = ["slightly open", "half open", "mostly open"], "closed", "wide open"
    if v != "open":
        ways, start, end = ["half closed", "mostly closed", "nearly shut"], "open", "shut"
    def a(word: str) -> str:  # "a closed door", "closed curtains"
        return f"{word} {thing[4:]}" if _plural(thing) else _article(word, thing[4:])

    return [f"{s} in front of {a(start)}{after}", f"{s} reaching for {obj}{after}",
            f"{s} beginning to {v} {obj}{after}"] + [f"{s} {ing(v)} {obj}{after}, {thing} {w}" for w in ways[:3]] + [
        f"{s} beside {a(end)}{after}", f"{s} stepping back from {a(end)}{after}"]


# ---------------------------------------------------------------------- where the subject is
JUMP = {"jump", "leap", "dive", "hop", "vault", "bound", "spring", "pounce", "plunge", "cannonball"}
_WHERE = {
    "toward": ("far from", ["far away", "a third of the way there", "halfway there", "getting close", "almost there"],
               "reaching"),
    "to": ("far from", ["far away", "a third of the way there", "halfway there", "getting close", "almost there"],
           "reaching"),
    "into": ("outside", ["@ toward", "near the entrance of", "at the entrance of", "entering", "just inside"],
             "inside"),
    "through": ("in front of", ["@ toward", "entering", "a third of the way through", "halfway through",
                                "near the far end of"], "coming out of"),
    "past": ("some way off from", ["@ toward", "getting close to", "level with", "passing", "just past"],
             "far beyond"),
    "under": ("in front of", ["@ toward", "about to pass under", "halfway under", "nearly through under"],
              "coming out from under"),
    "onto": ("at the foot of", ["@ toward", "close to", "reaching up to", "halfway onto", "nearly on top of"],
             "standing on top of"),
    "over": ("some way off from", ["@ toward", "nearing", "just reaching", "@ over the near side of",
                                   "@ over the far side of"], "beyond"),
    "around": ("beside", ["@ toward the side of", "@ around the side of", "@ around the back of", "@ behind",
                          "@ around the far side of"], "back in front of"),
}


def where(s: str, v: str, rest: str, moving: bool) -> list[str] | None:
    """'runs toward its owner', 'drives through a tunnel': where on the way the subject is."""
    m = re.match(r"(?:([\w' -]+?)\s+)?(towards|toward|into|through|past|under|onto|over|around|to)\s+((?:%s)\s+.+)$"
                 % _DET, rest, re.I)
    if not moving or not m or (m.group(1) and not split_object(m.group(1))) or (v == "run" and m.group(1)):
        return None  # "runs a shop in town" goes nowhere
    obj = f" {m.group(1)}" if m.group(1) else ""
    prep = m.group(2).lower().replace("towards", "toward")
    if obj and prep == "onto" and v not in ("carry", "push", "wheel", "lead", "walk", "ride", "drive", "bring", "take"):
        return None  # "pulls a net onto his boat": the net goes there, not the fisherman
        return None
    place = m.group(3)
    start, steps, end = _WHERE[prep]
    g = ing(v)
    moving_with = f"{s} {g}{obj} {prep} {place}"
    if prep in ("toward", "to"):
        return [f"{s} {start} {place}, about to {v}{obj}", f"{s} beginning to {v}{obj} {prep} {place}"] + [
            f"{moving_with}, {x}" for x in steps] + [f"{s} {end} {place}"]
    along = f" with{obj}" if obj else ""  # "pushes a stroller through the park": the stroller goes along
    middle = [f"{s} {x.replace('@', g + obj)} {place}" if x.startswith("@") else f"{s}{along} {x} {place}"
              for x in steps]
    short = {"into": "in", "onto": "up"}.get(prep, prep)  # "about to walk in", not "about to walk into"
    return [f"{s} {start} {place}, about to {v}{obj} {short}", *middle[:3], moving_with, *middle[3:],
            f"{s}{along} {end} {place}"]  # "a mom with a stroller coming out of the park": it is not dropped


# Verbs of going about on foot or on wheels that can cross a place they are "in".
ROAM = {"walk", "run", "jog", "stroll", "wander", "ride", "skate", "ski", "hike", "cycle", "bike", "drive", "march",
        "paddle", "sail", "row", "roam", "trot", "gallop", "waddle", "push", "pull", "carry", "lead", "amble", "stride",
        "limp", "hurry", "rush", "skateboard", "sled", "scooter", "wheel", "race", "dash", "sprint", "explore", "swim",
        "wade", "crawl", "tiptoe", "prowl", "patrol", "waltz", "cruise"}
# Ground one goes about "on" ("walks on the beach"); other things one is "on" (a swing, a bench) are no way.
GROUND = {"beach", "sand", "shore", "field", "lawn", "grass", "road", "street", "sidewalk", "path", "trail", "track",
          "ice", "snow", "bridge", "pier", "boardwalk", "deck", "meadow", "hill", "hillside", "promenade", "runway",
          "playground", "platform", "floor", "ground", "court", "pitch", "square", "plaza", "dock", "rink", "pavement"}
# Places too big or too vague to cross: "flies in the sky" has no far side.
_OPEN = {"sky", "air", "clouds", "wind", "rain", "snow", "sun", "sunshine", "sea", "ocean", "water", "waves", "dark",
         "darkness", "distance", "fog", "mist", "moonlight", "light", "shade", "shadows", "world", "space", "morning",
         "evening", "night", "day", "afternoon", "weekend", "dawn", "dusk", "sunset", "sunrise", "winter", "summer",
         "spring", "autumn", "fall", "moment", "hurry", "way", "time", "rhythm", "dark", "sunlight", "heat", "cold"}


def roam(s: str, v: str, rest: str, moving: bool) -> list[str] | None:
    """'a man walks his dog in the park': from the edge of the park into it and across it."""
    m = re.match(r"(?:([\w' -]+?)\s+)?(?:in|around|on|at|through)\s+((?:the|a|an)\s+(?:[\w'-]+\s+){0,3}?([\w'-]+))"
                 r"((?:\s+(?:at|in|on|during|under)\s+.+)?)$", rest, re.I)
    if v not in ROAM or not moving or not m or m.group(3).lower() in _OPEN or (m.group(1) and not split_object(m.group(1))):
        return None
    if v == "run" and m.group(1):  # "runs a lemonade stand on the sidewalk": keeps it, goes nowhere
        return None
    if re.match(r"(?:[\w' -]+?\s+)?on\s", rest, re.I) and m.group(3).lower() not in GROUND:
        return None  # "pushes his daughter on a swing": a swing is no ground to cross
    obj, place, when = f" {m.group(1)}" if m.group(1) else "", m.group(2), m.group(4)
    g = f"{ing(v)}{obj}"
    kept = f" with{obj}" if re.match(_DET + r"\s", obj.strip(), re.I) else ""  # his dog is still there; no "with laps"
    return [f"{s} at the edge of {place}{when}, about to {v}{obj}", f"{s} beginning to {v}{obj} into {place}{when}",
            f"{s} {g} a little way into {place}{when}", f"{s} {g} farther into {place}{when}",
            f"{s} {g} in the middle of {place}{when}", f"{s} {g} past the middle of {place}{when}",
            f"{s} {g} toward the far side of {place}{when}",
            f"{s}{kept} at the far side of {place}{when}"]


def jump(s: str, v: str, rest: str) -> list[str] | None:
    """'jumps over a fence', 'dives into a pool', 'jumps onto a table': the run-up, the air, the landing."""
    if v not in JUMP or (rest and rest.split()[0].lower() not in PREPOSITIONS):  # "jumps rope" is no leap
        return None
    m = re.match(r"(over|into|onto|off|across|in)\s+(.+)$", rest, re.I)
    prep, place = (m.group(1).lower(), m.group(2)) if m else ("", "")
    tail = f" {rest}" if rest else ""
    if prep == "over":
        return [f"{s} running toward {place}", f"{s} close to {place}, about to {v}", f"{s} taking off in front of {place}",
                f"{s} rising into the air toward {place}", f"{s} in mid-air above {place}", f"{s} clearing {place}",
                f"{s} coming down beyond {place}", f"{s} landing beyond {place}"]
    if prep in ("into", "in"):
        return [f"{s} at the edge of {place}", f"{s} crouching at the edge of {place}, about to {v}",
                f"{s} pushing off toward {place}", f"{s} in mid-air above {place}", f"{s} coming down toward {place}",
                f"{s} just touching {place}", f"{s} plunging into {place}", f"{s} in {place}"]
    if prep == "onto":
        return [f"{s} at the foot of {place}", f"{s} crouching, about to {v} onto {place}", f"{s} pushing off the ground",
                f"{s} in mid-air, rising toward {place}", f"{s} level with the top of {place}",
                f"{s} landing on {place}", f"{s} steadying on top of {place}", f"{s} standing on {place}"]
    place = re.sub(r"^(?:\s+(?:up|high|around|about|\w+ly))+", "", tail)  # "jumps up happily": no "leap up happily"
    return [f"{s} crouching, about to {v}{tail}", f"{s} pushing off the ground{place}", f"{s} leaving the ground{place}",
            f"{s} rising into the air{place}", f"{s} at the top of the leap{place}", f"{s} coming down{place}",
            f"{s} landing{place}", f"{s} back on the ground{place}"]


# Things that go up into the sky; the sun and the moon rise over a horizon instead.
FLIERS = {"balloon", "kite", "rocket", "plane", "airplane", "aeroplane", "jet", "helicopter", "drone", "bird", "lantern",
          "bubble", "blimp", "airship", "eagle", "hawk", "seagull", "gull", "owl", "pigeon", "dove", "crow", "butterfly",
          "bee", "firefly", "glider", "spaceship", "shuttle", "parachute", "paraglider", "swan", "goose", "duck"}
SKY = {"sun", "moon"}
_RISE = re.compile(r"^(?:(?:lift|take|blast|lift|set)\s+off|rise|ascend|soar|climb|launch|float\s+up|fly\s+up|"
                   r"drift\s+up|go\s+up)$", re.I)


def rise(s: str, head: str, v: str, rest: str) -> list[str] | None:
    """'a hot air balloon lifts off': on the ground, just off it, higher, high in the sky."""
    words = rest.split()
    particle = words[0].lower() if words and words[0].lower() in ("off", "up") else ""
    if not _RISE.match(f"{v} {particle}".strip()) or head.lower().rstrip("s") not in FLIERS | SKY:
        return None
    tail = " ".join(words[1:] if particle else words)
    if v == "take" and tail.split()[:1] and tail.split()[0].lower() not in PREPOSITIONS:
        return None  # "takes off his hat"
    if head.lower() in SKY:
        return _horizon(s, v, tail, up=True)
    ground = re.match(r"from\s+(.+?)(?:\s+(?:into|toward|over|above)\b.*)?$", tail, re.I)
    air = re.sub(r"^from\s+(?:%s\s+)?[\w'-]+(?:\s+[\w'-]+)??(?=\s|$)\s*" % _DET, "", tail, flags=re.I).strip()
    into = f" {air}" if air else ""
    # "into the sky" is the way up (said once); "over a valley" is where it flies (said in every frame)
    air = "" if re.match(r"(?:into|toward|towards|to|up)\b", air, re.I) else into
    base = f" in {ground.group(1)}" if ground else ""
    up = f"{v} {particle}".strip()
    return [f"{s} on the ground{base}, about to {up}", f"{s} beginning to {up}{base}",
            f"{s} just off the ground{base}", f"{s} a few feet above the ground{base}", f"{s} rising higher{into}",
            f"{s} high above the ground{air}", f"{s} high in the sky{air}", f"{s} small, far up in the sky{air}"]


def _horizon(s: str, v: str, tail: str, up: bool) -> list[str]:
    """'the sun rises over the sea', 'the sun sets behind the hills': against the horizon."""
    m = re.match(r"(over|behind|above|below|into|on|across)\s+(.+)$", tail, re.I)
    # "sets behind the hills": the hills are the line; "rises over a lake": the horizon, over the lake
    line = m.group(2) if m and m.group(1).lower() in ("behind", "below", "into") else "the horizon"
    at = f" {tail}" if tail else ""
    scene = f",{at}" if m and line == "the horizon" else ""
    if up:
        return [f"{s} just below {line}{scene}", f"{s} about to {v}{at}", f"{s} peeking over {line}{scene}",
                f"{s} half above {line}{scene}", f"{s} just above {line}{scene}", f"{s} low in the sky{at}",
                f"{s} climbing higher{at}", f"{s} high in the sky{at}"]
    return [f"{s} low in the sky{at}", f"{s} about to {v}{at}", f"{s} sinking toward {line}{scene}",
            f"{s} just above {line}{scene}", f"{s} touching {line}{scene}", f"{s} half below {line}{scene}",
            f"{s} a thin sliver over {line}{scene}", f"{s} gone below {line}{scene}, the sky glowing"]


def set_or_rise(s: str, head: str, v: str, rest: str) -> list[str] | None:
    """The sun and the moon: rising and setting are stages against the horizon, not degrees;
    coming out is from behind the clouds."""
    if head.lower() in SKY and v in ("come", "peek", "break") and rest.lower().split()[:1] in (["out"], ["through"]):
        tail = re.sub(r"^(?:out|through)\s*(?:from\s+behind\s+(?:the\s+)?clouds?\s*)?", "", rest, flags=re.I)
        tail = f" {tail}" if tail else ""
        return [f"{s} hidden behind clouds{tail}", f"{s} glowing faintly behind clouds{tail}",
                f"{s} about to come out{tail}", f"{s} peeking out from behind clouds{tail}",
                f"{s} half out from behind clouds{tail}", f"{s} nearly out from behind clouds{tail}",
                f"{s} fully out{tail}", f"{s} shining brightly{tail}"]
    if head.lower() not in SKY or v not in ("rise", "set", "sink", "go"):
        return None
    if v == "go" and not rest.lower().startswith("down"):
        return None
    tail = re.sub(r"^down\s*", "", rest, flags=re.I) if v == "go" else rest
    return _horizon(s, "rise" if v == "rise" else "set", tail, up=v == "rise")


FALL = {"fall", "drop", "tumble", "plunge", "descend", "plummet"}


def fall(s: str, v: str, rest: str) -> list[str] | None:
    """'an apple falls from a tree onto the grass': up there, coming loose, halfway down, landed."""
    if v not in FALL or s.split()[-1].lower() in ("rain", "snow", "hail", "sleet", "drizzle", "night", "darkness"):
        return None
    src = re.search(r"\b(?:from|off)\s+((?:%s)\s+[^,]+?)(?=\s+(?:onto|into|to|on|in)\b|$)" % _DET, rest, re.I)
    dst = re.search(r"\b(onto|into|to|on|in)\s+((?:%s)\s+.+)$" % _DET, rest, re.I)
    if not src and not dst:
        return None
    high = f"on {src.group(1)}" if src else "high up"
    land = dst.group(2) if dst else "the ground"
    on = "in" if dst and dst.group(1).lower() in ("into", "in") else "on"
    return [f"{s} {high}, about to {v}", f"{s} coming loose{' from ' + src.group(1) if src else ''}",
            f"{s} {ing(v)}{' from ' + src.group(1) if src else ''}", f"{s} {ing(v)}, high above {land}",
            f"{s} halfway down to {land}", f"{s} just above {land}", f"{s} landing {on} {land}", f"{s} {on} {land}"]


def tumble(s: str, v: str, rest: str, person: bool) -> list[str] | None:
    """'a boy falls off his skateboard': wobbles, loses balance, tumbles, gets up."""
    m = re.match(r"(?:off|from)\s+((?:%s)\s+.+)$" % _DET, rest, re.I)
    if v not in ("fall", "tumble", "slip", "topple") or not m or not person:
        return None
    what = m.group(1)
    return [f"{s} on {what}", f"{s} wobbling on {what}", f"{s} losing balance on {what}", f"{s} tipping off {what}",
            f"{s} falling off {what}", f"{s} tumbling to the ground beside {what}", f"{s} on the ground beside {what}",
            f"{s} getting up beside {what}"]


def land(s: str, v: str, rest: str) -> Stages | None:
    """'a butterfly lands on a flower': comes in over it, touches down, rests there."""
    m = re.match(r"(on|onto|in|at)\s+(.+)$", rest, re.I)
    if v != "land" or not m:
        return None
    place, at = m.group(2), m.group(1).lower().replace("onto", "on")
    return ranked([f"{s} high above {place}", f"{s} coming down toward {place}", f"{s} nearing {place}",
                   f"{s} just above {place}", f"{s} about to land {at} {place}", f"{s} landing {at} {place}",
                   f"{s} settling {at} {place}", f"{s} resting {at} {place}"], [3, 1, 6, 4, 7, 0, 5, 2])


# ---------------------------------------------------------------------- states by degrees
# What hangs in the air and covers a place: staged by how thick it is and how much it hides.
VEILS = {"fog", "mist", "smoke", "steam", "haze", "cloud", "clouds", "shadow", "shadows", "darkness", "dust", "smog"}
THINNING = {"part", "clear", "lift", "thin", "disperse", "break", "dissipate", "fade", "vanish", "melt", "disappear",
            "evaporate", "go", "retreat", "recede", "dissolve"}
_THICKNESS = {"thin", "thick", "dense", "heavy", "light", "low", "white", "grey", "gray", "the", "a", "an", "some"}


def veil(s: str, head: str, v: str, rest: str, transitive: bool) -> list[str] | None:
    """'fog rolls over the hills': a wisp, thin fog, part of the hills covered, the hills hidden."""
    if head.lower() not in VEILS or transitive:
        return None
    kind = " ".join(w for w in s.split() if w.lower() not in _THICKNESS) or head
    kind = kind[:1].lower() + kind[1:]
    g = ing(v)
    if v in THINNING:  # "the clouds part", "fog lifts from a valley": thick, then thinning, then gone
        tail = re.sub(r"^from\b", "over", rest, flags=re.I)
        tail = f" {tail}" if tail else ""
        return [f"thick {kind}{tail}", f"{kind} about to {v} {rest}".rstrip(), f"{kind} beginning to {v} {rest}".rstrip(),
                f"{kind} thinning{tail}", f"gaps opening in the {kind}{tail}", f"{kind} mostly {participle(v)}{tail}",
                f"only wisps of {kind} left{tail}", f"the last wisps of {kind} fading{tail}"]
    m = re.match(r"(over|across|into|through|around|along|down|in|on|onto|across|above)\s+((?:%s)\s+.+)$" % _DET,
                 rest, re.I)
    if not m:  # "smoke rises from a chimney": how much, not what it covers
        tail = f" {rest}" if rest else ""
        return [f"a wisp of {kind} about to {v}{tail}", f"a wisp of {kind} beginning to {v}{tail}",
                f"thin {kind} {g}{tail}", f"{kind} {g}{tail}", f"{kind} {g} steadily{tail}",
                f"thicker {kind} {g}{tail}", f"thick {kind} {g}{tail}", f"dense {kind} {g}{tail}"]
    prep, place = m.group(1), m.group(2)
    core = re.split(r"\s+(?:at|in|on|under|during|with)\s+", place, maxsplit=1)
    spot, when = core[0], (f" {place[len(core[0]):].strip()}" if len(core) > 1 else "")
    return [f"a wisp of {kind} about to {v} {prep} {place}", f"thin {kind} beginning to {v} {prep} {place}",
            f"thin {kind} {g} {prep} {place}", f"{kind} {g} {prep} part of {spot}{when}",
            f"{kind} covering half of {spot}{when}", f"thick {kind} covering most of {spot}{when}",
            f"{spot} almost hidden under thick {kind}{when}", f"{spot} hidden under thick {kind}{when}"]


CHANGE_TO = {"turn", "go", "become", "get", "grow"}


def becomes(s: str, v: str, rest: str) -> list[str] | None:
    """'the roofs turn white', 'the sky goes dark': a little, half, mostly, all."""
    words = rest.split()
    if v in ("die", "burn", "go") and words[:1] in (["down"], ["out"]) and s.split()[-1].lower() in (
            "fire", "campfire", "bonfire", "flames", "embers", "fireplace"):  # "the fire dies down"
        t = f" {' '.join(words[1:])}" if words[1:] else ""
        end = re.match(r"\s+(?:in)?to\s+(.+)$", t)  # "burns down to ashes": ashes only at the end
        t, last = ("", f"{s}, only {end.group(1)} left") if end else (t, f"{s} out{t}, a wisp of smoke rising")
        return [f"{s} burning brightly{t}", f"{s} beginning to {v} {words[0]}{t}", f"{s} lower{t}", f"{s} smaller{t}",
                f"{s} low{t}", f"{s} mostly embers{t}", f"{s} only glowing embers{t}", last]
    switched = _one_by_one(s, v, words)
    if switched:
        return switched
    tide = v in ("go", "come") and words[:1] in (["out"], ["in"]) and s.split()[-1].lower() in ("tide", "water", "sea")
    asleep = v == "fall" and words[:1] in (["asleep"], ["silent"], ["quiet"], ["still"])
    if not (tide or asleep) and (v not in CHANGE_TO or not words or "ADJ" not in lemmas(words[0]) or
                                 "NOUN" in lemmas(words[0]) and words[0].lower() not in COLOURS | FEELINGS):
        return None
    adj, tail = words[0], " ".join(words[1:])
    tail = f" {tail}" if tail else ""
    if adj.lower().endswith("er") and adj.lower() != getLemma(adj.lower(), "ADJ")[0]:  # "grows bigger"
        return [f"{s} about to {v} {adj}{tail}", f"{s} beginning to {v} {adj}{tail}", f"{s} {ing(v)} {adj}{tail}",
                f"{s} slightly {adj}{tail}", f"{s} {adj}{tail}", f"{s} much {adj}{tail}", f"{s} far {adj}{tail}",
                f"{s} many times {adj}{tail}"]
    if asleep and adj.lower() == "asleep":
        return [f"{s} about to fall asleep{tail}", f"{s} getting drowsy{tail}", f"{s} yawning{tail}",
                f"{s} with heavy eyelids{tail}", f"{s} nodding off{tail}", f"{s} dozing{tail}", f"{s} falling asleep{tail}",
                f"{s} fast asleep{tail}"]
    if tide:
        adj = "in" if adj.lower() == "in" else "out"
        return [f"{s} about to {v} {adj}{tail}", f"{s} beginning to {v} {adj}{tail}", f"{s} a little way {adj}{tail}",
                f"{s} partly {adj}{tail}", f"{s} half {adj}{tail}", f"{s} mostly {adj}{tail}",
                f"{s} almost all the way {adj}{tail}", f"{s} all the way {adj}{tail}"]
    return [f"{s} about to {v} {adj}{tail}", f"{s} beginning to {v} {adj}{tail}", f"{s} a little {adj}{tail}",
            f"{s} partly {adj}{tail}", f"{s} half {adj}{tail}", f"{s} mostly {adj}{tail}",
            f"{s} almost all {adj}{tail}", f"{s} all {adj}{tail}"]


# Places full of lights that light up bit by bit.
LIT = {"skyline", "city", "town", "village", "street", "house", "building", "tower", "bridge", "harbor", "harbour",
       "stadium", "tree", "window", "windows", "square", "boulevard", "avenue", "pier", "port"}


def _one_by_one(s: str, v: str, words: list[str]) -> list[str] | None:
    """'the streetlights turn on', 'candles go out': many things, one after another."""
    if v == "light" and words[:1] == ["up"] and not _plural(s) and s.split()[-1].lower() in LIT:  # "the skyline lights up"
        tail = " ".join(words[1:])
        tail = f" {tail}" if tail else ""
        return [f"{s} dark{tail}", f"{s} with the first lights coming on{tail}", f"{s} with a few lights on{tail}",
                f"{s} with more lights on{tail}", f"{s} half lit{tail}", f"{s} mostly lit{tail}", f"{s} almost fully lit{tail}",
                f"{s} fully lit{tail}"]
    if v not in ("turn", "switch", "come", "go", "flick", "blink") or words[:1] not in (["on"], ["off"], ["out"]) \
            or not _plural(s) or s.split()[0].lower() in ("a", "an"):
        return None
    state, tail = {"up": "lit", "on": "on"}.get(words[0].lower(), words[0].lower()), " ".join(words[1:])
    tail = re.sub(r"^one\s+(?:by|after)\s+(?:one|another)\s*", "", tail)
    tail = f" {tail}" if tail else ""
    things, before = the(s), "off" if state in ("on", "lit") else "on"
    return [f"{things} all {before}{tail}", f"the first of {things} {state}{tail}",
            f"a few of {things} {state}{tail}", f"about a third of {things} {state}{tail}",
            f"about half of {things} {state}{tail}", f"most of {things} {state}{tail}",
            f"all but a few of {things} {state}{tail}", f"all of {things} {state}{tail}"]





# The weather around a state comes on by degrees: "a cat watches the rain" while the rain grows.
_AMBIENT = {"rain": ["the first drops of", "light", "gentle", "steady", "heavier", "heavy", "pouring", "streaming"],
            "snow": ["the first flakes of", "light", "gentle", "steady", "heavier", "heavy", "thick", "deep"],
            "fog": ["the first wisps of", "thin", "light", "drifting", "thickening", "thick", "dense", "heavy"],
            "wind": ["a first breath of", "light", "gentle", "steady", "stronger", "strong", "gusting", "howling"]}
_AMBIENT.update(mist=_AMBIENT["fog"], haze=_AMBIENT["fog"], drizzle=_AMBIENT["rain"], storm=_AMBIENT["wind"],
                smoke=_AMBIENT["fog"], steam=_AMBIENT["fog"])


def thickening(text: str) -> list[str] | None:
    """'a cat watching the rain through a window': the same state while the rain (fog, snow,
    wind) it names comes on from faint to heavy, so no two frames are the same picture."""
    m = re.search(r"\b(?:(the|a|an|some)\s+)?(%s)\b" % "|".join(_AMBIENT), text, re.I)
    if not m:
        return None
    det = "the " if m.group(1) and m.group(1).lower() == "the" else ""
    return [f"{text[:m.start()]}{x if ' of' in x else det + x} {m.group(2)}{text[m.end():]}"
            for x in _AMBIENT[m.group(2).lower()]]


def emerge(s: str, v: str, rest: str) -> list[str] | None:
    """'a butterfly emerges from a cocoon', 'a pizza comes out of an oven': out bit by bit."""
    m = re.match(r"(?:out\s+of|out\s+from|from)\s+((?:%s)\s+.+)$" % _DET, rest, re.I)
    if v not in ("emerge", "come", "crawl", "climb", "hatch", "peek", "poke", "slide") or not m or \
            (v == "come" and not rest.lower().startswith("out")):
        return None
    src, way = m.group(1), rest[: m.start(1)].strip()
    return [f"{s} inside {src}", f"{s} just visible inside {src}", f"{s} at the opening of {src}",
            f"{s} starting to {v} {way} {src}", f"{s} halfway out of {src}", f"{s} almost out of {src}",
            f"{s} just out of {src}", f"{s} beside {src}"]


def appear(s: str, v: str, rest: str) -> list[str] | None:
    """'a rainbow appears over the hills': faint, then clearer, then bright."""
    if v not in ("appear", "emerge", "form", "show") or (v == "show" and not rest.lower().startswith("up")):
        return None
    tail = re.sub(r"^up\b\s*", "", rest, flags=re.I) if v == "show" else rest
    tail = f" {tail}" if tail else ""
    return [f"{s} about to {v}{tail}", f"{s} beginning to {v}{tail}", f"{s} faintly visible{tail}",
            f"{s} partly visible{tail}", f"{s} half visible{tail}", f"{s} clearly visible{tail}",
            f"{s} fully visible{tail}", f"{s} bright and clear{tail}"]


def easing(s: str, v: str, rest: str) -> list[str] | None:
    """'the rain stops', 'the wind dies down': lighter, then gone."""
    words = rest.lower().split()
    if not (v in ("stop", "end", "cease") or (v in ("let", "die", "ease") and words[:1] in (["up"], ["down"], ["off"]))):
        return None
    tail = " ".join(rest.split()[1:] if v in ("let", "die", "ease") else rest.split())
    tail = f" {tail}" if tail else ""
    kind = re.sub(r"^(?:the|a|an)\s+", "", s, flags=re.I)  # "only a little rain left", never "a little the rain"
    kind = kind[:1].lower() + kind[1:] if kind.split()[0].lower() in ("rain", "snow", "wind", "hail", "fog") else s
    return [f"{s} falling{tail}", f"{s} beginning to ease{tail}", f"{s} easing{tail}", f"lighter {kind}{tail}",
            f"only a little {kind} left{tail}", f"the last drops of {kind}{tail}", f"{s} about to stop{tail}",
            f"{s} stopped{tail}"]


def arrive(s: str, v: str, rest: str) -> list[str] | None:
    """'a train arrives at a busy station': far off, nearing, pulling in, stopped there."""
    m = re.match(r"(?:at|in|into|on)\s+((?:%s)\s+.+)$" % _DET, rest, re.I)
    if v not in ("arrive", "pull", "come") or not m or (v in ("pull", "come") and not rest.lower().startswith("into")):
        return None
    place = m.group(1)
    return [f"{s} far off, heading for {place}", f"{s} approaching {place}", f"{s} nearing {place}",
            f"{s} slowing down near {place}", f"{s} pulling into {place}", f"{s} coming to a stop at {place}",
            f"{s} stopped at {place}", f"{s} standing at {place}"]


def storm(s: str, head: str, v: str, rest: str) -> list[str] | None:
    """'a storm rolls in over the ocean': far off, closer, overhead."""
    if head.lower() not in ("storm", "thunderstorm", "blizzard", "hurricane") or \
            v not in ("roll", "come", "move", "approach", "gather", "brew", "build", "sweep", "blow", "arrive"):
        return None
    tail = re.sub(r"^(?:in|up)\b\s*", "", rest, flags=re.I)
    tail = f" {tail}" if tail else ""
    return [f"{s} far off on the horizon{tail}", f"{s} about to roll in{tail}", f"{s} beginning to roll in{tail}",
            f"{s} rolling in{tail}, the sky darkening", f"{s} closer{tail}, dark clouds spreading",
            f"{s} nearly overhead{tail}", f"{s} overhead{tail}, wind and rain lashing down", f"{s} raging{tail}"]


# ------------------------------------------------------------------------ open activities
# An activity with no end or product ("dances in the rain") cannot be drawn as "harder" or "halfway
# through": its frames change by what can be seen, the setting going on (rain heavier, sun lower)
# and the body's positions while it goes on.
SETTINGS = {
    "rain": ("in a light drizzle", "in the rain", "in heavier rain", "in pouring rain"),
    "snow": ("as the first snowflakes fall", "in the falling snow", "in thicker falling snow", "in a flurry of snow"),
    "sunset": ("in the late afternoon sun", "as the sun sets", "at sunset, the sun touching the horizon",
               "at dusk, the sun gone below the horizon"),
    "sunrise": ("before sunrise, the sky pale", "as the sun rises", "at sunrise, the sun just above the horizon",
                "in the early morning sun"),
    "dusk": ("in the evening light", "at dusk", "at dusk, the light fading", "as night falls"),
    "wind": ("in a light breeze", "in the wind", "in a stronger wind", "in gusts of wind"),
}
SETTING_WORDS = {"rain": "rain", "sunset": "sunset", "sundown": "sunset", "sunrise": "sunrise",
                 "dawn": "sunrise", "dusk": "dusk", "twilight": "dusk", "wind": "wind", "breeze": "wind"}
POSES = {
    "dance": ("stepping side to side", "spinning around", "with arms raised high", "in mid-twirl"),
    "laugh": ("smiling widely", "laughing, head thrown back", "doubled over with laughter", "wiping away tears of laughter"),
    "giggle": ("smiling", "giggling, hands over the mouth", "grinning", "giggling, eyes squeezed shut"),
    "sing": ("taking a breath", "singing, arms open wide", "singing, eyes closed", "holding a long note"),
    "play": ("running around", "darting back and forth", "jumping up", "tumbling on the ground"),  # one may play alone
    "talk": ("listening closely", "talking, hands gesturing", "leaning in close", "laughing together"),
    "chat": ("listening closely", "chatting, hands gesturing", "leaning in close", "laughing together"),
    "jog": ("starting off at an easy pace", "jogging, arms swinging", "jogging past, breathing hard", "slowing to a walk"),
    "clap": ("with hands raised", "clapping, hands overhead", "clapping, smiling", "clapping, arms outstretched"),
    "cheer": ("raising the arms", "cheering, arms up", "cheering, jumping", "cheering, fists in the air"),
    "cry": ("with a trembling lip", "with tears running down", "sobbing into both hands", "wiping away tears"),
    "splash": ("stepping into the water", "kicking up water", "splashing, water spraying up", "soaked, splashing"),
    "frolic": ("running", "leaping", "rolling over", "bounding along"),
}
SHAKES = ("shaking its head", "shaking its whole body, water spraying from its fur", "with its fur sticking out",
          "fluffed up and nearly dry")


def _setting(tail: str) -> tuple[str, tuple[str, ...]] | None:
    """The setting phrase in `tail` that can go on visibly ('in the rain', 'at sunset'), and its stages."""
    m = re.search(r"\s(?:in|at|during)\s+(?:the\s+|a\s+)?(?:(?:light|heavy|pouring|evening|morning|summer|"
                  r"warm|cold|gentle)\s+)?(%s)\b" % "|".join(SETTING_WORDS), tail, re.I)
    return (m.group(0), SETTINGS[SETTING_WORDS[m.group(1).lower()]]) if m else None


def open_activity(s: str, v: str, rest: str) -> list[str] | None:
    """'a woman dances in the rain', 'a dog shakes off water': beats that can be drawn (positions of
    the body, the rain growing heavier), never 'harder than ever' or 'halfway through dancing'."""
    tail = f" {rest}" if rest else ""
    drops = r"^\s(?:(?:off\s+)?(?:the\s+)?water(?:\s+(?:off|from)\s+(?:its|his|her|their)\s+\w+)?|(?:itself\s+)?(?:off|dry))\b"
    shake = v == "shake" and re.match(drops, tail, re.I)
    poses = SHAKES if shake else POSES.get(v)
    setting = _setting(tail)
    if poses is None and setting is None:
        return None
    g = ing(v)
    if shake:
        tail = re.sub(drops, "", tail, flags=re.I)
    where = [tail.replace(setting[0], f" {x}") for x in setting[1]] if setting else [tail] * 4
    if poses is None:  # "walks her dog in the rain": "steadily walking her dog", never "walking steadily her dog"
        steady = f"{s} steadily {g}" if tail.split()[0].lower() not in PREPOSITIONS else f"{s} {g} steadily"
        return [f"{s} about to {v}{where[0]}", f"{s} beginning to {v}{where[0]}", f"{s} {g}{where[0]}",
                f"{s} {g}{where[1]}", f"{s} {g}{where[2]}", f"{steady}{where[2]}", f"{s} {g}{where[3]}",
                f"{steady}{where[3]}"]
    soaked = f"{s} dripping wet{tail}" if shake else f"{s} about to {v}{where[0]}"
    pose = [re.sub(r"^\s\w+ly\b", "", w) for w in where]  # "dances slowly": "spinning around", not "... slowly"

    def posed(p: str, w: str) -> str:  # "singing, eyes closed" after the place: "at sunset, singing, eyes closed"
        return f"{s}{w}, {p}" if "," in p and w else f"{s} {p}{w}"

    # never "shaking, shaking its head": a dog nearly dry shakes its head once more
    again = (f"nearly dry{pose[3]}, {poses[0]}" if shake else poses[0]) if poses[0].startswith(g) else f"{g}, {poses[0]}"
    last = f"{s} {g}{where[3]}" if setting else f"{s} {again}" + ("" if shake else pose[3])
    return [soaked, f"{s} beginning to {v}{where[0]}", f"{s} {g}{where[1]}", posed(poses[0], pose[1]),
            posed(poses[1], pose[2]), posed(poses[2], pose[2]), posed(poses[3], pose[3]), last]


# A still scene's light or rain, in eight steps (snow or wind in a still scene may be lying or calm: left alone).
STILL = {
    "sunrise": ("in the dark before dawn", "before sunrise, the sky pale", "at first light", "as the sun rises",
                "at sunrise, the sun touching the horizon", "at sunrise, the sun just above the horizon",
                "in the early morning sun", "in the bright morning sun"),
    "sunset": ("in the late afternoon sun", "in the golden evening light", "as the sun sets", "at sunset, the sun low",
               "at sunset, the sun touching the horizon", "at sunset, the sun half gone",
               "at dusk, the sun gone below the horizon", "at dusk, the sky darkening"),
    "dusk": ("in the evening light", "in the fading evening light", "at dusk", "at dusk, the light fading",
             "at dusk, the sky deep blue", "as night falls", "at nightfall, the first stars out", "at night"),
    "rain": ("under grey clouds", "as the first raindrops fall", "in a light drizzle", "in the rain", "in steady rain",
             "in heavier rain", "in pouring rain", "in a downpour"),
}


def still_setting(text: str) -> list[str] | None:
    """'a quiet lake at dawn': a still scene whose words name a light or rain that goes on; the
    light grows (or the rain comes down) while the framing stays steady."""
    setting = _setting(f" {text}")
    kind = SETTING_WORDS[setting[0].split()[-1].lower()] if setting else None
    if kind not in STILL:
        return None
    spaced = f" {text}"
    if not spaced.rstrip(" .").endswith(setting[0]):  # "at dawn with mist over the water": the light goes last
        scene = spaced.replace(setting[0], "", 1).strip()
        return [f"{scene}, {x}" for x in STILL[kind]]
    return [spaced.replace(setting[0], f" {x}").strip() for x in STILL[kind]]
