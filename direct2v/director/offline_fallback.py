"""The built-in writer's fallback: how it stages a verb it has no staging of its own for.

An aspect ladder ("about to dig", "in the middle of digging", "right after digging") is one
picture eight times to an image model. Here the frames differ in what is seen, with words true
of any verb: who does it (a person, an animal, a thing) and what the prompt names (an object,
a place, a goal such as "toward her father" or "into a lake") choose the beats. A person
readies, starts, works with the hands, leans in, and looks up from the work; an animal notices,
closes in, is at it with its body, and pauses; a thing starts and is seen at work. A goal
"toward X" is staged by the distance to X. Every frame keeps the subject, the object and the
place; no frame states an end the prompt does not state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .offline_actions import Stages, ranked, split_object
from .offline_grammar import ANIMALS, CHANGE, CREATE_INTO, DETERMINERS, GOING, PEOPLE, ing, is_plural_noun, lemmas, participle

# People the grammar's short PEOPLE list (made for "it"/"she") leaves out: roles and trades
# that everyday prompts start with. A person works with the hands; an animal with its body.
MORE_PEOPLE = set("""adult mechanic plumber photographer guitarist pianist drummer violinist scientist engineer carpenter builder
electrician sculptor tailor barber hairdresser stylist waitress baker butcher cashier clerk librarian priest
granny grandson granddaughter uncle aunt cousin neighbor neighbour guy gal athlete climber swimmer golfer boxer
gymnast coach referee umpire fireman policeman policewoman officer cop detective thief robber vendor merchant
shopkeeper customer tourist traveler traveller passenger commuter grandparent magician clown juggler actor
actress director writer poet reporter journalist programmer developer designer architect surgeon dentist vet
veterinarian patient volunteer lifeguard janitor cleaner housekeeper maid nanny babysitter shepherd cowboy
rancher miner lumberjack potter weaver blacksmith florist monk nun pirate viking warrior hunter archer ninja
samurai wizard witch teenagers toddlers girlfriend boyfriend skaters diver riders dancers runners players
everyone everybody someone somebody crowd audience team fans spectators guests tourists""".split())
# Animals: they notice, close in and do it with the body (paws, nose, wings), never "hands".
BIRDS = set("""bird birds eagle hawk falcon owl parrot pigeon dove crow raven robin sparrow seagull gull duck
goose swan heron stork crane flamingo penguin chicken hen rooster peacock hummingbird woodpecker pelican
kingfisher vulture ostrich turkey""".split())
ANIMAL_HEADS = ANIMALS | BIRDS | set("""foal bull ox piglet fawn hare chipmunk rat raccoon beaver badger hedgehog skunk lioness leopard cheetah
panther jaguar ape gorilla chimpanzee panda koala kangaroo camel llama alpaca donkey mule walrus shark salmon
toad tortoise lizard snake crocodile alligator bee bees butterfly ant ants spider beetle ladybug dragonfly
crab octopus labrador retriever poodle beagle terrier husky dachshund bulldog shepherd kitty moose elk bison
buffalo boar mole""".split())
# A phrase that only sets the scene: where ("in the kitchen", "under the table") or when ("at dawn").
_SCENE = r"(?:in|on|at|by|near|beside|under|inside|behind|over|outside|during|across|along|around)"
_ANCHOR = r"(?:%s\s+(?:(?:the|a|an|his|her|their|its|my|our|your)\s+)?[\w'-]+(?:\s+[\w'-]+){0,3}?|backstage|" \
          r"outdoors|indoors|outside|at\s+(?:dawn|dusk|night|noon|sunset|sunrise|midnight|home|work|school))" % _SCENE
# Heads that make an "on"/"at" phrase right after the verb a place, not what the verb is done to
# ("plays on the beach" vs "knocks on a door").
PLACE_HEADS = set("""beach bus train floor porch street road sidewalk bed couch sofa stage grass lawn field park
kitchen table desk counter roof balcony deck dock pier boat ship plane shore sand snow ice bench step steps
stairs hill mountain bridge platform corner window windowsill dinner lunch breakfast party wedding cafe
restaurant bar desk office home school work night dawn dusk sunset sunrise noon midnight river lake pond
sea ocean station airport mall market supermarket store shop gym library museum zoo church hospital stadium
concert festival fair game match class meeting terminal harbor harbour port garden yard backyard stop gate
entrance farmyard farm barn camp campsite club pub theater theatre cinema""".split())
# Prepositions whose noun the action is done with or on (its object when the verb takes none).
_LINKS = ("out of", "aboard", "with", "through", "on", "at", "to", "around", "into", "onto", "over", "under", "for", "toward", "towards",
          "in", "across", "along", "about", "off", "from", "after")


# Words after an object that say where it goes ("carries it home"): not where it is before.
WHITHER = "home|away|back|inside|outside|indoors|outdoors|upstairs|downstairs|off|out|over|up|down"
_WHITHER = r"^\s*(?:%s)\b" % WHITHER


# Objects that are no thing in the picture to look at, hold or work on: the body's own parts, and
# what is said or done ("whispers a secret", "waves goodbye", "takes her first steps").
NOT_THINGS = set("""back head hand hands arm arms leg legs foot feet tail paw paws wing wings fur hair face eyes
teeth tongue nose ears neck shoulders body belly stomach chest knees fingers toes lips mouth claws horns trunk
whiskers mane moves routine lines lesson homework secret goodbye hello joke story song question answer speech prayer
wish word words lie promise step steps turn break call breath sigh nap look glance bow""".split())


@dataclass
class Parts:
    """The words after the verb, in the parts the beats use."""

    obj: str = ""  # "a tire", "her phone": what the action is done to or with
    link: str = ""  # "" for a direct object, else its preposition ("with", "through", "on")
    core: str = ""  # the verb's own words before the scene ("a tire", "through her phone", "under the snow")
    goal: tuple[str, str] | None = None  # ("toward", "her father"), ("for", "a mouse"), ("into", "a lake")
    scene: str = ""  # where and when, as written: "on the bus", "at dinner", "in a river at dawn"

    @property
    def at(self) -> str:
        """The scene for a frame where the subject is not moving: 'across the ice' -> 'on the ice'."""
        return re.sub(r"^through\b", "in", re.sub(r"^(?:across|along|around)\b", "on", self.scene, flags=re.I),
                      flags=re.I)


def kind(head: str, rest: str) -> str:
    """'person', 'animal' or 'thing' for a subject's head noun; an unknown head with 'his'/'her'
    in its words is a person ("a lifeguard pulls his board")."""
    h = head.lower()
    if h in PEOPLE or h in MORE_PEOPLE or h.rstrip("s") in MORE_PEOPLE:
        return "person"
    if h in ANIMAL_HEADS or h.rstrip("s") in ANIMAL_HEADS:
        return "animal"
    return "person" if re.search(r"\b(?:his|her|their)\b", rest, re.I) else "thing"


def _the(np: str) -> str:
    """A named thing the second time: 'a tire' -> 'the tire'; 'her phone', 'papers' as they are."""
    return re.sub(r"^(?:a|an)\s", "the ", np, flags=re.I)


def parts(rest: str) -> Parts:
    """Split the words after a verb into its object, its goal and the scene."""
    words = rest
    scene = ""
    m = re.search(r"(?:^|\s)(%s(?:\s+%s)*)$" % (_ANCHOR, _ANCHOR), words, re.I)
    if m:
        scene, words = m.group(1).strip(), words[: m.start()].strip()
    if not words and scene:  # "knocks on a door": the first phrase is the verb's own unless it names a place
        first = re.match(r"(on|at|in|around|over|under|across|along)\s+((?:(?:the|a|an|his|her|their|its)\s+)?"
                         r"(?:[\w'-]+\s+){0,3}?([\w'-]+))(?=\s+%s|$)" % _SCENE, scene, re.I)
        prep, noun = first.group(1).lower() if first else "", first.group(3).lower() if first else ""
        # "barks at the mailman", "pecks at corn", "knocks on a door": what the verb is done to, not a place
        if first and (noun not in PLACE_HEADS or prep == "over") and prep != "in":
            words, scene = first.group(0), scene[first.end():].strip()
    out = Parts(core=words, scene=scene)
    goal = re.search(r"(?:^|\s)(toward|towards|for|into|onto|to)\s+((?:(?:%s)\s+)?[\w' -]+)$"
                     % "|".join(sorted(DETERMINERS)), words, re.I)
    if goal:
        out.goal = (goal.group(1).lower(), goal.group(2).strip())
    lead = re.match(r"(%s)\s+(.+)$" % "|".join(_LINKS), words, re.I)
    if lead:
        out.link, body = lead.group(1).lower(), lead.group(2)
        out.obj = (split_object(body) or (body, ""))[0]
        out.obj = re.split(r"\s+(?:toward|towards|for|into|onto|to)\s+", out.obj)[0]
    elif words and _noun_start(words):  # "flies high above the beach", "swings back and forth": no object
        obj = split_object(words)
        out.obj = obj[0] if obj else ""
        bare = re.sub(r"\s+(?:%s)$" % WHITHER, "", out.obj, flags=re.I)  # "the basket home", not "its back"
        out.obj = bare if bare and bare.split()[-1].lower() not in DETERMINERS else out.obj  # "" when no object
    if out.obj and (out.obj.split(" of ")[0].split()[-1].lower() in NOT_THINGS or
                    out.obj.split()[0].lower() in ("itself", "himself", "herself", "themselves", "myself", "each")):
        out.obj = ""  # "raises her hand", "waves goodbye": nothing to hold, look up from or move closer to
    return out


def _telling(texts: list[str], doing: str) -> Stages:
    """The beats with the order to keep them in when frames are few: the doing itself, its start, the
    last beat, the first, then the rest in story order."""
    at = next((i for i, x in enumerate(texts) if x.startswith(doing + " ")), len(texts) // 2)
    start = next((i for i, x in enumerate(texts) if " starting to " in x and i != at), 0)
    keep = [at, start, len(texts) - 1, 0]
    order = list(dict.fromkeys(keep + list(range(len(texts)))))
    return ranked(texts, [order.index(i) for i in range(len(texts))])


def _noun_start(words: str) -> bool:
    """Whether `words` start with a noun phrase (a determiner, or a noun that is no adverb)."""
    first, found = words.split()[0].lower(), lemmas(words.split()[0])
    return first in DETERMINERS or not found or ("ADV" not in found and bool({"NOUN", "ADJ"} & set(found)))


def _plural_subject(s: str) -> bool:
    first = s.split()[0].lower()
    return first in {"two", "three", "four", "five", "several", "many", "some"} or bool(
        re.search(r"\band\b", s)) or is_plural_noun(s.split()[-1])


def _join(*bits: str) -> str:
    return " ".join(b.strip() for b in bits if b and b.strip())


def _comma(text: str, extra: str) -> str:
    return f"{text}, {extra}" if extra else text


_GOALS = r"\s+(?:toward|towards|for|into|onto|to)\s+.*$"




def _after_object(p: Parts) -> str:
    """The verb's words after its object (and its preposition), less a goal ('his grandson to fish',
    'the basket home', 'for a cookie on the counter' -> ' on the counter')."""
    rest = p.core[len(p.link) + 1:].lstrip() if p.link else p.core
    rest = rest[len(p.obj):] if rest.startswith(p.obj) else ""
    return re.sub(_WHITHER, "", re.sub(_GOALS, "", rest, flags=re.I), flags=re.I)


def _on_object(s: str, v: str, p: Parts, doing: str) -> list[str]:
    """'changes a tire on a car': looks at it, starts, the hands at work, leans in, looks up from it."""
    the, at = _the(p.obj), _join(_after_object(p), p.scene)
    alive = kind(p.obj.split(" of ")[0].split()[-1], "") != "thing"  # "examines a patient": smiles at the patient
    return [_join(s, "looking at", p.obj, at), _join(s, "starting to", v, p.core, p.scene),
            _comma(doing, "close on the hands"), _join(s, "leaning in,", ing(v), p.core, p.scene),
            _comma(doing, f"eyes on {the}"), _comma(doing, "smiling"), _join(s, "leaning back, looking at", the, at),
            _join(s, "smiling at", the, at) if alive else _join(s, "looking up from", the, at)]


_HELD = {"with": "{} in hand", "through": "{} in hand", "to": "facing {}", "on": "in front of {}", "at": "in front of {}"}


def _with_thing(s: str, v: str, p: Parts, doing: str) -> list[str]:
    """'toasts with glasses of wine', 'scrolls through her phone', 'knocks on a door', 'proposes to his
    girlfriend': the thing in hand (or in front, or the one faced) before, during and after."""
    own = re.match(r"(?:his|her|their|my|your|our)\s", p.obj, re.I)  # "texts on his phone": a thing of one's own, in hand
    link = "with" if own and p.link in ("on", "at") else "at" if not own and p.link == "through" else p.link
    held, the = _HELD[link].format(p.obj), _the(p.obj)
    front = link in ("on", "at", "to")
    ready = _join(s, p.at, held) if front else _comma(_join(s, p.at), held)
    after = _join(s, "stepping back from", the, p.scene) if link in ("on", "at") else _join(s, "looking up from", the, p.scene) \
        if own else _comma(_join(s, "leaning back", p.at), "smiling" if front else f"{held}, smiling")
    last = _comma(_join(s, "pausing", p.at), f"smiling at {the}" if p.link == "to" else f"looking at {the}")
    return [ready, _join(s, "starting to", v, p.core, p.scene), _comma(doing, "close on the hands"),
            _join(s, "leaning in,", ing(v), p.core, p.scene), _comma(doing, f"eyes on {the}"),
            _comma(doing, "smiling" if p.link in ("with", "to") else "head bent"), after, last]


