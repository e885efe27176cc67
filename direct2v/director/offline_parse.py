"""The offline director's grammar: one prompt in, a list of *beats* out.

A beat is one step of the story: who (the subject, with its look), where (the setting), what
happens (a participle phrase such as "ordering a coffee") and how it unfolds in time (its
kind). The writer in offline.py turns beats into frame prompts. Kinds:

    steady      an ongoing action             "a corgi is running"
    gradual     a change of state             "a rainbow forming", "a snowman melting"
    transition  from one state/place to one   "from day to night", "sailing from a harbor into a storm"
    enter       the subject goes into a place "a man walks into a cafe"
    approach    the subject arrives alone     "a train arrives at a station"
    arrival     someone joins the subject     "another corgi joins later"
    exit        the subject leaves            "then leaves", "flies away", "disappears"
    sudden      an abrupt new action          "suddenly sprints at full speed"
    state       a noun-only scene or weather  "rain", "a quiet beach"
    condition   weather/time changes          "then night falls", "it starts to rain"

The grammar is deliberately small and predictable: a verb lexicon finds the verb, the words
before it are the subject, a preposition from a fixed list starts the setting. What it does
not recognise it keeps verbatim, so the worst case is the user's own words in every frame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# ---------------------------------------------------------------------- lexicon
DETERMINERS = {"a", "an", "the", "another", "some", "one", "two", "three", "four", "five", "six", "several",
               "many", "few", "his", "her", "their", "its", "my", "our", "your", "this", "that", "these", "those"}
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
NUMBER_WORDS = {v: k for k, v in NUMBERS.items()}
AUX = {"is", "are", "was", "were", "be", "being", "keeps", "keep"}
PRONOUNS = {"it", "they", "he", "she", "them", "him", "her", "its", "their", "his"}
VERBS = set("""
run walk sit sprint jump fly swim dance join arrive appear leave enter exit form develop grow turn become fall
rise melt bloom open close start stop eat play chase ride drive sing look stand lie sleep wake roar bark climb
dive race gallop crawl roll spin explode burn shine glow fade build gather clear spread fill pour drip flow crash
break wave smile laugh cry hug kiss fight throw catch kick hit read write paint cook drink sail land take emerge
disappear vanish approach come go move change set erupt strike float drift hover blossom sprout wilt freeze boil
bounce leap hop skate ski surf trot stroll wander hunt pounce sneak rest yawn stretch show get fetch follow lead
pass cross reach watch stare glide soar descend order plant blow buy pay sip talk chat wait sweep shake nod
march hike jog dash charge splash paddle graze perch crouch howl meow chirp purr wag dig pick hold carry push pull
shop clean wash brush comb type play practice juggle skip swing slide flap flutter spill pop burst crack shatter
light dim darken brighten ripen wither bake fry stir chop knit sew draw sketch fish row kayak cycle bike skateboard
travel drop scatter swirl twirl glow flicker sparkle shimmer blink sniff lick chew nibble feed pet greet meet
celebrate cheer clap dive peek hide search explore gaze observe sing whistle smoke mow water grill serve hand
""".split())
GRADUAL = {"form", "develop", "grow", "build", "gather", "melt", "bloom", "blossom", "rise", "set", "fade",
           "spread", "fill", "change", "turn", "become", "open", "close", "sprout", "wilt", "freeze", "boil",
           "burn", "ripen", "wither", "darken", "brighten", "dim", "clear"}
ARRIVAL = {"join", "arrive", "appear", "approach", "emerge", "show", "come"}
EXIT = {"leave", "exit", "disappear", "vanish", "depart"}
MOTION = {"run", "walk", "sprint", "gallop", "trot", "race", "jog", "stroll", "dash", "fly", "swim", "sail",
          "drive", "ride", "march", "hike", "wander", "glide", "soar", "drift", "float", "move", "travel", "go",
          "come", "crawl", "hop", "cycle", "paddle", "row", "skate", "ski", "charge", "climb", "roll", "cross"}
DOUBLED = set("""run sit swim jog stop hop skip drop plan shop chat dig nap grab hug clap step trot spin begin get
set cut hit put let wag pat rub nod dip grin drag pop chop drum slip trip sip tap wrap mop beg stir scan ship
slam strip sob tug whip zip knit fit""".split())
IRREGULAR_ING = {"lie": "lying", "die": "dying", "tie": "tying", "ski": "skiing", "be": "being", "see": "seeing",
                 "flee": "fleeing", "canoe": "canoeing"}
IRREGULAR_PP = {"grow": "grown", "build": "built", "rise": "risen", "set": "set", "become": "become",
                "freeze": "frozen", "burn": "burnt", "go": "gone", "come": "come", "show": "shown",
                "take": "taken", "fall": "fallen", "spread": "spread", "turn": "turned"}
IRREGULAR_PLURAL = {"man": "men", "woman": "women", "child": "children", "person": "people", "mouse": "mice",
                    "goose": "geese", "sheep": "sheep", "fish": "fish", "deer": "deer", "wolf": "wolves",
                    "leaf": "leaves", "foot": "feet", "tooth": "teeth", "calf": "calves", "knife": "knives"}
SINGULAR = {v: k for k, v in IRREGULAR_PLURAL.items()}

# Subject classes choose the frame cues ("ears pricked" suits a cheetah, not a ship).
PEOPLE = set("""man woman girl boy child kid person people lady gentleman astronaut astronauts chef dancer
runner athlete soldier knight wizard witch king queen prince princess farmer fisherman sailor pilot doctor nurse
teacher student worker musician singer guitarist painter artist player skier surfer skater cyclist rider hiker
couple family friends baby toddler teenager grandmother grandfather grandma grandpa mother father mom dad
policeman firefighter cowboy ninja samurai robot monk clown student businessman tourist climber diver swimmer
boxer warrior pirate""".split())
ANIMALS = set("""dog corgi puppy cat kitten cheetah lion lioness tiger leopard jaguar panther zebra giraffe
elephant horse pony deer fox wolf bear rabbit bunny squirrel mouse rat hamster cow sheep goat pig duck goose
swan bird eagle hawk owl parrot pigeon dove crow seagull gull sparrow penguin flamingo butterfly bee dolphin
whale shark fish turtle frog monkey gorilla panda koala kangaroo camel antelope gazelle rhino hippo hyena
retriever husky poodle beagle labrador terrier shepherd dachshund bulldog chihuahua dragon unicorn
hummingbird chicken rooster hen otter seal raccoon hedgehog owl""".split())
BIRDS = set("bird eagle hawk owl parrot pigeon dove crow seagull gull sparrow hummingbird butterfly bee dragon swan duck goose".split())
SAVANNA = set("cheetah lion lioness leopard zebra giraffe elephant antelope gazelle rhino hyena".split())
MEADOW = set("""dog corgi puppy horse pony deer fox rabbit bunny retriever husky poodle beagle labrador terrier
shepherd dachshund bulldog sheep cow goat""".split())
WATER_ANIMALS = set("dolphin whale shark fish turtle seal otter".split())
VEHICLES = set("""ship boat sailboat yacht car truck bus train plane airplane jet helicopter rocket bicycle bike
motorcycle submarine balloon spaceship tractor taxi ferry canoe kayak""".split())
SKY = set("""rainbow rain storm thunderstorm cloud clouds lightning sun sunset sunrise aurora stars tornado
snow fog mist wind hail sky moon""".split())
WEATHER = {"rain", "snow", "fog", "mist", "hail", "wind", "storm", "thunderstorm", "sunshine", "lightning", "drizzle"}
TIMES = {"day", "night", "dawn", "dusk", "morning", "evening", "noon", "midday", "afternoon", "sunset",
         "sunrise", "twilight", "midnight", "daytime", "nighttime", "spring", "summer", "autumn", "fall", "winter"}
# Places with a door: entering and leaving them goes through it.
ENCLOSED = set("""cafe café coffeeshop shop store restaurant bar pub room house home building office church
bakery library museum kitchen classroom hall cabin barn garage hotel bank school hospital station mall
supermarket theater theatre apartment tent castle palace temple diner""".split())
PREPOSITIONS = ("in", "on", "at", "over", "under", "through", "across", "into", "inside", "near", "along",
                "beside", "by", "above", "below", "beneath", "around", "onto", "underneath", "within", "among",
                "out of", "toward", "towards", "past", "down", "up")
# "at full speed", "in slow motion": prepositional phrases that are manner, not place.
ADVERBIAL = {"speed", "motion", "distance", "fire", "circles", "circle", "love", "once", "time", "unison", "silence",
             "tandem", "row", "line", "pairs", "slow", "full", "top", "high", "last", "first", "front", "sync",
             "awe", "surprise", "joy", "place", "turn", "turns", "fact", "order", "style", "detail", "color",
             "colour", "focus", "slow-motion", "midair", "mid-air", "air", "way", "return", "response", "half",
             "pieces", "bloom", "flight", "all", "it", "them", "him", "her"}


# ---------------------------------------------------------------------- word tools
def base_form(word: str) -> str:
    """'sprints' -> 'sprint', 'running' -> 'run', 'flies' -> 'fly', 'waving' -> 'wave'.

    Candidates from the usual suffix rules are checked against the verb lexicon, so the
    lexicon decides between 'waving' -> 'wave' and 'planting' -> 'plant'."""
    w = word.lower()
    candidates: list[str] = []
    if w.endswith("ing") and len(w) > 4:
        stem = w[:-3]
        candidates = [stem, stem + "e", stem[:-1] if len(stem) > 2 and stem[-1] == stem[-2] else stem]
        if stem.endswith("y"):
            candidates.append(stem[:-1] + "ie")  # lying -> lie
    elif w.endswith("ies") and len(w) > 4:
        candidates = [w[:-3] + "y", w[:-1]]
    elif w.endswith("es") and len(w) > 3:
        candidates = [w[:-1], w[:-2]]
    elif w.endswith("s") and not w.endswith("ss") and len(w) > 2:
        candidates = [w[:-1]]
    for c in candidates:
        if c in VERBS:
            return c
    return candidates[0] if candidates else w


def ing(base: str) -> str:
    if base in IRREGULAR_ING:
        return IRREGULAR_ING[base]
    if base.endswith("ie"):
        return base[:-2] + "ying"
    if base.endswith("e") and not base.endswith(("ee", "ye", "oe")) and len(base) > 2:
        return base[:-1] + "ing"
    if base in DOUBLED:
        return base + base[-1] + "ing"
    return base + "ing"


def past_participle(base: str) -> str:
    if base in IRREGULAR_PP:
        return IRREGULAR_PP[base]
    if base.endswith("e"):
        return base + "d"
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        return base[:-1] + "ied"
    if base in DOUBLED:
        return base + base[-1] + "ed"
    return base + "ed"


def plural(noun: str) -> str:
    if noun in IRREGULAR_PLURAL:
        return IRREGULAR_PLURAL[noun]
    if noun.endswith(("s", "x", "z", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


_NOT_PLURAL = {"iris", "canvas", "lens", "gas", "atlas", "tennis", "series", "species", "news", "chaos",
               "rhinoceros", "aurora borealis", "analysis", "oasis", "axis", "christmas", "pants", "jeans"}


def singular(noun: str) -> str:
    if noun in SINGULAR:
        return SINGULAR[noun]
    if noun.endswith("ies") and len(noun) > 4:
        return noun[:-3] + "y"
    if noun.endswith(("ches", "shes", "sses", "xes")):
        return noun[:-2]
    if noun.endswith("s") and not noun.endswith(("ss", "us")) and noun not in _NOT_PLURAL and len(noun) > 3:
        return noun[:-1]
    return noun


def article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def is_verb(word: str, first: bool = False) -> bool:
    w = word.lower().strip(",.")
    if w in AUX:
        return True
    if w.endswith("ing") and len(w) > 4 and base_form(w) in VERBS:
        return True
    # A bare lexicon word ("walk") counts only as a finite form ("walks") or a clause opener
    # ("orders a coffee"), so "a walk in the park" keeps its noun.
    b = base_form(w)
    return b in VERBS and (w != b or first) and not (w.endswith("s") and w[:-1] in ANIMALS | PEOPLE)


def the(np: str) -> str:
    """'a calm harbor' -> 'the calm harbor' (for a second mention inside one frame)."""
    return re.sub(r"^(?:a|an|some)\s+", "the ", np, flags=re.I) if np else np


# ---------------------------------------------------------------------- data
@dataclass
class Subject:
    np: str  # the full noun phrase with its look: "a fluffy white cat"
    head: str  # "cat"
    plural: bool = False

    @property
    def cls(self) -> str:
        h = singular(self.head)
        for name, words in (("person", PEOPLE), ("animal", ANIMALS), ("vehicle", VEHICLES), ("sky", SKY)):
            if h in words or self.head in words:
                return name
        return "thing"


@dataclass
class Place:
    prep: str  # "in"
    np: str  # "a cafe"

    @property
    def head(self) -> str:
        words = re.findall(r"[\w'-]+", self.np.lower())
        return words[-1] if words else ""

    @property
    def text(self) -> str:
        return f"{self.prep} {self.np}".strip()

    @property
    def enclosed(self) -> bool:
        return any(w in ENCLOSED for w in re.findall(r"[\w'-]+", self.np.lower()))


@dataclass
class Beat:
    kind: str
    subject: Subject
    verb: str = ""  # base form: "order"
    action: str = ""  # participle phrase without the setting: "ordering a coffee"
    place: Place | None = None
    weight: float = 1.0
    companion: str = ""  # a "while" clause, shown in every frame of the beat: "the girl's dog watching"
    newcomer: Subject | None = None  # arrival: who joins
    before: Beat | None = None  # arrival/sudden/condition: the state that changes
    src: str = ""  # transition endpoints
    dst: str = ""
    condition: str = ""  # condition kind: the weather/time word that sets in
    conditions: list[str] = field(default_factory=list)  # weather/time already in force


@dataclass
class Clause:
    text: str
    sudden: bool = False
    companion: str = ""


# ---------------------------------------------------------------------- clauses
_SEQ = re.compile(r"\s*(?:[.;!?]+\s+|,?\s+and\s+then\s+|,?\s*\bafter\s+that\b,?\s*|,\s*then\s+|\s+then\s+|"
                  r",\s*(?:and\s+)?(?=(?:later|eventually|finally|afterwards|next|soon|suddenly|meanwhile)\b))", re.I)
_LEAD = re.compile(r"^(?:and\s+|but\s+|then\s+|later\s+on,?\s+|later,?\s+|afterwards,?\s+|eventually,?\s+|"
                   r"finally,?\s+|next,?\s+|soon,?\s+|meanwhile,?\s+|at\s+last,?\s+)+", re.I)
_TRAIL = re.compile(r",?\s+(?:later\s+on|later|afterwards|eventually|soon\s+after|soon|at\s+last|too|as\s+well)$", re.I)
_SUDDEN = r"(?:suddenly|all\s+of\s+a\s+sudden|abruptly|out\s+of\s+nowhere)"


def has_verb(text: str) -> bool:
    words = text.split()
    return any(is_verb(w, first=(i == 0)) for i, w in enumerate(words))


def split_clauses(prompt: str) -> list[Clause]:
    """Cut the prompt into clauses in story order ("X after Y" becomes Y, X)."""
    text = prompt.strip().rstrip(".!? ")
    pieces = [p.strip(" ,") for p in _SEQ.split(text) if p and p.strip(" ,")]
    # Commas and "and" also separate steps, but only between parts that each have a verb:
    # "a fluffy, white cat" and "a cat and a dog playing" stay whole.
    parts: list[str] = []
    for piece in pieces:
        for sub in re.split(r",\s*(?:and\s+)?", piece):
            sub = sub.strip()
            if not sub:
                continue
            if parts and parts[-1] is not None and (not has_verb(sub) or not has_verb(parts[-1])) \
                    and not re.match(rf"(?:while|after|once|when|{_SUDDEN})\b", sub, re.I) \
                    and not re.match(r"(?:while|after|once|when)\b", parts[-1], re.I) and piece.startswith(parts[-1]):
                parts[-1] = f"{parts[-1]}, {sub}"
            else:
                parts.append(sub)
    split_and: list[str] = []
    for part in parts:
        m = re.match(r"(.+?)\s+and\s+(.+)$", part)
        if m and has_verb(m.group(1)) and has_verb(m.group(2)) and not re.search(r"\bwhile\b", m.group(1), re.I):
            split_and += [m.group(1), m.group(2)]
        else:
            split_and.append(part)

    split_and = [p for part in split_and for p in _split_participle(part)]

    clauses: list[Clause] = []
    pending_companion = ""
    for part in split_and:
        part = _TRAIL.sub("", _LEAD.sub("", part.strip(" ,"))).strip(" ,")
        if not part:
            continue
        m = re.match(r"while\s+(.+)$", part, re.I)
        if m:  # "while her dog watches, a girl ...": goes with the next clause (or the last one)
            if clauses:
                clauses[-1].companion = m.group(1)
            else:
                pending_companion = m.group(1)
            continue
        m = re.match(rf"(.+?)\s+{_SUDDEN},?\s+(.+)$", part, re.I)
        if m:
            clauses += [Clause(m.group(1)), Clause(m.group(2), sudden=True)]
            continue
        m = re.match(rf"{_SUDDEN},?\s+(.+)$", part, re.I)
        if m:
            clauses.append(Clause(m.group(1), sudden=True))
            continue
        m = re.match(r"(?:after|once|when)\s+(.+)$", part, re.I)
        if m:
            clauses.append(Clause(m.group(1)))
            continue
        m = re.match(r"(.+?)\s+while\s+(.+)$", part, re.I)
        companion = m.group(2) if m else ""
        if m:
            part = m.group(1)
        m = re.match(r"(.+?)\s+(?:after|once|when)\s+(.+)$", part, re.I)
        # "a rainbow forming after rain": the rain comes first. Only for weather or a real
        # clause, so "a dog sleeping after a long walk" stays one state.
        if m and (m.group(2).lower().removeprefix("the ").strip() in WEATHER or has_verb(m.group(2))):
            clauses += [Clause(m.group(2)), Clause(m.group(1), companion=companion)]
            continue
        m = re.match(r"(.+?)\s+(?:before|until|till)\s+(.+)$", part, re.I)
        if m and has_verb(m.group(2)):
            clauses += [Clause(m.group(1), companion=companion), Clause(m.group(2))]
            continue
        clauses.append(Clause(part, companion=companion or pending_companion))
        pending_companion = ""
    return clauses or [Clause(text)]


_INTRANSITIVE = {"sit", "lie", "sleep", "stand", "rest", "run", "walk", "fly", "swim", "float", "perch", "crouch",
                 "wait", "hover", "graze", "sail", "drift", "play", "dance", "sing"}


def _split_participle(part: str) -> list[str]:
    """'a bird sitting on a branch flies away' -> ['a bird sitting on a branch', 'flies away']:
    a participle (the state) and then a finite verb (what happens next). Only where the
    finite verb cannot be a noun: right after an intransitive participle ('sitting sprints')
    or after a place phrase ('... on a branch flies')."""
    words = part.split()
    first = next((i for i, w in enumerate(words) if w.lower().endswith("ing") and is_verb(w)), None)
    if first is None:
        return [part]
    for j in range(first + 1, len(words)):
        w = words[j].lower()
        if w in {"while", "as", "when", "after", "before", "until", "and"}:
            break  # another kind of clause: split_clauses handles it

        finite = w.endswith("s") and is_verb(w) and not w.endswith("ing") and words[j - 1].lower() not in DETERMINERS
        if not finite:
            continue
        direct = j == first + 1 and base_form(words[first]) in _INTRANSITIVE
        placed = any(x.lower() in PREPOSITIONS for x in words[first + 1: j - 1])
        if direct or placed:
            return [" ".join(words[:j]), " ".join(words[j:])]
    return [part]


# ---------------------------------------------------------------------- phrases
def split_subject(text: str) -> tuple[str, str]:
    """'A corgi is running' -> ('A corgi', 'is running'); 'orders a coffee' -> ('', 'orders a coffee')."""
    words = text.split()
    if not words:
        return "", ""
    if words[0].lower() not in DETERMINERS and is_verb(words[0], first=True):
        return "", text
    for i, w in enumerate(words[1:], start=1):
        if words[i - 1].lower() not in DETERMINERS and is_verb(w):
            return " ".join(words[:i]), " ".join(words[i:])
    return text, ""


def make_subject(np: str) -> Subject:
    np = np.strip(" ,")
    words = re.findall(r"[\w'-]+", np.lower())
    head = words[-1] if words else np.lower()
    first = words[0] if words else ""
    plural_ = first in NUMBERS and first != "one" or first in {"some", "several", "many", "few", "these", "those"} \
        or (singular(head) != head and first not in {"a", "an", "another"})
    if first not in DETERMINERS and not first.isdigit() and head not in WEATHER | TIMES and not plural_ \
            and not re.match(r"[A-Z]", np):
        np = f"{article(np)} {np}"  # "fluffy cat runs" -> "a fluffy cat"
    return Subject(np, head, plural_)


_BECOME = {"turn", "change", "transform", "morph", "become", "grow", "melt", "fade", "dissolve", "burst", "break"}


def split_place(predicate: str) -> tuple[str, Place | None]:

    """'planting a flag on the moon' -> ('planting a flag', Place('on', 'the moon')).

    The first place preposition whose noun is not a manner word ('at full speed') starts the
    setting; everything after it belongs to the setting ('in a park near the river')."""
    words = predicate.split()
    i = 1
    while i < len(words):
        two = " ".join(words[i:i + 2]).lower()
        prep = two if two in PREPOSITIONS else words[i].lower() if words[i].lower() in PREPOSITIONS else ""
        if prep in ("into", "to") and base_form(words[i - 1]) in _BECOME:
            prep = ""  # "turning into a butterfly" is the change, not a place
        if prep:
            rest = words[i + len(prep.split()):]
            nouns = [w.lower().strip(",") for w in rest if w.lower() not in DETERMINERS]
            if rest and nouns and not any(n in ADVERBIAL for n in nouns[:2]) and not is_verb(rest[0]):
                return " ".join(words[:i]), Place(prep, " ".join(rest).strip(" ,"))
        i += 1
    return predicate, None


def participle(predicate: str) -> tuple[str, str]:
    """'is running fast' -> ('running fast', 'run'); 'sprints at full speed' -> ('sprinting at full speed', 'sprint')."""
    words = predicate.split()
    while len(words) > 1 and words[0].lower() in AUX:
        words = words[1:]
    if not words or words[0].lower() in AUX:
        return " ".join(words), ""
    if words[0].lower() in {"starts", "start", "begins", "begin", "continues", "continue"} and len(words) > 1:
        words = words[1:]
        if words[0].lower() == "to" and len(words) > 1:
            words = words[1:]
    b = base_form(words[0])
    return " ".join([ing(b)] + words[1:]), b


def depronoun(text: str, owner: Subject | None, subject_position: bool = False) -> str:
    """No pronouns in a frame. As a subject 'her dog' -> "the girl's dog"; as an object
    'walks his dog' -> 'walks a dog' (the owner is in the frame anyway); 'watches her' ->
    'watches the girl'."""
    who = f"the {owner.head}" if owner else "the scene"
    if subject_position and owner:
        owner_s = f"{who}'" if owner.plural and owner.head.endswith("s") else f"{who}'s"
        text = re.sub(r"\b(?:his|her|their|its)\s+(?=[a-z])", f"{owner_s} ", text)

    def object_np(m: re.Match[str]) -> str:
        noun = m.group(1)
        return noun if singular(noun) != noun else f"{article(noun)} {noun}"

    text = re.sub(r"\b(?:his|her|their|its)\s+(?:own\s+)?([a-z][\w-]*)", object_np, text)
    text = re.sub(r"\b(?:him|her|them|it)\b", who, text)
    return re.sub(r"\b(?:he|she|they)\b", owner.np if owner else "someone", text)


# ---------------------------------------------------------------------- beats
@dataclass
class Scene:
    beats: list[Beat]
    subject: Subject | None
    place: Place | None


_PREP_RE = "|".join(p.replace(" ", r"\s+") for p in PREPOSITIONS)
_WEATHER_VERBS = {"rain": "rain", "snow": "snow", "hail": "hail", "pour": "rain", "drizzle": "rain"}
_CONDITION_VERBS = {"fall", "start", "begin", "come", "arrive", "roll", "set", "clear", "stop", "break", "return",
                    "end", "pass", "descend", "appear", "gather", "build"}
# Where a verb happens inside an enclosed place ("orders a coffee" -> at the counter of a cafe).
VERB_SPOT = {"order": "at the counter of", "buy": "at the counter of", "pay": "at the counter of",
             "serve": "behind the counter of", "cook": "in the kitchen of", "sit": "at a table in",
             "eat": "at a table in", "drink": "at a table in", "read": "at a table in", "sip": "at a table in"}
_DEFAULT_PLACES = [(SAVANNA, Place("on", "the grassy savanna")), (MEADOW, Place("on", "a grassy meadow")),
                   (WATER_ANIMALS, Place("in", "the clear blue ocean")),
                   ({"rainbow", "rain", "cloud", "clouds", "sun", "sunset", "sunrise", "lightning", "storm",
                     "thunderstorm", "tornado", "aurora", "snow", "fog", "mist"}, Place("over", "rolling green hills"))]


def _group(main: Subject, newcomer: Subject) -> Subject:
    """Who is in the picture once the newcomer has joined: 'two corgis', 'a woman and a dog'."""
    if singular(newcomer.head) == singular(main.head):
        words = main.np.split()
        count = NUMBERS.get(words[0].lower(), 1) if main.plural else 1
        look = [w for w in words[:-1] if w.lower() not in DETERMINERS]
        noun = main.head if main.plural else plural(main.head)
        return Subject(" ".join([NUMBER_WORDS.get(count + 1, "several")] + look + [noun]), noun, True)
    return Subject(f"{main.np} and {newcomer.np}", main.head, True)


def parse_scene(prompt: str) -> Scene:
    beats: list[Beat] = []
    current: Subject | None = None  # who pronouns and subject-less clauses mean
    place: Place | None = None  # the setting in force
    conditions: list[str] = []
    for clause in split_clauses(prompt):
        text = clause.text.strip(" ,")
        lead = re.match(rf"({_PREP_RE})\s+([^,]+),\s*(.+)$", text, re.I)
        lead_place = None
        if lead and has_verb(lead.group(3)):  # "in a park, a girl blows bubbles"
            lead_place, text = Place(lead.group(1).lower(), lead.group(2)), lead.group(3)
        trans = re.search(r"\bfrom\s+(.+?)\s+(?:to|into|towards?|until|till)\s+(.+)$", text, re.I)
        if trans:
            text = text[: trans.start()].strip()
        subj_text, predicate = split_subject(text)
        if predicate:
            action, clause_place = split_place(predicate)
        else:
            subj_text, clause_place = split_place(subj_text)
            action = ""
        clause_place = clause_place or lead_place
        phrase, verb = participle(action) if action else ("", "")

        # Who: pronouns and repeated nouns mean the current subject, with its full look.
        low = subj_text.lower().strip()
        newcomer = None
        if not low or low in PRONOUNS:
            weather = _WEATHER_VERBS.get(verb)
            if low == "it" and weather:  # "it starts raining"
                subject = make_subject(weather)
            else:
                subject = current or make_subject("a person")
        else:
            subject = make_subject(depronoun(subj_text, current, subject_position=True))
            if re.match(r"(?:another|a\s+second|one\s+more|a\s+new)\b", low) and current:
                newcomer = Subject(re.sub(r"^(?:another|a\s+second|one\s+more|a\s+new)", "a second", subject.np,
                                          flags=re.I), subject.head)
            elif current and singular(subject.head) == singular(current.head) and not subject.np.lower().startswith(("a ", "an ")):
                subject = current  # "the cat" after "a fluffy white cat"
        phrase = depronoun(phrase, subject)

        beat = Beat("steady", subject, verb, phrase, weight=1.0, conditions=list(conditions))
        if clause.companion:
            c_subj, c_pred = split_subject(clause.companion)
            c_phrase = participle(split_place(c_pred)[0])[0] if c_pred else ""
            c_who = depronoun(c_subj, subject, subject_position=True) if c_subj else ""
            beat.companion = " ".join(x for x in (c_who, depronoun(c_phrase, subject)) if x)

        # Places: a definite "at the counter" is part of the known scene; a new one replaces it.
        if clause_place and clause_place.prep in ("into", "inside", "out of"):
            place = Place("in", clause_place.np)
        elif clause_place and place and clause_place.np.lower().startswith("the ") \
                and clause_place.head != place.head and clause_place.prep not in ("in", "over"):
            beat.place = Place(clause_place.prep, f"{clause_place.np} in {place.np}")
        elif clause_place:
            place = clause_place
        if place and place.enclosed and verb in VERB_SPOT and not beat.place:
            beat.place = Place("", f"{VERB_SPOT[verb]} {place.np}")

        head_word = subject.head
        if (head_word in WEATHER | TIMES and verb in _CONDITION_VERBS) or (low == "it" and verb in _WEATHER_VERBS):
            beat.kind, beat.condition = "condition", _WEATHER_VERBS.get(verb, singular(head_word))
            if verb in {"stop", "clear", "end", "pass"}:
                beat.condition += ":stop"
            beat.before = beats[-1] if beats else None
            beat.subject = beat.before.subject if beat.before else subject
            conditions.append(beat.condition)
            beats.append(beat)
            continue
        if trans:
            beat.kind, beat.src, beat.dst, beat.weight = "transition", trans.group(1), trans.group(2), 2.0
        elif not verb:
            if head_word in ("sunset", "sunrise"):
                beat.subject, beat.verb = make_subject("the sun"), "set" if head_word == "sunset" else "rise"
                beat.kind, beat.action, beat.weight = "gradual", ing(beat.verb), 1.5
            else:
                beat.kind = "state"
        elif newcomer or (beats and current and subject is not current and verb in ARRIVAL | {"enter"}):
            beat.kind, beat.before = "arrival", beats[-1]
            beat.newcomer = newcomer or subject
            beat.subject = _group(current, beat.newcomer)
        elif clause.sudden:
            beat.kind, beat.weight = "sudden", 1.2
            beat.before = beats[-1] if beats else None
        elif verb in EXIT or re.search(r"\b(?:away|off)\b", phrase) or (clause_place and clause_place.prep == "out of"):
            beat.kind = "exit"
            obj = phrase.split(" ", 1)[1] if verb in {"leave", "exit"} and " " in phrase else ""
            if obj and (place is None or singular(obj.split()[-1].lower()) == place.head):
                place = place or Place("in", obj)  # "leaves the room": the room is where we are
        elif verb == "enter" or (verb in MOTION and clause_place and clause_place.prep in ("into", "inside")) \
                or re.search(r"\b(?:in|inside)$", phrase):
            beat.kind = "enter"
            if verb == "enter" and not clause_place and len(phrase.split()) > 1:  # "enters a room"
                place = Place("in", phrase.split(" ", 1)[1])
        elif verb in ARRIVAL:
            beat.kind = "approach"
        elif verb in GRADUAL:
            beat.kind, beat.weight = "gradual", 1.5
        if beat.kind not in ("arrival",) and not newcomer:
            current = beat.subject if beat.kind != "state" or current is None else current
        else:
            current = beat.subject
        beat.place = beat.place or place
        beats.append(beat)

    # A place named anywhere holds for the beats before it too (same scene); with none at all,
    # a plain default by subject keeps the background the same in every frame.
    first_place = next((b.place for b in beats if b.place), None)
    if first_place is None:
        heads = [singular(b.subject.head) for b in beats] + [b.subject.head for b in beats]
        first_place = next((p for words, p in _DEFAULT_PLACES if any(h in words for h in heads)), None)
    for b in beats:
        b.place = b.place or first_place
    main = next((b.subject for b in beats if b.kind != "state"), beats[0].subject if beats else None)
    return Scene(beats, main, first_place)
