"""Everyday verbs of the built-in writer that no staging of offline_actions.py fitted (they fell
through to the generic "about to / beginning to / in the middle of" ladder, which an image model
draws eight times the same). Each verb family is staged by what can be SEEN to change: the hole
getting deeper, the bacon browning, the batter going smooth, the glasses raised and clinked.
Each builder returns the texts in story order, or None when the words do not fit it;
`everyday` tries them in turn (offline._on_object calls it first).
"""

from __future__ import annotations

import re

from .offline_actions import _DET, Stages, _article, _plural, consume, propel, ranked, roam, split_object, the, where
from .offline_grammar import PEOPLE, ing, participle

# ---------------------------------------------------------------------- a hole made bit by bit
# "digs under the snow", "pecks at a tree trunk": nothing names a product, but a hole is what
# is seen to grow; diggers end half inside it, peckers and drills beside it.
DIG = {"dig": "in", "burrow": "in", "tunnel": "in", "paw": "at", "peck": "at", "drill": "at", "bore": "at"}
# What flies up from the hole, by the stuff dug in.
_SPOIL = {"snow": "snow", "sand": "sand", "beach": "sand", "dune": "sand", "wood": "wood chips", "tree": "wood chips",
          "trunk": "wood chips", "log": "wood chips", "bark": "wood chips", "branch": "wood chips", "wall": "dust",
          "ice": "ice chips", "mud": "mud", "rock": "dust", "stone": "dust", "concrete": "dust"}


def _dug(s: str, v: str, tail: str, stuff: str, person: bool) -> list[str]:
    """A dig with no place of its own ('digs for treasure on the beach'): the hole in the sand."""
    spoil, doing = stuff[4:], f"{s} {ing(v)}{tail}"
    return [f"{s} about to {v}{tail}", f"{s} beginning to {v}{tail}", f"{doing}, {spoil} flying up",
            f"{doing}, a small hole in {stuff}", f"{doing}, the hole in {stuff} getting deeper",
            f"{doing}, a deep hole in {stuff}, {spoil} piling up",
            f"{s} beside a deep hole in {stuff}{tail}" if person else f"{s} halfway into a deep hole in {stuff}{tail}",
            f"{s} looking into a deep hole in {stuff}{tail}"]


def dig(s: str, v: str, rest: str, person: bool) -> list[str] | None:
    """'a fox digs under the snow for a mouse', 'a woodpecker pecks at a tree trunk': the hole
    a small dip, deeper, deep; what is dug flying up."""
    m = re.match(r"(under|in|into|at|through|beneath|on)\s+(?=%s\s)(.+)$" % _DET, rest, re.I)
    parts = split_object(m.group(2)) if m else None
    if v not in DIG or (not parts and rest and not re.match(r"(?:for|with|up)\b", rest, re.I)):
        return None  # "digs a hole" makes a hole (offline_actions.incremental): only the intransitive here
    if not parts:  # "digs for treasure on the beach": the hole is in what the place is made of
        stuff = next((x for k, x in (("beach", "the sand"), ("sand", "the sand"), ("snow", "the snow")) if k in rest.lower()),
                     "the ground")
        return _dug(s, v, f" {rest}" if rest else "", stuff, person)
    prep, (np, after) = m.group(1).lower(), parts
    spot = the(np)
    spoil = next((x for k, x in _SPOIL.items() if k in spot.split()[-1].lower()), "dirt")
    # under a fence the hole is under it; under the snow (a stuff dug in) the hole is in it
    below = prep in ("under", "beneath") and spot.split()[-1].lower() not in ("snow", "sand", "mud", "ice", "dirt", "soil",
                                                                              "ground", "leaves", "earth")
    doing, hole = f"{s} {ing(v)} {prep} {np}{after}", f"{'under' if below else 'in'} {spot}"
    # an animal ends half inside its hole; a person with a shovel, a woodpecker or a drill beside it
    deep = f"{s} halfway into a deep hole {hole}{after}" if DIG[v] == "in" and not person else \
        f"{s} beside a deep hole {hole}{after}"
    start = f"{s} sniffing at {np}{after}" if DIG[v] == "in" and not person else f"{s} about to {v} {prep} {np}{after}"
    return [start, f"{s} beginning to {v} {prep} {np}{after}", f"{doing}, {spoil} flying up",
            f"{doing}, a small hole {hole}", f"{doing}, the hole {hole} getting deeper",
            f"{doing}, a deep hole {hole}, {spoil} piling up", deep, f"{s} looking into a deep hole {hole}{after}"]


# ---------------------------------------------------------------------- a toast
def toast(s: str, v: str, rest: str) -> list[str] | None:
    """'two friends toast with glasses of wine at dinner', 'a man toasts the bride': glasses
    raised, brought together, clinked, sipped from."""
    m = re.match(r"(?:with\s+)?((?:%s\s+)?(?:[\w'-]+\s+)?(?:glasses|glass|cups|mugs|flutes|drinks|beers|bottles)\b"
                 r"(?:\s+of\s+[\w'-]+)?)(.*)$" % _DET, rest, re.I)
    if v not in ("toast", "clink") or (v == "clink" and not m):
        return None
    to, where = "", ""
    if m:
        glasses, where = m.group(1), m.group(2)
    else:  # "toasts the bride", "toast the new year": a glass raised to them
        if rest and not (split_object(rest) or rest.lower().startswith(("at ", "in ", "on ", "to "))):
            return None
        drink = re.search(r"\s+with\s+(?:some\s+)?(champagne|wine|beer|prosecco|whiskey|juice|cider|sake|coffee)\b", rest, re.I)
        rest = rest.replace(drink.group(0), "") if drink else rest  # "toasts their victory with champagne": glasses of it
        whom = split_object(rest) if rest and not rest.lower().startswith(("at ", "in ", "on ")) else None
        glasses = "glasses" if _plural(s) or re.match(r"(?:two|three|four|friends|a couple|a group|the team|a team|the "
                                                      r"family|a family|the guests|guests|everyone)\b", s, re.I) else "a glass"
        glasses += f" of {drink.group(1).lower()}" if drink else ""
        to, where = (f" to {re.sub(r'^to ', '', whom[0])}", whom[1]) if whom else ("", f" {rest}" if rest else "")
    many = bool(re.search(r"(?:[^s]s|glasses)$", glasses.split(" of ")[0]))  # "glasses" reads as one pair of specs
    lift = f"their {glasses}" if many and not re.match(_DET + r"\s", glasses, re.I) and (
        _plural(s) or re.match(r"(?:two|three|a couple|the team|the family)\b", s, re.I)) else glasses
    if not many:  # one glass: raised to someone, no clinking
        return [f"{s} standing with {glasses}{where}", f"{s} lifting {glasses}{where}", f"{s} raising {glasses}{to}{where}",
                f"{s} holding {glasses} high{to}{where}", f"{s} smiling, {glasses} raised{to}{where}",
                f"{s} sipping from {glasses}{where}", f"{s} lowering {glasses}{where}", f"{s} smiling{where}"]
    return [f"{s} holding {glasses}{where}", f"{s} lifting {lift}{where}", f"{s} raising {lift} high{to}{where}",
            f"{s} bringing {lift} together{where}", f"{s} clinking {lift}{where}", f"{s} sipping from {lift}{where}",
            f"{s} smiling, lowering {lift}{where}", f"{s} smiling, {glasses} in hand{where}"]