# Verbs of going the grammar's GOING leaves out: one who goes off, out of or into something ends there.
ON_THE_WAY = {"step", "get", "move", "slide", "roll", "waltz", "dance", "skate", "glide", "march", "stroll", "wander",
              "tiptoe", "limp", "stumble", "scramble", "wriggle", "squeeze", "slip"}
# Where one who goes off, out of or into something is at the end (the prompt says so).
_ENDS = {"off": "beside", "from": "beside", "out of": "outside", "into": "in", "onto": "on", "aboard": "aboard", "in": "in",
         "across": "on the far side of", "along": "at the end of"}


# Doings that are no pleasure: the face does not smile through them.
DISTRESS = {"cry", "sob", "weep", "sneeze", "cough", "scream", "yell", "shout", "shiver", "tremble", "groan", "wince",
            "gasp", "panic", "sniffle", "yawn", "sigh", "argue", "fight", "struggle", "complain"}


def _alone(s: str, v: str, p: Parts, doing: str) -> list[str]:
    """'sneezes', 'whistles on his way to school', 'waves goodbye to his family', 'steps off the train':
    the face and the whole body, no hands at work; one spoken to is faced; one who goes off or into
    something ends there."""
    many = _plural_subject(s) or s.split()[-1].lower() in ("everyone", "everybody", "couple", "pair", "family", "crowd",
                                                            "team", "audience", "group", "band", "choir")
    face, head, body = ("faces", "heads", "bodies") if many else ("face", "head", "body")
    to = re.search(r"\bto\s+((?:his|her|their|its|the|a|an|my|our)\s+[\w' -]+)$", p.core, re.I)  # "waves goodbye to his family"
    ready = _join(s, p.at) if p.scene and not p.core else _join(s, "getting ready to", v, p.core, p.scene)
    if to:
        ready = _join(s, p.scene, "facing", to.group(1))
    end = _ENDS.get(p.link) if p.obj and v in GOING | ON_THE_WAY else None
    still = p.obj and p.link in ("off", "from") and not end  # "fishes off a pier": on it, all along
    if still:
        ready, end = _join(s, "on", p.obj, p.scene), "on"
    last = _comma(_join(s, "pausing on", _the(p.obj), p.scene), "looking out") if still else \
        _join(s, end, _the(p.obj), p.scene) if end else _comma(doing, "almost there") if re.fullmatch(
        WHITHER, p.core, re.I) else _join(s, "smiling at", _the(to.group(1)), p.scene) if to and v not in DISTRESS else \
        _comma(_join(s, "pausing", p.at), "looking up")  # "climbs down", "paddles out"
    feeling = "eyes squeezed shut" if v in DISTRESS else "eyes bright" if v in ("smile", "grin", "beam") else "smiling"
    return [ready, _join(s, "starting to", v, p.core, p.scene), _comma(doing, f"close on the {face}"),
            _comma(doing, "one foot forward" if end and not still else f"the whole {body} in view"),
            _comma(doing, "looking down" if end and not still else feeling), _comma(doing, f"{head} turned to one side"),
            _comma(doing, "taking a breath"), last]


