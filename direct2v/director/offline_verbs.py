"""Everyday verbs of the built-in writer that no staging of offline_actions.py fitted (they fell
through to the generic "about to / beginning to / in the middle of" ladder, which an image model
draws eight times the same). Each verb family is staged by what can be SEEN to change: the hole
getting deeper, the bacon browning, the batter going smooth, the glasses raised and clinked.
Each builder returns the texts in story order, or None when the words do not fit it;
`everyday` tries them in turn (offline._on_object calls it first).
"""

from __future__ import annotations

import re

from .offline_actions import _DET, Stages, _article, _plural, consume, ranked, split_object, the
from .offline_grammar import ing, participle

# ---------------------------------------------------------------------- a hole made bit by bit
# "digs under the snow", "pecks at a tree trunk": nothing names a product, but a hole is what
# is seen to grow; diggers end half inside it, peckers and drills beside it.
DIG = {"dig": "in", "burrow": "in", "tunnel": "in", "paw": "at", "peck": "at", "drill": "at", "bore": "at"}
# What flies up from the hole, by the stuff dug in.
_SPOIL = {"snow": "snow", "sand": "sand", "beach": "sand", "dune": "sand", "wood": "wood chips", "tree": "wood chips",
          "trunk": "wood chips", "log": "wood chips", "bark": "wood chips", "branch": "wood chips", "wall": "dust",
          "ice": "ice chips", "mud": "mud", "rock": "dust", "stone": "dust", "concrete": "dust"}


def dig(s: str, v: str, rest: str, person: bool) -> list[str] | None:
    """'a fox digs under the snow for a mouse', 'a woodpecker pecks at a tree trunk': the hole
    a small dip, deeper, deep; what is dug flying up."""
    m = re.match(r"(under|in|into|at|through|beneath|on)\s+(?=%s\s)(.+)$" % _DET, rest, re.I)
    parts = split_object(m.group(2)) if m else None
    if v not in DIG or (not parts and rest and not re.match(r"(?:for|with|up)\b", rest, re.I)):
        return None  # "digs a hole" makes a hole (offline_actions.incremental): only the intransitive here
    prep, (np, after) = (m.group(1).lower(), parts) if parts else ("in", ("the ground", f" {rest}" if rest else ""))
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
        whom = split_object(rest) if rest and not rest.lower().startswith(("at ", "in ", "on ")) else None
        glasses = "glasses" if _plural(s) or s.lower().startswith(("two ", "friends", "a couple", "a group")) else "a glass"
        to, where = (f" to {re.sub(r'^to ', '', whom[0])}", whom[1]) if whom else ("", f" {rest}" if rest else "")
    many = bool(re.search(r"(?:[^s]s|glasses)$", glasses.split(" of ")[0]))  # "glasses" reads as one pair of specs
    lift = f"their {glasses}" if many and not re.match(_DET + r"\s", glasses, re.I) and (
        _plural(s) or s.lower().startswith(("two ", "a couple"))) else glasses
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
_HEAT = r"(?:pan|skillet|griddle|wok|grill|barbecue|bbq|campfire|fire|stove|oven|toaster|flame|flames|coals|hotplate)"


def cook(s: str, v: str, rest: str) -> list[str] | None:
    """'a man fries bacon in a skillet', 'a father grills burgers in the backyard': the food
    sizzles, browns, is turned over, golden brown, then lifted off the heat."""
    parts = split_object(rest)
    if v not in COOK or not parts or re.search(r"\b(?:glass|glasses|cups|mugs|drinks|bride|groom|couple)\b",
                                               parts[0], re.I):
        return None
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
    m = re.match(r"((?:%s\s+)?(?:[\w'-]+\s+){0,2}?[\w'-]+)\s+(on|onto|over|across|all\s+over)\s+((?:%s)\s+[\w'-]+"
                 r"(?:\s+of\s+[\w'-]+|\s+[\w'-]+(?=$|\s+(?:in|at|on|for|with)\b))?)(.*)$" % (_DET, _DET), rest, re.I)
    if v not in COVER or not m or re.match(_DET + r"\s", m.group(1), re.I) and v in ("brush", "paint", "rub", "dust"):
        return None  # "paints a mural on a wall" makes a mural; "brushes the horse" is no spreading
    stuff, on, np, after = m.group(1), m.group(2).lower(), m.group(3), m.group(4)
    what = re.sub(r"^(?:some|a\s+little|the)\s+", "", stuff, flags=re.I)  # "covered in butter", not "in some butter"
    surface, doing = the(np), f"{s} {ing(v)} {stuff} {on} {np}{after}"
    return [f"{s} about to {v} {stuff} {on} {np}{after}", f"{s} beginning to {v} {stuff} {on} {np}{after}"] + [
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


def everyday(s: str, v: str, rest: str, person: bool) -> list[str] | None:
    """The first of this module's stagings that fits the verb and its words, or None."""
    return dig(s, v, rest, person) or cast_line(s, v, rest) or cook(s, v, rest) or toast(s, v, rest) or mix(s, v, rest) or cover_with(s, v, rest) or \
        drink_from(s, v, rest, person)