# ---------------------------------------------------------------------- fishing
def cast_line(s: str, v: str, rest: str) -> Stages | None:
    """'a fisherman casts his line into a lake at dawn': the rod swung back, the line arcing out,
    the lure landing, the line in the water (a net or a stone is thrown: offline_actions.propel)."""
    parts = split_object(rest)
    if v != "cast" or not parts or not re.search(r"\b(?:line|rod|lure|bait|hook|fly|reel)\b", parts[0], re.I):
        return None
    obj, tail = parts
    water = re.match(r"\s+(?:into|in|onto|on|across|over|out\s+into)\s+((?:%s)\s+[\w'-]+)(.*)$" % _DET, tail, re.I)
    aboard = re.match(r"\s+(?:from|off)\s+((?:%s)\s+[\w'-]+)(.*)$" % _DET, tail, re.I)  # "off a pier": on the pier
    at = f" by {water.group(1)}{water.group(2)}" if water else tail  # "into a lake at dawn": by the lake at dawn
    if aboard and not water:
        on = "in" if re.search(r"\b(?:boat|canoe|kayak|dinghy|rowboat)$", aboard.group(1), re.I) else "on"
        at = f" {on} {aboard.group(1)}{aboard.group(2)}"
    texts = [f"{s} holding a fishing rod{at}", f"{s} swinging the rod back{at}", f"{s} casting {obj}{tail}",
             f"{s} watching the line arc out over the water{at}", f"{s} watching the lure land in the water{at}",
             f"{s} holding the rod, the line in the water{at}", f"{s} waiting, the line taut in the water{at}",
             f"{s} reeling in the line{at}"]
    return ranked(texts, [0, 3, 1, 4, 5, 2, 6, 7])


# ---------------------------------------------------------------------- cooking by heat
# Food over heat browns: seen as sizzling, browning, golden, then lifted off the heat.
COOK = {"fry": "fried", "grill": "grilled", "roast": "roasted", "sear": "seared", "toast": "toasted",
        "barbecue": "grilled", "broil": "broiled", "brown": "browned", "char": "charred", "pan-fry": "fried"}
# What is toasted by heat; anything else toasted is drunk to ("toasts the bride").
_TOASTED = (r"(?:bread|toast|bagels?|buns?|marshmallows?|sandwich(?:es)?|muffins?|waffles?|nuts|almonds|seeds|tortillas?|"
            r"slices?(?:\s+of\s+\w+)?|croissants?|pitas?|baguette|crumpets?|english\s+muffins?)")
_HEAT = r"(?:pan|skillet|griddle|wok|grill|barbecue|bbq|campfire|fire|stove|oven|toaster|flame|flames|coals|hotplate)"


def cook(s: str, v: str, rest: str) -> list[str] | None:
    """'a man fries bacon in a skillet', 'a father grills burgers in the backyard': the food
    sizzles, browns, is turned over, golden brown, then lifted off the heat."""
    parts = split_object(rest)
    if v not in COOK or not parts or v == "toast" and not re.search(r"\b%s$" % _TOASTED, parts[0], re.I):
        return None  # "toasts their victory", "toasts the bride": a toast with glasses
    obj, after = parts
    it, doing = the(obj), f"{s} {ing(v)} {obj}{after}"
    heat = re.search(r"\b(in|on|over|under)\s+((?:%s)\s+(?:[\w'-]+\s+)?%s)\b" % (_DET, _HEAT), after, re.I)
    off = {"in": "out of", "on": "off", "over": "away from", "under": "out from under"}
    end = f"{s} lifting {it} {off[heat.group(1).lower()]} {the(heat.group(2))}, {COOK[v]} golden brown" if heat else \
        f"{s} beside {it}, {COOK[v]} golden brown{after}"
    sizzle = "starting to warm" if v == "toast" else "starting to sizzle"
    # what is in a pan or on a grill is turned over; a roast in the oven is looked at
    turn = f"{s} checking {it}{after}" if v in ("roast", "broil") else \
        f"{s} turning {it}{after}" if after.lower().startswith(" over") else f"{s} turning {it} over{after}"
    return [f"{s} about to {v} {obj}{after}", f"{doing}, {it} {sizzle}", f"{doing}, {it} beginning to brown", turn, f"{doing}, {it} lightly browned", f"{doing}, {it} golden at the edges",
            f"{doing}, {it} golden brown", end]


# ---------------------------------------------------------------------- mixing and working a mixture
# What the mixture looks like on the way: kneaded dough grows smooth, whisked eggs froth,
# stirred batter loses its lumps.
TEXTURE = {
    "knead": ("a rough lump", "shaggy and sticky", "coming together", "smoother", "smooth and elastic"),
    "whisk": ("starting to froth", "a little frothy", "frothy", "foamy", "thick and foamy"),
    "mix": ("lumpy and streaked", "lumpy", "half mixed", "nearly smooth", "smooth"),
}
TEXTURE.update(whip=TEXTURE["whisk"], beat=TEXTURE["whisk"], froth=TEXTURE["whisk"], steam=TEXTURE["whisk"],
               stir=TEXTURE["mix"], blend=TEXTURE["mix"], combine=TEXTURE["mix"], work=TEXTURE["knead"])
_MIXTURES = ("dough", "batter", "eggs", "egg", "cream", "milk", "whites", "mixture", "butter", "sugar", "flour",
             "paint", "cement", "mortar", "smoothie", "sauce", "dressing", "ingredients", "clay", "yolks", "frosting",
             "icing", "soup", "porridge", "oatmeal", "risotto", "stew", "coffee", "tea", "pot", "bowl", "cocktail",
             "chocolate", "cocoa", "latte", "drink", "juice", "lemonade", "broth", "curry", "chili", "gravy", "punch")
# Stirring a pot does not change how it looks: the spoon's way round it does.
_STIRRED = ("soup", "porridge", "oatmeal", "risotto", "stew", "coffee", "tea", "pot", "sauce", "cocktail", "pan",
            "chocolate", "cocoa", "latte", "drink", "juice", "lemonade", "broth", "curry", "chili", "gravy", "punch")


def mix(s: str, v: str, rest: str) -> list[str] | None:
    """'a girl whisks eggs in a bowl', 'a baker kneads dough', 'a barista steams milk': the
    mixture's look from first to last; 'stirs a pot of soup': the spoon going round."""
    parts = split_object(re.sub(r"^(?:up|together)\s+", "", rest, flags=re.I))
    if v not in TEXTURE or not parts or not re.search(r"\b(?:%s)\b" % "|".join(_MIXTURES), parts[0], re.I):
        return None  # "beats a drum", "steams a shirt": no mixture
    obj, after = parts
    it, doing = the(obj), f"{s} {ing(v)} {obj}{after}"
    if v == "stir" and re.search(r"\b(?:%s)\b" % "|".join(_STIRRED), obj, re.I):
        inside = the(obj.split(" of ", 1)[1]) if " of " in obj else it  # "a pot of soup": the soup swirls
        tool = re.search(r"\s+with\s+((?:%s\s+)?(?:[\w'-]+\s+)?(?:spoon|ladle|whisk|stick|spatula|straw))\b" % _DET,
                         after, re.I)  # "with a wooden spoon": that spoon, named once
        spoon, after = (tool.group(1), after.replace(tool.group(0), "")) if tool else ("a spoon", after)
        it, doing = the(spoon), f"{s} stirring {obj}{after}"
        return [f"{s} about to stir {obj}{after}", f"{s} dipping {spoon} into {obj}{after}",
                f"{doing}, {it} at one side", f"{doing}, {it} going round", f"{doing}, {inside} swirling",
                f"{doing}, {inside} swirling around {it}", f"{s} lifting {it} out of {obj}{after}",
                f"{s} tapping {it} on the edge of {the(obj.split(' of ')[0])}{after}" if " of " in obj else
                f"{s} setting {it} down beside {obj}{after}"]
    looks = TEXTURE[v]
    if v in ("whisk", "whip", "beat") and re.search(r"\b(?:cream|whites)\b", obj, re.I):
        looks = ("starting to froth", "frothy", "thickening", "holding soft peaks", "holding stiff peaks")
    return [f"{s} about to {v} {obj}{after}", f"{s} beginning to {v} {obj}{after}"] + [
        f"{doing}, {it} {x}" for x in looks] + [f"{s} beside {it}{after}, {looks[-1]}"]


# ---------------------------------------------------------------------- spreading over a surface
COVER = {"spread", "sprinkle", "drizzle", "smear", "scatter", "grate", "shake", "squeeze", "squirt", "dust", "pour",
         "brush", "rub", "dab", "paint", "slather"}