def person_beats(s: str, v: str, p: Parts) -> Stages:
    """A person: readies, starts, works with the hands (or the face and body where nothing is in
    hand), leans in, steps back and looks at what was done."""
    doing = _join(s, ing(v), p.core, p.scene)
    if p.obj and p.link in ("", "for"):  # "reaches for a cookie": looks at it, hands on it, as with an object
        texts = _on_object(s, v, p, doing)
    elif p.obj and p.link in _HELD:
        texts = _with_thing(s, v, p, doing)
    else:
        texts = _alone(s, v, p, doing)
    return _telling(_toward(s, v, p) or _into(texts, s, v, p), _join(s, ing(v)))


# Visible body words for an animal at work: a bird's, a furred animal's, any other's.
_BODY = {"bird": ("head tilted", "wings half open", "close on the beak", "feathers ruffled", "head cocked"),
         "mammal": ("head up", "head down", "close on the face", "tail twitching", "body low"),
         "other": ("body still", "body tense", "close on the head", "body low", "head raised")}
# Animals without fur, ears or a tail to twitch (fish, insects, reptiles, sea mammals).
OTHER_ANIMALS = set("""fish salmon frog toad turtle tortoise lizard snake crocodile alligator bee bees butterfly ant
ants spider beetle ladybug dragonfly crab octopus shark whale dolphin seal walrus""".split())


def animal_beats(s: str, v: str, p: Parts, head: str) -> Stages:
    """Notices, closes in, at it with its body, a beat toward its goal, pauses and looks up."""
    g, tail, h = ing(v), _join(p.core, p.scene), head.lower()
    body = _BODY["bird" if h in BIRDS else "other" if h in OTHER_ANIMALS or h.rstrip("s") in OTHER_ANIMALS else "mammal"]
    many = _plural_subject(s) or h != h.rstrip("s") and h.rstrip("s") in ANIMAL_HEADS
    if many:  # "two dogs": heads down, tails twitching
        body = tuple(re.sub(r"\b(head|tail|beak|face)\b", r"\1s", re.sub(r"\bbody\b", "bodies", x)) for x in body)
    doing = _join(s, g, tail)
    near = p.obj and p.link in ("", "on", "at", "around", "through", "with") and not (p.goal and p.goal[1] == p.obj)
    looks = "watching" if h in BIRDS else "listening"
    if p.goal and p.goal[0] == "for":
        notice = _comma(_join(s, p.at), f"{body[0]}, {looks} for {p.goal[1]}")
    elif near:
        notice = _join(s, "noticing", p.obj, p.scene)
    else:
        notice = _comma(_join(s, p.at), body[0]) if p.scene else _comma(s, f"{body[0]}, about to {v} {tail}".strip())
    start = _join(s, "starting to", v, tail)
    closer = [_join(s, "moving closer to", _the(p.obj), p.scene), start] if near else [start, _comma(doing, body[4])]
    beat = _comma(_join(s, "stopping", p.scene), f"head cocked, {looks} for {_the(p.goal[1])}") \
        if p.goal and p.goal[0] == "for" else _comma(doing, body[4] if near else "looking around")
    eyes = f"eyes on {_the(p.obj)}" if p.obj and p.link in ("", "on", "at", "around", "through", "with", "under",
                                                             "in", "over") else "looking up"
    texts = [notice, *closer, _comma(doing, body[1]), _comma(doing, body[2]), _comma(doing, body[3]), beat,
             _comma(_join(s, "pausing", p.at), f"{'heads' if many else 'head'} raised, {eyes}")]
    return _telling(_toward(s, v, p) or texts, _join(s, ing(v)))