def cover_with(s: str, v: str, rest: str) -> list[str] | None:
    """'spreads butter on a slice of toast', 'grates cheese over a plate of pasta': the surface
    a little, half, mostly, then all covered."""
    m = re.match(r"((?:%s\s+)?(?:[\w'-]+\s+){0,2}?[\w'-]+)\s+(on|onto|over|across|all\s+over)\s+((?:(?:%s)\s+)?[\w'-]+"
                 r"(?:\s+of\s+[\w'-]+|\s+[\w'-]+(?=$|\s+(?:in|at|on|for|with)\b))?)(.*)$" % (_DET, _DET), rest, re.I)
    if v in COVER | {"season", "coat", "top", "glaze", "baste", "salt", "butter", "dust"} and not m:
        return _covered_with(s, v, rest)  # "seasons a steak with salt and pepper": the surface first
    if v not in COVER or not m or re.match(_DET + r"\s", m.group(1), re.I) and v in ("brush", "paint", "rub", "dust") or \
            re.match(r"(?:a|an|one)\s", m.group(1), re.I):
        return None  # "paints a mural on a wall" makes a mural; "squeezes a lime over": no lime covers it
    stuff, on, np, after = m.group(1), m.group(2).lower(), m.group(3), m.group(4)
    what = re.sub(r"^(?:some|a\s+little|the)\s+", "", stuff, flags=re.I)  # "covered in butter", not "in some butter"
    surface, doing = the(np), f"{s} {ing(v)} {stuff} {on} {np}{after}"
    return [f"{s} about to {v} {stuff} {on} {np}{after}", f"{s} beginning to {v} {stuff} {on} {np}{after}"] + [
        f"{doing}, {surface} {x} covered in {what}" for x in ("barely", "partly", "half", "mostly", "almost all")] + [
        f"{s} beside {surface} covered in {what}{after}"]


def _covered_with(s: str, v: str, rest: str) -> list[str] | None:
    """'seasons a steak with salt and pepper', 'sprinkles a cake with sugar': as cover_with, the
    surface named first."""
    m = re.match(r"((?:%s)\s+(?:[\w'-]+\s+){0,2}?[\w'-]+(?:\s+of\s+[\w'-]+)?)\s+with\s+(.+?)"
                 r"((?:\s+(?:in|at|on|for|before|after)\s+.+)?)$" % _DET, rest, re.I)
    if not m:
        return None
    np, stuff, after = m.group(1), m.group(2), m.group(3)
    what = re.sub(r"^(?:some|a\s+little|the)\s+", "", stuff, flags=re.I)
    surface, doing = the(np), f"{s} {ing(v)} {np} with {stuff}{after}"
    return [f"{s} beside {np}{after}", f"{s} beginning to {v} {np} with {stuff}{after}"] + [
        f"{doing}, {surface} {x} covered in {what}" for x in ("barely", "partly", "half", "mostly", "almost all")] + [
        f"{s} beside {surface} covered in {what}{after}"]


# ---------------------------------------------------------------------- drinking from a source
_VESSELS = r"(?:bottle|cup|glass|mug|can|flask|canteen|jug|bowl|straw|carton|coconut|fountain|hose|tap|faucet)"


def drink_from(s: str, v: str, rest: str, person: bool) -> list[str] | None:
    """'a horse drinks from a trough': offline_actions.consume's walk up to the water, head down,
    lapping; 'a boy drinks from a bottle': the bottle empties."""
    m = re.match(r"(?:from|out\s+of)\s+((?:%s)\s+.+)$" % _DET, rest, re.I)
    if v not in ("drink", "sip", "lap", "slurp", "gulp") or not m:
        return None
    parts = split_object(m.group(1))
    held = parts and re.search(r"\b%s$" % _VESSELS, parts[0].split(" of ")[0], re.I)
    if held and " of " in parts[0]:  # "a bowl of milk": an animal laps the milk up, a person empties the bowl
        vessel, milk = parts[0].split(" of ", 1)
        return consume(s, "drink", m.group(1) if person else f"{milk} from {vessel}{parts[1]}")
    if held and not re.search(r"\b(?:fountain|hose|tap|faucet)$", parts[0], re.I):  # "a water bottle": it empties
        b, after = parts
        it = the(b)
        return [f"{s} lifting {b}{after}", f"{s} taking a first sip from {b}{after}"] + [
            f"{s} drinking from {b}{after}, {it} {x}" for x in ("nearly full", "half empty", "mostly empty",
                                                                "nearly empty")] + [
            f"{s} finishing the last drops from {b}{after}", f"{s} holding {_article('empty', it[4:])}{after}"]
    return None if person else consume(s, "drink", f"water from {m.group(1)}")  # "lowering its head": animals


# ---------------------------------------------------------------------- taking: steps, photos, bites
def take(s: str, v: str, rest: str) -> list[str] | None:
    """'takes her first steps toward her father' is a walk toward him (offline_actions.where);
    'takes a photo of the sunset' is a photograph; 'takes a bite of an apple' is eating it."""
    steps = re.match(r"(?:(?:%s)\s+)?(?:first\s+|few\s+|small\s+|wobbly\s+|shaky\s+|tiny\s+)*steps?\b\s*(.*)$" % _DET,
                     rest, re.I)
    if v != "take":
        return None
    if steps and (not steps.group(1) or re.match(r"(?:in|on|at)\s", steps.group(1), re.I)):
        return _first_steps(s, f" {steps.group(1)}" if steps.group(1) else "")
    if steps:
        return where(s, "walk", steps.group(1), True) or _path_like(s, steps.group(1))
    selfie = re.match(r"(?:a|another)\s+(?:quick\s+)?selfie\b(.*)$", rest, re.I)
    if selfie:  # the subject is what is photographed: the phone held out at arm's length
        at = selfie.group(1)
        return [f"{s} taking out a phone{at}", f"{s} holding up a phone at arm's length{at}",
                f"{s} smiling at a phone held at arm's length{at}", f"{s} posing, a phone held up{at}",
                f"{s} pressing the shutter on a phone held up{at}", f"{s} lowering the phone{at}",
                f"{s} looking at the selfie on the phone{at}", f"{s} smiling at the selfie on the phone{at}"]
    bite = re.match(r"(?:a|another)\s+(?:big\s+|small\s+)?(bite|sip|drink|gulp)\s+(?:of|from)\s+(.+)$", rest, re.I)
    if bite:
        return consume(s, "eat" if bite.group(1).lower() == "bite" else "drink", bite.group(2))
    return photograph(s, "photograph", re.sub(r"^(?:a|an|some)\s+(?:quick\s+)?(?:photo|picture|photograph|snapshot|"
                                              r"selfie|pic)s?\s+(?:of\s+)?", "", rest, flags=re.I), rest)


def _first_steps(s: str, at: str) -> list[str]:
    """'a baby takes her first steps (in the living room)': standing, letting go, a step, a few."""
    return [f"{s} standing{at}, holding on", f"{s} letting go{at}, arms out", f"{s} lifting a foot{at}, wobbling",
            f"{s} taking a first wobbly step{at}", f"{s} taking a second step{at}, arms out",
            f"{s} a few steps forward{at}, wobbling", f"{s} walking a few steps forward{at}",
            f"{s} standing steady{at}, a few steps from the start"]


def _path_like(s: str, way: str) -> list[str] | None:
    """'takes his first steps across the room': from one side of the room into it and across
    (offline_actions.roam)."""
    return roam(s, "walk", re.sub(r"^(?:across|along)\s+", "through ", way, flags=re.I), True)


# What is photographed or filmed: the camera raised, the shot framed, taken, looked at.
def photograph(s: str, v: str, rest: str, said: str | None = None) -> list[str] | None:
    """'a photographer takes a photo of the sunset', 'a tourist photographs the Eiffel Tower'."""
    if v not in ("photograph", "film", "snap", "shoot", "record") or said == rest or not rest:
        return None  # "takes a walk", "takes the bus": no photo
    if v == "shoot" and not re.search(r"\b(?:photo|picture|video|film)", rest, re.I):
        return None  # "shoots an arrow": offline_actions.propel
    parts = split_object(rest)
    if not parts:
        return None
    what, after = parts
    camera = "a phone" if re.search(r"\bphone\b", said or "", re.I) else "a camera"
    # "a bird in a tree": the place is the bird's, said only where the bird is named
    return [f"{s} looking at {what}{after}", f"{s} raising {camera} toward {what}{after}",
            f"{s} framing {what}{after} with {camera}", f"{s} holding {camera} steady, aimed at {what}{after}",
            f"{s} pressing the shutter, {camera} aimed at {what}{after}", f"{s} lowering {the(camera)}",
            f"{s} looking at the photo on {the(camera)}", f"{s} smiling at the photo of {what}{after}"]