# Things whose doing is over in an instant and leaves a mark ("a ball breaks a window"): the last frame
# shows it done; anything else goes on ("a windmill turns").
INSTANT = {"break", "pop", "burst", "crack", "snap", "shatter", "hit", "crash", "slam", "smash", "explode", "strike",
           "knock", "tip", "bang", "bump", "split", "splash", "punch", "ring", "click", "flash", "tear", "rip", "stop",
           "halt", "park", "land", "arrive", "close", "shut", "open"}


def thing_beats(s: str, v: str, p: Parts) -> Stages:
    """A thing in its place (or near what it acts on), starting, at work slowly then at full speed; an
    instant doing ends done, anything else goes on."""
    g, tail = ing(v), _join(p.core, p.scene)
    doing = _join(s, g, tail)
    first = _join(s, p.at) if p.scene and not p.core else _join(s, "near", p.obj, _after_object(p), p.scene) \
        if p.obj and not p.link else _join(s, "about to", v, tail)
    the = _the(s[:1].lower() + s[1:])
    if v in INSTANT:  # "it breaks a window", "a bus stops at the corner": about to, doing it, done
        texts = [_join(s, "about to", v, tail), doing, _comma(doing, f"close on {the}"),
                 _join(s, "having just", participle(v), tail)]
    else:
        texts = [first, _join(s, "starting to", v, tail), _comma(doing, "slowly at first"), doing,
                 _comma(doing, f"close on {the}"), _comma(doing, "at full speed"), _comma(doing, "steadily"),
                 _comma(doing, f"steadily, close on {the}")]
    return _telling(_toward(s, v, p) or texts, _join(s, ing(v)))