# ---------------------------------------------------------------------- playing an instrument
INSTRUMENTS = {"guitar", "piano", "violin", "cello", "drums", "drum", "flute", "saxophone", "sax", "trumpet", "ukulele",
               "harp", "bass", "keyboard", "accordion", "clarinet", "banjo", "harmonica", "trombone", "fiddle", "organ",
               "bagpipes", "tuba", "viola", "mandolin", "xylophone", "tambourine", "bongos"}
# How a player of each kind is drawn: hands on the keys, bow on the strings...
_PLAYING = {"keys": ("fingers resting on the keys", "fingers moving over the keys", "hands crossing over the keys",
                     "leaning into the keys, eyes closed", "hands lifted from the keys at the last note"),
            "strings": ("fingers on the strings", "strumming, head nodding", "fingers sliding up the neck",
                        "eyes closed", "the last chord ringing, hand lifted"),
            "bow": ("the bow resting on the strings", "drawing the bow across the strings", "swaying with the bow",
                    "eyes closed", "the bow lifted at the last note"),
            "drums": ("sticks raised", "sticks a blur", "hitting the cymbal", "head nodding",
                      "sticks lifted at the last beat"),
            "wind": ("lifting {it} to the lips", "cheeks full", "leaning back on a high note", "eyes closed",
                     "lowering {it} after the last note")}
_KIND = {"piano": "keys", "keyboard": "keys", "organ": "keys", "accordion": "keys", "xylophone": "drums",
         "violin": "bow", "cello": "bow", "viola": "bow", "fiddle": "bow", "drums": "drums", "drum": "drums",
         "bongos": "drums", "tambourine": "drums", "flute": "wind", "saxophone": "wind", "sax": "wind",
         "trumpet": "wind", "clarinet": "wind", "harmonica": "wind", "trombone": "wind", "tuba": "wind",
         "bagpipes": "wind"}


def play_music(s: str, v: str, rest: str) -> list[str] | None:
    """'a girl plays the piano in the living room', 'a street musician plays the guitar':
    drawable beats of playing (offline_actions.POSES's 'play' is children at play)."""
    parts = split_object(rest)
    if v != "play" or not parts or parts[0].split()[-1].lower() not in INSTRUMENTS:
        return None
    obj, after = parts
    kind = _KIND.get(obj.split()[-1].lower(), "strings")
    beats, doing = [b.format(it=the(obj)) for b in _PLAYING[kind]], f"{s} playing {obj}{after}"
    seated = kind in ("keys", "drums")  # at the piano, at the drums; a guitar is held
    at = f"{s} at {obj}{after}" if seated else f"{s} holding {obj}{after}"
    return [f"{s} sitting down at {obj}{after}" if seated else f"{s} picking up {obj}{after}", f"{at}, {beats[0]}",
            f"{s} beginning to play {obj}{after}", f"{doing}, {beats[1]}", f"{doing}, {beats[2]}", doing,
            f"{doing}, {beats[3]}", f"{at}, {beats[4]}"]


# ---------------------------------------------------------------------- lifting by height
# Lifters that lift with a hook or forks, not arms: off the ground and high, never overhead.
MACHINES = {"crane", "forklift", "helicopter", "excavator", "digger", "robot", "winch", "hoist", "elevator", "magnet"}
def lift(s: str, v: str, rest: str) -> list[str] | None:
    """'a weightlifter lifts a heavy barbell': gripped, to the knees, the chest, overhead;
    'a crane lifts a steel beam': off the ground, higher, high in the air."""
    parts = split_object(re.sub(r"^up\s+", "", rest, flags=re.I))
    if v not in ("lift", "raise", "hoist", "heave") or not parts or re.search(r"\b(?:glass|glasses|hand|hands|arm|arms|"
                                                                          r"toast|flag|sail|eyebrow|voice)\b", parts[0], re.I):
        return None  # "raises a glass": toast; "raises her hand": a gesture
    obj, after = parts
    it = the(obj)
    onto = re.match(r"\s+(?:onto|into|on)\s+((?:%s)\s+[\w'-]+)(.*)$" % _DET, after, re.I)
    if onto and s.split()[-1].lower() not in MACHINES:  # "lifts a box onto a truck": up, over to it, set down on it
        place, when = onto.group(1), onto.group(2)
        return [f"{s} bending down, gripping {obj}{when}", f"{s} lifting {it} off the ground{when}",
                f"{s} lifting {it} to the waist{when}", f"{s} lifting {it} to the chest{when}",
                f"{s} carrying {it} toward {place}{when}", f"{s} raising {it} up to {place}{when}",
                f"{s} setting {it} down on {place}{when}", f"{s} beside {it} on {place}{when}"]
    if s.split()[-1].lower() not in MACHINES:
        return [f"{s} standing over {obj}{after}", f"{s} bending down, gripping {obj}{after}",
                f"{s} lifting {it} off the ground{after}", f"{s} lifting {it} to the knees{after}",
                f"{s} lifting {it} to the waist{after}", f"{s} lifting {it} to the chest{after}",
                f"{s} pushing {it} overhead{after}", f"{s} holding {it} high overhead{after}"]
    if s.split()[-1].lower() in ("forklift", "excavator", "digger", "loader", "tractor"):  # forks or a bucket, not a hook
        return [f"{s} in front of {obj}{after}", f"{s} sliding its forks under {obj}{after}",
                f"{s} lifting {it}, just off the ground{after}", f"{s} lifting {it} a few feet up{after}",
                f"{s} lifting {it} higher{after}", f"{s} carrying {it} raised high{after}",
                f"{s} lowering {it}{after}", f"{s} backing away from {it}{after}"]
    return [f"{s} above {obj} on the ground{after}", f"{s} lowering a hook to {obj}{after}",
            f"{s} lifting {it}, just off the ground{after}", f"{s} lifting {it} a few feet up{after}",
            f"{s} lifting {it} higher{after}", f"{s} lifting {it} high above the ground{after}",
            f"{s} swinging {it} through the air{after}", f"{s} holding {it} high in the air{after}"]


# ---------------------------------------------------------------------- changing one thing for another
_ROOMS = {"kitchen", "room", "bathroom", "bedroom", "hallway", "hall", "garage", "office", "house", "barn", "shop",
          "basement", "attic", "yard", "garden", "street", "driveway", "workshop", "studio", "classroom", "apartment"}


def replace_it(s: str, v: str, rest: str) -> list[str] | None:
    """'a mechanic changes a tire on a car', 'a dad changes a light bulb': the old one off, the new
    one on (never 'the tire half changed')."""
    parts = split_object(rest)
    if v not in ("change", "replace", "swap") or not parts or re.match(r"\s*(?:into|to|from)\b", parts[1], re.I) or \
            re.search(r"'s\b|^(?:his|her|their|its|my)\s+(?!(?:\w+\s+)?(?:tire|tyre|wheel|bulb))", parts[0], re.I) or \
            parts[0].split()[-1].lower() in ("color", "colour", "shape", "mind", "clothes", "direction", "channel", "oil",
                                             "water", "fluid", "subject", "topic", "plan", "plans", "lanes", "course"):
        return None  # "changes into a butterfly", "changes color": offline._changed
    obj, after = parts
    if " of " in obj:  # "the wheel of his bike": the wheel is changed, on the bike
        obj, after = obj.split(" of ", 1)[0], f" on {obj.split(' of ', 1)[1]}{after}"
    thing = the(obj)[4:]
    wheel = re.search(r"\b(?:tire|tyre|wheel)\b", thing)  # a wheel comes off and goes on; a bulb comes out and goes in
    out, into = ("off", "on") if wheel else ("out", "in")
    holder = re.match(r"\s+(?:on|of|in)\s+((?:%s)\s+[\w'-]+)(.*)$" % _DET, after, re.I)  # "on a car": the tire's
    if holder and holder.group(1).split()[-1].lower() in _ROOMS:
        holder = None  # "in the kitchen": where it all happens, not what holds the bulb
    scene = holder.group(2) if holder else after
    took, put = (f"taking the old {thing} {out} of {the(holder.group(1))}" if out == "out" else
                 f"taking the old {thing} off {the(holder.group(1))}", f"putting the new {thing} {into} {the(holder.group(1))}") \
        if holder else (f"taking {out} the old {thing}", f"putting {into} the new {thing}")
    bulb = re.search(r"\b(?:bulb|lamp|light)\b", thing)
    end = f"{s} stepping back, the new {thing} glowing{scene}" if bulb else f"{s} stepping back from the new {thing}{after}"
    new = f"new {thing}" if _plural(obj) else _article("new", thing)
    return [f"{s} kneeling by {obj}{after}" if wheel else f"{s} looking at {obj}{after}",
            f"{s} loosening the old {thing}{after}" if wheel or bulb else f"{s} reaching for the old {thing}{after}",
            f"{s} {took}{scene}", f"{s} setting the old {thing} aside{scene}", f"{s} picking up {new}{scene}",
            f"{s} {put}{scene}", f"{s} tightening the new {thing}{after}" if wheel or bulb else
            f"{s} pressing the new {thing} into place{after}", end]


# ---------------------------------------------------------------------- small handwork
def crack_egg(s: str, v: str, rest: str) -> list[str] | None:
    """'a woman cracks an egg into a hot pan': tapped on the edge, split open, the egg sliding in."""
    m = re.match(r"((?:%s)\s+(?:[\w'-]+\s+)?eggs?)\s+(?:into|in|over|on)\s+((?:%s)\s+.+)$" % (_DET, _DET), rest, re.I)
    if v not in ("crack", "break") or not m:
        return None
    egg, into = m.group(1), m.group(2)
    it, rim = the(egg), the(re.split(r"\s+(?:in|at|on|for)\s+", into)[0])
    shell, yolk = ("shells", "yolks") if _plural(egg) else ("shell", "yolk")
    hot = re.search(r"\b(?:pan|skillet|griddle|wok)\b", into, re.I)  # in a hot pan it sizzles; in a bowl it waits
    return [f"{s} holding {egg} over {into}", f"{s} tapping {it} on the edge of {rim}",
            f"{s} holding {it}, a crack in the {shell}", f"{s} pulling the {shell} apart over {into}",
            f"{s} watching {it} slide into {into}", f"{s} holding the empty {shell} over {into}",
            f"{s} beside {into}, the {yolk} whole", f"{s} beside {into}, {it} sizzling" if hot else
            f"{s} setting down the empty {shell} beside {into}"]


def tie(s: str, v: str, rest: str) -> list[str] | None:
    """'a girl ties a ribbon on a gift box', 'a boy ties his shoelaces': the ends crossed, looped,
    pulled tight into a bow or a knot."""
    parts = split_object(rest)
    if v not in ("tie", "knot", "lace") or not parts or re.search(r"\bup\b", rest.split()[0], re.I):
        return None  # "ties up a boat": no bow
    obj, after = parts
    it = the(obj)
    post = re.match(r"\s+(?:to|around|onto)\s+((?:%s)\s+[\w'-]+)(.*)$" % _DET, after, re.I)
    if post:  # "ties a rope to the dock": around it, through, pulled tight, tied there
        place, when = post.group(1), post.group(2)
        return [f"{s} holding {it} by {place}{when}", f"{s} looping {it} around {place}{when}",
                f"{s} wrapping {it} twice around {place}{when}", f"{s} pulling the end of {it} through{when}",
                f"{s} tying {obj} to {place}{when}, a knot taking shape", f"{s} pulling the knot tight{when}",
                f"{s} tugging {it} to test the knot{when}", f"{s} beside {it} tied to {place}{when}"]
    bow = "a bow" if re.search(r"\b(?:ribbon|ribbons|bow|shoelaces?|laces|shoes?|sneakers|boots?|apron|scarf|bows)\b",
                               obj, re.I) else "a knot"
    shoes = re.search(r"\b(?:shoes?|sneakers?|boots?|trainers|skates?|cleats)$", obj, re.I)  # their laces are tied
    ends = f"the laces of {it}" if shoes else f"the ends of {it}" if not _plural(obj) else it
    return [f"{s} holding {ends}{after}", f"{s} crossing {ends}{after}", f"{s} looping {ends}{after}",
            f"{s} pulling a loop through{after}", f"{s} tying {obj}{after}, {bow} taking shape",
            f"{s} pulling {bow} tight{after}", f"{s} straightening {bow}{after}",
            f"{s} letting go, {it} tied in {bow}{after}"]


def coin_toss(s: str, v: str, rest: str) -> list[str] | None:
    """'a girl flips a coin': on the thumb, spinning up, at the top, falling, caught, looked at
    (a pancake in a pan: offline_actions.flip)."""
    parts = split_object(rest)
    if v not in ("flip", "toss", "spin") or not parts or not re.search(r"\bcoins?\b", parts[0], re.I) or \
            re.match(r"\s+(?:into|at|to|toward|towards|across|over|in)\s", parts[1], re.I):
        return None  # "tosses a coin into a fountain": a throw (offline_actions.propel)
    obj, after = parts
    it = the(obj)
    return [f"{s} holding {obj} on the thumb{after}", f"{s} flicking {it} up with the thumb{after}",
            f"{s} watching {it} spin up into the air{after}", f"{s} watching {it} spinning at the top{after}",
            f"{s} watching {it} fall, spinning{after}", f"{s} catching {it}{after}",
            f"{s} slapping {it} onto the back of the hand{after}", f"{s} lifting the hand to look at {it}{after}"]


def light_small(s: str, v: str, rest: str) -> list[str] | None:
    """'a man lights a candle on the table': a match struck, held to the wick, a flame that
    steadies and glows (a campfire blazes: offline_actions.kindle)."""
    parts = split_object(rest)
    if v not in ("light", "kindle") or not parts or not re.search(r"\b(?:candle|lantern|lamp|wick|incense|cigarette|"
                                                                 r"sparkler|stove|burner|match)\b", parts[0], re.I) \
            or _plural(parts[0]):  # many candles: one by one (offline_actions.incremental)
        return None
    obj, after = parts
    it = the(obj)
    return [f"{s} beside {_article('unlit', it[4:])}{after}", f"{s} striking a match beside {obj}{after}",
            f"{s} holding a lit match to {it}{after}", f"{s} holding a match to {it}, a tiny flame catching{after}",
            f"{s} shaking out the match, {it} lit{after}", f"{s} beside {it}, its flame flickering{after}",
            f"{s} beside {it}, its flame steady{after}", f"{s} beside {it}, its flame glowing warmly{after}"]


def feed_one(s: str, v: str, rest: str) -> list[str] | None:
    """'a little girl feeds a goat at a petting zoo': one animal comes up and eats from the hand
    (a flock gathers round: offline_actions.feed)."""
    given = re.match(r"((?:%s\s+)?(?:[\w'-]+\s+)?[\w'-]+)\s+to\s+(.+)$" % _DET, rest, re.I)  # "a carrot to a horse"
    parts = split_object(given.group(2) if given else rest)
    if v != "feed" or not parts or _plural(parts[0]) or not re.match(r"(?:a|an|the|her|his|their)\s", parts[0], re.I):
        return None
    obj, after = parts
    it, food = the(obj), given.group(1) if given else "food"
    if given:  # the food held out, the animal comes and takes it
        bite = the(food)
        return [f"{s} holding out {food} to {obj}{after}", f"{s} holding out {bite}, {it} looking up{after}",
                f"{s} holding out {bite}, {it} coming closer{after}", f"{s} holding out {bite}, {it} sniffing {bite}{after}",
                f"{s} feeding {bite} to {obj}{after}, {it} taking a first bite", f"{s} feeding {bite} to {obj}{after}, "
                f"{it} chewing", f"{s} holding out the last of {bite} to {obj}{after}", f"{s} smiling, {it} chewing{after}"]
    if it.split()[-1].lower() in PEOPLE:  # a baby is fed with a spoon, not from the hand
        return [f"{s} holding out a spoon to {obj}{after}", f"{s} holding out a spoon, {it} opening wide{after}",
                f"{s} feeding {obj}{after}, {it} taking a first bite", f"{s} feeding {obj}{after}, {it} chewing",
                f"{s} filling the spoon from a bowl", f"{s} feeding {obj}{after}, {it} taking a big bite",
                f"{s} scraping the last bits from the bowl", f"{s} wiping the mouth of {it}{after}"]
    return [f"{s} holding out food to {obj}{after}", f"{s} holding out food, {it} looking up{after}",
            f"{s} holding out food, {it} coming closer{after}", f"{s} holding out food, {it} sniffing the hand{after}",
            f"{s} feeding {obj}{after}, {it} taking a first bite", f"{s} feeding {obj}{after}, {it} eating from the hand",
            f"{s} feeding {obj}{after}, {it} eating the last bits", f"{s} smiling, {it} licking the empty hand{after}"]