def _toward(s: str, v: str, p: Parts) -> list[str] | None:
    """'takes her first steps toward her father': the distance to the goal shrinks."""
    if not p.goal or p.goal[0] not in ("toward", "towards"):
        return None
    g, goal = ing(v), p.goal[1]
    way = re.sub(r"(?:^|\s+)(?:toward|towards)\s+.*$", "", p.core, flags=re.I)
    going, the = _join(s, g, way, p.scene), _the(goal)  # "taking her first steps, halfway to her father": the goal once
    here = _join(s, "beside", p.obj, p.at) if p.obj and not p.link else _join(s, p.at)  # "nudges a ball toward"
    return [_comma(here, f"{goal} some way off"), _join(s, "starting to", v, p.core, p.scene),
            _comma(going, f"a long way from {the}"), _comma(going, f"halfway to {the}"), _comma(going, f"closer to {the}"),
            _comma(going, f"only a few steps from {the}"), _comma(going, f"almost within reach of {the}"),
            _join(s, "close to", the, p.scene)]


def _into(texts: list[str], s: str, v: str, p: Parts) -> list[str]:
    """'casts his line into a lake': the prompt states where the object ends up; the last beats show it there
    ('stacks blocks into a tower' makes the tower: no destination)."""
    if not p.goal or p.goal[0] not in ("into", "onto") or not p.obj or p.link or v in CREATE_INTO | CHANGE or \
            kind(p.obj.split()[-1], "") != "thing" or p.goal[1].split()[0].lower() not in DETERMINERS:
        return texts  # "tucks her child into bed": no child in hand
    where, goal = ("in" if p.goal[0] == "into" else "on"), p.goal[1]
    return [_comma(_join(s, "beside", goal, p.scene), f"{p.obj} in hand"), *texts[1:-2],
            _join(s, "watching", _the(p.obj), where, goal, p.scene), _comma(_join(s, "beside", _the(goal), p.scene), "smiling")]


def passive_beats(s: str, v: str, rest: str) -> Stages:
    """'a letter is signed at a desk': the thing where it is, about to be and being done to, then done
    (the prompt says it is), seen near."""
    pp, tail, p = participle(v), _join(rest), parts(rest)
    where = p.scene if re.match(r"(?:in|on|at|by|near|beside|under|inside|behind)\s", p.scene) else ""
    doing, done, the = _join(s, "being", pp, tail), _join(s, pp, tail), _the(s[:1].lower() + s[1:])
    texts = [_join(s, "about to be", pp, tail), doing, _comma(doing, f"close on {the}"), done, _comma(done, f"close on {the}")]
    return _telling(([_join(s, where)] if where else []) + texts, doing)


def beats(s: str, head: str, v: str, rest: str) -> Stages:
    """The fallback staging of 'S Vs REST' for a verb with no staging of its own."""
    p = parts(rest)
    head = re.split(r"\s(?:in|on|with|of|at|by|near|wearing|holding|carrying)\s", s, flags=re.I)[0].split()[-1]  # a man in a suit
    who = kind(head, rest)
    if who == "person":
        return person_beats(s, v, p)
    if who == "animal":
        return animal_beats(s, v, p, head)
    return thing_beats(s, v, p)


def sudden_beats(s: str, head: str, v: str, rest: str) -> list[str]:
    """'..., suddenly a dog barks': it starts all at once (the scene before is the frame before), then
    goes on with the visible beats of the doing."""
    tail = _join(rest)
    then = [t for t in beats(s, head, v, rest)[1:] if " starting to " not in t and " moving closer to " not in t]
    return [_join(s, "suddenly starting to", v, tail), _join(s, "suddenly", ing(v), tail)] + then


def living(head: str, rest: str) -> bool:
    """Whether the subject is a person or an animal (it has a body to stage), not a thing."""
    return kind(head, rest) != "thing"