# ---------------------------------------------------------------------- sports
def swing_at(s: str, v: str, rest: str) -> Stages | None:
    """'a golfer swings at a golf ball': a hit (offline_actions.propel): lined up, wound up,
    struck, the ball flying off."""
    m = re.match(r"at\s+((?:%s)\s+.+)$" % _DET, rest, re.I)
    if v not in ("swing", "take") or not m or not re.search(r"(?:ball|puck|shuttlecock|pinata|piñata)\b", rest, re.I):
        return None
    return propel(s, "hit", m.group(1))


def score(s: str, v: str, rest: str) -> list[str] | None:
    """'a soccer player scores a goal': running at the goal, shooting, the ball in the net, the
    celebration."""
    m = re.match(r"(?:a|the|his|her|their|another)\s+(?:winning\s+|last-minute\s+|late\s+|first\s+)?(goal|basket|"
                 r"touchdown|try|point)\b(.*)$", rest, re.I)
    if v not in ("score", "make", "kick", "shoot") or not m or (v != "score" and m.group(1).lower() != "basket"):
        return None
    kind, after = m.group(1).lower(), m.group(2)
    aim = {"goal": "the goal", "basket": "the hoop", "touchdown": "the end zone", "try": "the try line",
           "point": "the goal"}[kind]
    ball = "the ball"
    into = {"goal": f"{ball} hit the back of the net", "basket": f"{ball} drop through the hoop",
            "touchdown": f"crossing into {aim} with {ball}", "try": f"diving over {aim} with {ball}",
            "point": f"{ball} go into {aim}"}[kind]
    return [f"{s} running with {ball} toward {aim}{after}", f"{s} closing in on {aim}{after}",
            f"{s} getting ready to shoot at {aim}{after}" if kind in ("goal", "basket", "point") else
            f"{s} racing toward {aim}{after}", f"{s} shooting {ball} at {aim}{after}" if kind in ("goal", "basket", "point")
            else f"{s} breaking past the last defender{after}", f"{s} watching {ball} fly toward {aim}{after}"
            if kind in ("goal", "basket", "point") else f"{s} reaching {aim}{after}", f"{s} {into}{after}"
            if kind in ("touchdown", "try") else f"{s} watching {into}{after}",
            f"{s} celebrating, arms raised{after}", f"{s} celebrating with teammates{after}"]


# Things struck again and again that swing back rather than fly off.
_STRUCK = r"(?:bag|punching\s+bag|heavy\s+bag|pads?|mitts?|dummy|speed\s+bag|pillow|tire|drum)"


def strike(s: str, v: str, rest: str) -> list[str] | None:
    """'a boxer punches a heavy bag': fists up, a jab, the bag swinging back, a hook, sweat."""
    parts = split_object(rest)
    if v not in ("punch", "hit", "kick", "jab", "strike", "pound") or not parts or \
            not re.search(r"\b%s$" % _STRUCK, parts[0], re.I):
        return None
    obj, after = parts
    it = the(obj)
    blow = "kick" if v == "kick" else "punch"
    return [f"{s} facing {obj}{after}, fists up", f"{s} throwing a first {blow} at {it}{after}",
            f"{s} {ing(v)} {it}{after}, {it} swinging back", f"{s} stepping in as {it} swings back{after}",
            f"{s} throwing a hard {blow} at {it}{after}", f"{s} {ing(v)} {it}{after}, {it} swinging wildly",
            f"{s} {ing(v)} {it} hard{after}, sweating", f"{s} stepping back from {it}{after}, breathing hard"]


# ---------------------------------------------------------------------- errands and chores
def park(s: str, v: str, rest: str) -> list[str] | None:
    """'a man parks his car in a garage': a drive into the garage (offline_actions.where)."""
    m = re.match(r"((?:%s)\s+(?:[\w'-]+\s+)?[\w'-]+)\s+(?:in|into|inside)\s+((?:%s)\s+.+)$" % (_DET, _DET), rest, re.I)
    if v != "park" or not m:
        return None
    return where(s, "drive", f"{m.group(1)} into {m.group(2)}", True)


# Chores "done" by degrees: "does the dishes", "does a jigsaw puzzle" (offline_actions.incremental).
_DONE = r"(?:dishes|laundry|puzzle|crossword|homework|ironing|washing|washing-up|chores)"


def do_chore(s: str, v: str, rest: str) -> list[str] | None:
    parts = split_object(rest)
    if v != "do" or not parts or not re.search(r"\b%s$" % _DONE, parts[0], re.I):
        return None  # "does push-ups", "does a dance": no product
    from .offline_actions import incremental

    return incremental(s, "do", rest)


# Marks left on a thing worked at with teeth or claws.
WEAR = {"chew": "chewed", "gnaw": "gnawed", "nibble": "nibbled", "scratch": "scratched", "claw": "clawed"}


def wear(s: str, v: str, rest: str) -> list[str] | None:
    """'a puppy chews on a shoe', 'a cat scratches a post': a few marks, more, the thing worn ragged."""
    parts = split_object(re.sub(r"^(?:on|at)\s+", "", rest, flags=re.I))
    if v not in WEAR or not parts or re.match(r"(?:its|his|her|their)\s", parts[0], re.I) and v == "scratch" or \
            v in ("chew", "nibble") and not re.match(r"(?:on|at)\s", rest, re.I) and not re.search(
                r"\b(?:bone|shoe|slipper|sock|toy|stick|cable|pencil|rope|ball|cord|chair|leg|boot|sandal|remote)s?\b", rest, re.I):
        return None  # "scratches its ear", "chews grass" (eating: offline_actions.consume): no marks left
    obj, after = parts
    it, mark = the(obj), "tooth marks" if v in ("chew", "gnaw", "nibble") else "scratches"
    doing = f"{s} {ing(v)} {'on' if v in ('chew', 'gnaw', 'nibble') else 'at'} {it}{after}"
    return [f"{s} sniffing at {obj}{after}", f"{s} beginning to {v} {rest}", f"{doing}, a few {mark} on {it}",
            f"{doing}, more {mark} on {it}", f"{doing}, {it} covered in {mark}", f"{doing}, {it} frayed and {WEAR[v]}",
            f"{doing}, {it} ragged", f"{s} beside {it}, {WEAR[v]} ragged{after}"]


def lay_egg(s: str, v: str, rest: str) -> list[str] | None:
    """'a hen lays an egg in a nest': settles, sits, stands up, an egg beneath."""
    m = re.match(r"(?:an|a|one|two|three|her|its|some)\s+(?:[\w'-]+\s+)?(eggs?)\b(.*)$", rest, re.I)
    if v != "lay" or not m:
        return None
    eggs, after = m.group(1).lower(), m.group(2)
    fresh = "a fresh egg" if eggs == "egg" else "fresh eggs"
    nest = re.match(r"\s+(?:in|into|on)\s+((?:%s)\s+[\w'-]+)" % _DET, after, re.I)
    return [f"{s} stepping into {nest.group(1)}" if nest else f"{s} walking up{after}", f"{s} settling down{after}",
            f"{s} sitting still{after}", f"{s} fluffing its feathers{after}", f"{s} shifting, about to stand{after}",
            f"{s} standing up{after}", f"{s} stepping aside{after}, {fresh} beneath", f"{s} beside {fresh}{after}"]


def hail(s: str, v: str, rest: str) -> list[str] | None:
    """'a man hails a taxi on a busy street': arm up, the taxi slowing, pulling over, the door opened."""
    parts = split_object(rest)
    if v not in ("hail", "flag") or not parts or not re.search(r"(?:taxi|cab|bus|car|ride)$", parts[0], re.I):
        return None
    obj, after = parts
    it = the(obj)
    return [f"{s} standing at the curb{after}", f"{s} spotting {obj}{after}", f"{s} raising an arm at {obj}{after}",
            f"{s} waving at {obj}{after}", f"{s} waving as {it} slows down{after}", f"{s} watching {it} pull over{after}",
            f"{s} opening the door of {it}{after}", f"{s} getting into {it}{after}"]


def buy(s: str, v: str, rest: str) -> list[str] | None:
    """'a woman buys flowers at a market stall': looks, points, pays, is handed them, leaves with them."""
    parts = split_object(rest)
    if v not in ("buy", "purchase", "order") or not parts:
        return None
    obj, after = parts
    it = the(obj)
    return [f"{s} looking at {obj}{after}", f"{s} pointing at {obj}{after}", f"{s} asking about {it}{after}",
            f"{s} taking out a wallet{after}", f"{s} paying for {it}{after}", f"{s} being handed {it}{after}",
            f"{s} holding {it}{after}, smiling", f"{s} walking away with {it}"]


def squeeze_into(s: str, v: str, rest: str) -> list[str] | None:
    """'a woman squeezes a lemon into a glass of water': juice dripping in, the fruit squeezed flat."""
    m = re.match(r"((?:%s)\s+(?:[\w'-]+\s+)?[\w'-]+)\s+(?:into|over|onto)\s+((?:%s)\s+.+)$" % (_DET, _DET), rest, re.I)
    if v not in ("squeeze", "press", "juice") or not m:
        return None
    fruit, into = m.group(1), m.group(2)
    it = the(fruit)
    return [f"{s} holding {fruit} over {into}", f"{s} beginning to squeeze {it} over {into}",
            f"{s} squeezing {it}, the first drops of juice falling into {into}",
            f"{s} squeezing {it}, juice dripping into {into}", f"{s} squeezing {it} hard, juice streaming into {into}",
            f"{s} squeezing the last drops from {it} into {into}", f"{s} holding {it} squeezed flat over {into}",
            f"{s} setting down {it} squeezed flat beside {into}"]


def milk(s: str, v: str, rest: str) -> list[str] | None:
    """'a farmer milks a cow in the barn': a bucket under the cow fills."""
    parts = split_object(rest)
    if v != "milk" or not parts:
        return None
    obj, after = parts
    return [f"{s} setting a bucket under {obj}{after}", f"{s} sitting down beside {obj}{after}",
            f"{s} beginning to milk {obj}{after}"] + [
        f"{s} milking {obj}{after}, the bucket {x}" for x in ("a quarter full", "half full", "nearly full")] + [
        f"{s} lifting a full bucket beside {obj}{after}", f"{s} carrying a full bucket away from {the(obj)}{after}"]


# ---------------------------------------------------------------------- more handwork
def sharpen(s: str, v: str, rest: str) -> list[str] | None:
    """'a man sharpens a knife on a stone', 'a girl sharpens her pencil': the edge or point from
    dull to sharp, shavings or sparks on the way."""
    parts = split_object(rest)
    if v not in ("sharpen", "hone", "whet") or not parts:
        return None
    obj, after = parts
    it = the(obj)
    tool = re.match(r"\s+(?:on|with|in|against)\s+(?:%s)\s+(?:[\w'-]+\s+)?(?:stone|whetstone|sharpener|steel|rod|"
                    r"wheel|grinder|strop)\b" % _DET, after, re.I)
    scene = after[tool.end():] if tool else after  # "on a stone" is how; "in the kitchen" where
    point = re.search(r"\b(?:pencil|crayon|stick)s?$", obj, re.I)  # a pencil gets a point; a blade an edge
    edge, bits = ("point", "shavings curling off") if point else ("edge", "the blade sliding along")
    doing = f"{s} sharpening {obj}{after}"
    return [f"{s} holding {obj}{scene}, {it} blunt", f"{s} beginning to sharpen {obj}{after}",
            f"{doing}, {bits}", f"{doing}, {it} a little sharper", f"{doing}, {bits}, {the(edge)} forming",
            f"{doing}, {it} sharper", f"{s} checking the sharp {edge} of {it}{scene}",
            f"{s} holding up {it}{scene}, its {edge} gleaming sharp" if not point else
            f"{s} holding up {it}{scene}, a fine sharp point"]


def zip_up(s: str, v: str, rest: str) -> list[str] | None:
    """'a woman zips up her jacket': the zipper from the bottom to the chin."""
    m = re.match(r"up\s+((?:%s)\s+(?:[\w'-]+\s+)?[\w'-]+)(.*)$" % _DET, rest, re.I)
    if v not in ("zip", "button") or not m:
        return None
    obj, after = m.group(1), m.group(2)
    it, part = the(obj), "the zipper" if v == "zip" else "the buttons"
    if v == "zip" and re.search(r"(?:bag|backpack|suitcase|case|tent|purse|pouch|pencil\s+case|luggage)$", obj, re.I):
        return [f"{s} beside {obj} open{after}", f"{s} pulling {part} of {it}{after}"] + [
            f"{s} zipping up {obj}{after}, {it} {x}" for x in ("a quarter closed", "half closed", "mostly closed",
                                                               "nearly closed")] + [
            f"{s} with {it} zipped shut{after}", f"{s} lifting {it}, zipped shut{after}"]
    if v == "button":
        return [f"{s} with {obj} open{after}"] + [f"{s} buttoning up {obj}{after}, {x} of {part} done" for x in (
            "the first", "a few", "half", "most", "all but one")] + [f"{s} with {it} buttoned up{after}",
                                                                   f"{s} smoothing down {it}{after}"]
    return [f"{s} with {obj} open{after}", f"{s} fitting {part} of {it} together{after}",
            f"{s} zipping up {obj}{after}, {part} at the bottom", f"{s} zipping up {obj}{after}, {part} at the waist",
            f"{s} zipping up {obj}{after}, {part} at the chest", f"{s} zipping up {obj}{after}, {part} at the collar",
            f"{s} with {it} zipped up to the chin{after}", f"{s} pulling up the collar of {it}{after}"]


def uncork(s: str, v: str, rest: str) -> list[str] | None:
    """'a man opens a bottle of champagne': the foil off, the cork eased, popping, foam spilling."""
    m = re.match(r"((?:%s)\s+(?:[\w'-]+\s+)?bottle\s+of\s+(?:[\w'-]+\s+)?(?:champagne|prosecco|wine|sparkling\s+\w+|"
                 r"cava|cider))(.*)$" % _DET, rest, re.I)
    if v not in ("open", "uncork", "pop") or not m:
        return None
    bottle, after = m.group(1), m.group(2)
    it = the(bottle)
    fizz = re.search(r"champagne|prosecco|sparkling|cava|cider", bottle, re.I)
    if not fizz:  # wine: a corkscrew
        return [f"{s} holding {bottle}{after}", f"{s} cutting the foil of {it}{after}",
                f"{s} twisting a corkscrew into the cork of {it}{after}", f"{s} pulling on the corkscrew{after}",
                f"{s} easing the cork out of {it}{after}", f"{s} holding up the cork beside {it}{after}",
                f"{s} pouring from {it} into a glass{after}", f"{s} holding {it} and a full glass{after}"]
    return [f"{s} holding {bottle}{after}", f"{s} peeling the foil off {it}{after}",
            f"{s} twisting the wire off {it}{after}", f"{s} easing the cork of {it} with the thumbs{after}",
            f"{s} popping the cork, the cork flying from {it}{after}", f"{s} holding {it}, foam spilling from the neck{after}",
            f"{s} pouring from {it} into a glass{after}", f"{s} raising {it}, foam on the neck{after}"]


def pounce(s: str, v: str, rest: str) -> list[str] | None:
    """'a cat pounces on a toy mouse': crouched, tail twitching, the leap, landing on it, pinned."""
    m = re.match(r"(?:on|onto|at)\s+((?:%s)\s+.+)$" % _DET, rest, re.I)
    if v not in ("pounce", "spring", "lunge") or not m:
        return None
    prey = m.group(1)
    it = the(re.split(r"\s+(?:in|on|at|under|near|by)\s+", prey)[0])
    return [f"{s} crouching low, eyeing {prey}", f"{s} crouching, tail twitching, eyes on {prey}",
            f"{s} wiggling, about to pounce on {prey}", f"{s} leaping at {prey}", f"{s} in mid-air above {prey}",
            f"{s} landing on {prey}", f"{s} pinning {it} with the front paws", f"{s} holding {it} in the paws"]


def into_pile(s: str, v: str, rest: str) -> list[str] | None:
    """'a woman rakes leaves into a pile': the leaves scattered, a small pile, a big pile (never
    'the pile half raked')."""
    m = re.match(r"((?:%s\s+)?(?:[\w'-]+\s+)?[\w'-]+)\s+into\s+((?:a|an|one|the)\s+(?:[\w'-]+\s+)?(?:pile|heap|mound|"
                 r"stack))(.*)$" % _DET, rest, re.I)
    if v not in ("rake", "sweep", "shovel", "gather", "pile", "scoop", "push") or not m:
        return None
    stuff, pile, after = m.group(1), m.group(2), m.group(3)
    what = re.sub(r"^(?:the|some|all\s+the)\s+", "", stuff, flags=re.I)
    heap = pile.split()[-1]
    doing = f"{s} {ing(v)} {what}{after}"
    return [f"{s} beside scattered {what}{after}", f"{s} beginning to {v} {what}{after}",
            f"{doing}, a small {heap} of {what} started", f"{doing}, the {heap} of {what} growing",
            f"{doing}, the {heap} of {what} knee high",
            f"{doing}, only a few {what} left scattered" if _plural(what) else f"{doing}, only a little {what} left",
            f"{s} beside a big {heap} of {what}{after}", f"{s} leaning on the rake beside a big {heap} of {what}{after}"
            if v == "rake" else f"{s} stepping back from a big {heap} of {what}{after}"]


# Meat is carved into slices, not carved into being (offline_actions.CREATE: "carves a pumpkin").
_MEATS = r"(?:turkey|ham|roast|chicken|beef|brisket|lamb|steak|joint|duck|goose|pork|meat|prime\s+rib)"


def carve_meat(s: str, v: str, rest: str) -> list[str] | None:
    parts = split_object(rest)
    if v != "carve" or not parts or not re.search(r"\b%s$" % _MEATS, parts[0], re.I):
        return None
    obj, after = parts
    it = the(obj)
    return [f"{s} standing over {obj}{after}", f"{s} holding a carving knife over {obj}{after}",
            f"{s} carving the first slice from {it}{after}", f"{s} carving {obj}{after}, a few slices on the platter",
            f"{s} carving {obj}{after}, slices piling up", f"{s} carving {obj}{after}, {it} half carved",
            f"{s} carving the last slices from {it}{after}", f"{s} beside a platter of sliced {it[4:]}{after}"]


# ---------------------------------------------------------------------- the kitchen, again
def roll_out(s: str, v: str, rest: str) -> list[str] | None:
    """'a grandmother rolls out dough for cookies': a ball of dough, flatter, a thin sheet."""
    m = re.match(r"out\s+((?:%s\s+)?(?:[\w'-]+\s+)?(?:dough|pastry|fondant|crust|clay))(.*)$" % _DET, rest, re.I)
    if v not in ("roll", "flatten") or not m:
        return None
    dough, after = m.group(1), m.group(2)
    it = the(dough)
    doing = f"{s} rolling out {dough}{after}"
    return [f"{s} beside a ball of {it[4:]}{after}", f"{s} pressing a rolling pin onto {it}{after}",
            f"{doing}, {it} a thick round", f"{doing}, {it} flatter", f"{doing}, {it} wider and thinner",
            f"{doing}, {it} a wide flat sheet", f"{s} lifting the rolling pin from {it}{after}",
            f"{s} beside {it} rolled out thin{after}"]


def taste(s: str, v: str, rest: str) -> list[str] | None:
    """'a chef tastes the sauce with a spoon': dipped, lifted, blown on, tasted, a nod."""
    parts = split_object(rest)
    if v not in ("taste", "sample") or not parts:
        return None
    obj, after = parts
    tool = re.match(r"\s+(?:with|from)\s+((?:%s)\s+(?:[\w'-]+\s+)?(?:spoon|ladle|fork|finger))\b(.*)$" % _DET, after, re.I)
    spoon, after = (tool.group(1), tool.group(2)) if tool else ("a spoon", after)
    it, sp = the(obj), the(spoon)
    if re.search(r"\b(?:glass|cup|mug|bottle)\b", obj, re.I):  # "tastes a glass of wine": sniffed and sipped
        drink = the(obj.split(" of ", 1)[1]) if " of " in obj else it
        return [f"{s} holding {obj}{after}", f"{s} raising {it} to the light{after}", f"{s} swirling {drink} in {the(obj.split(' of ')[0])}{after}",
                f"{s} sniffing {drink}{after}", f"{s} sipping {drink}{after}", f"{s} pausing, eyes closed, tasting{after}",
                f"{s} nodding, {it} in hand{after}", f"{s} setting down {it}{after}"]
    return [f"{s} leaning over {obj}{after}", f"{s} dipping {spoon} into {it}{after}", f"{s} lifting {sp} from {it}{after}",
            f"{s} blowing on {sp}{after}", f"{s} tasting {it} from {sp}{after}", f"{s} pausing, eyes closed, tasting{after}",
            f"{s} nodding, {sp} in hand{after}", f"{s} smiling over {it}{after}"]


def sell(s: str, v: str, rest: str) -> list[str] | None:
    """'a vendor sells hot dogs from a cart': a customer comes, points, pays, is handed one."""
    parts = split_object(rest)
    if v not in ("sell", "peddle") or not parts or not (_plural(parts[0]) or not re.match(_DET + r"\s", parts[0], re.I)):
        return None  # "sells his car" is no stall
    obj, after = parts
    after = re.sub(r"^\s+from\s", " at ", after)  # "from a cart": at the cart
    what = re.sub(r"^(?:the|some)\s+", "", obj, flags=re.I)
    return [f"{s} with {what}{after}", f"{s} with {what}{after}, a customer walking up", f"{s} talking with a customer{after}",
            f"{s} picking up some of the {what}{after}", f"{s} handing {what} to a customer{after}",
            f"{s} taking money from a customer{after}", f"{s} waving to a customer leaving with {what}{after}",
            f"{s} with {what}{after}, the next customer walking up"]


def everyday(s: str, v: str, rest: str, person: bool) -> list[str] | None:
    """The first of this module's stagings that fits the verb and its words, or None."""
    return dig(s, v, rest, person) or cast_line(s, v, rest) or cook(s, v, rest) or toast(s, v, rest) or mix(s, v, rest) or cover_with(s, v, rest) or \
        drink_from(s, v, rest, person) or take(s, v, rest) or photograph(s, v, rest) or play_music(s, v, rest) or \
        lift(s, v, rest) or replace_it(s, v, rest) or crack_egg(s, v, rest) or tie(s, v, rest) or \
        coin_toss(s, v, rest) or light_small(s, v, rest) or feed_one(s, v, rest) or swing_at(s, v, rest) or \
        score(s, v, rest) or strike(s, v, rest) or park(s, v, rest) or do_chore(s, v, rest) or wear(s, v, rest) or \
        lay_egg(s, v, rest) or hail(s, v, rest) or buy(s, v, rest) or milk(s, v, rest) or squeeze_into(s, v, rest) or \
        sharpen(s, v, rest) or zip_up(s, v, rest) or uncork(s, v, rest) or pounce(s, v, rest) or into_pile(s, v, rest) or \
        carve_meat(s, v, rest) or roll_out(s, v, rest) or taste(s, v, rest) or sell(s, v, rest)
