"""How the built-in writer reads a prompt: clauses in story order, each with its subject, verb
and the rest of its words, pronouns resolved (offline.py stages them into frames).

Word forms come from `lemminflect` (lemmas, -ing forms, participles, plurals; its data ships
with the package). There is no tagger: a word is taken as the clause's verb where it can be a
verb and agrees with the words before it ("leaves change": plural noun + base form; "a traffic
light changes": singular + -s form), so "light" in "traffic light" stays a noun. What it does
not recognise it keeps as the prompt's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from lemminflect import getAllLemmas, getInflection, getLemma

DETERMINERS = {"a", "an", "the", "another", "some", "one", "two", "three", "four", "five", "several", "many",
               "his", "her", "their", "its", "my", "our", "your", "this", "that", "these", "those", "every", "each"}
PREPOSITIONS = {"in", "on", "at", "over", "under", "through", "across", "into", "inside", "near", "along", "beside",
                "by", "above", "below", "beneath", "around", "onto", "off", "out", "toward", "towards", "past", "down",
                "up", "from", "to", "with", "behind", "between", "against", "away", "of", "for", "after", "before"}
# Places a frame keeps when a later clause does not name its own ("lands on the floor" ... "a dog eats it").
STATIC_PLACES = {"in", "on", "at", "over", "under", "inside", "near", "beside", "by", "above", "below", "beneath"}
AUX = {"is", "are", "was", "were", "be", "being"}
# "it" never means a person; a short list is enough to tell "a chef" from "a pancake".
PEOPLE = set("""man men woman women boy boys girl girls kid kids child children person people chef cook baby
toddler lady gentleman father mother dad mom grandmother grandfather farmer gardener student teacher doctor
worker dancer runner player rider skier surfer astronaut soldier knight king queen family couple friends
fisherman sailor pilot driver artist painter musician singer waiter barista teenager teen mom mum grandma grandpa
cyclist jogger hiker skater firefighter bartender gardener nurse student students parent parents son daughter
sister brother wife husband friend bride groom owner""".split())
# Animals: with PEOPLE, the ones who act. "the baby drinks milk", "a dog plants its paws": a noun-verb
# word after one of them is its verb, never a compound ("baby-drinks"), whatever follows it.
ANIMALS = set("""dog dogs puppy puppies cat cats kitten kittens bird birds horse horses pony cow cows sheep goat goats
pig pigs duck ducks goose geese chicken chickens hen rooster fox foxes deer bear bears rabbit rabbits bunny
squirrel squirrels mouse mice owl eagle hawk parrot penguin penguins dolphin dolphins whale fish frog monkey
lion tiger elephant giraffe zebra wolf wolves seal otter corgi hamster turtle lamb calf swan swans""".split())
ANIMATE = PEOPLE | ANIMALS
# Who "she" and "he" can mean when both are named ("a man hands a baby to a woman and she smiles").
FEMALE = set("""woman women girl lady mother mom mum grandmother grandma bride wife sister daughter queen
actress waitress aunt niece""".split())
MALE = set("""man men boy gentleman father dad grandfather grandpa groom husband brother son king uncle nephew
fisherman""".split())
# Self-moving actions: "a man with a red umbrella walking down a street" is the man walking (an
# umbrella does not walk), where "with boat lights glowing" is a detail of the scene.
SELF_MOVING = {"walk", "run", "jog", "stroll", "hike", "wander", "dance", "ride", "cycle", "skate", "march", "climb",
               "swim", "sing", "wave", "smile", "laugh", "cross", "sit", "stand", "play", "read", "sleep", "eat"}
# Weather and the time of day come over the scene as it was: "then night falls".
WEATHER = {"rain", "snow", "hail", "drizzle", "fog", "mist", "storm", "night", "dusk", "dawn", "darkness", "evening",
           "morning", "day", "sunset", "sunrise", "wind"}
# "it gets dark", "it grows cold": the weather or the light, said of the sky.
SKY_STATES = {"dark", "darker", "light", "lighter", "bright", "brighter", "cold", "colder", "windy", "cloudy", "foggy",
              "stormy", "late", "dim", "dimmer", "grey", "gray", "black"}
WEATHER_VERBS = {"rain": "rain", "snow": "snow", "hail": "hail", "drizzle": "drizzle", "pour": "rain"}
UNNAMED = {"she": "a woman", "he": "a man", "they": "people", "i": "a person", "we": "people", "you": "a person"}
SUBJECT_PRONOUNS = {"it", "they", "he", "she", "them", "him", "her"}
# Verbs that make one thing into another ("stacks blocks into a tower"): the product is a thing "it" may mean.
CREATE_INTO = {"stack", "build", "shape", "carve", "mold", "mould", "fold", "make", "knit", "sew", "weave", "pile"}
CHANGE = {"turn", "change", "transform", "become", "morph", "grow"}  # "... into a butterfly": a new subject
# A subject that changes "to yellow" is yellow from then on ("... and then to brown": a yellow banana ripens).
COLOURS = set("""red orange yellow green blue purple violet pink brown black white grey gray gold golden silver
amber crimson scarlet beige tan bronze copper""".split())
# Articles that rule out a plural compound: "a dog shakes water" is a dog shaking, not "dog-shakes".
SINGULAR_ARTICLES = {"a", "an", "one", "each", "every", "another"}
# "a bride and groom cut the cake": a word after a conjunction is no verb of the words before it.
CONJUNCTIONS = {"and", "or", "but", "nor", "&"}
NUMBERS = {"one", "two", "three", "four", "five", "several", "many", "some"}


# Everyday verbs lemminflect's lexicon lacks (it knows "texts" only as a noun, "high-five" not at all):
# without them "two girls laugh and high-five" loses its subject and "texts on his phone" its verb.
MISSING_VERBS = {"text", "high-five", "fist-bump", "livestream", "vlog", "moonwalk", "photobomb", "zipline",
                 "paddleboard", "bodysurf", "facetime", "hula-hoop", "backflip", "skydive", "bungee-jump",
                 "rollerblade", "windsurf", "kitesurf", "selfie", "screenshot"}
_MISSING_FORMS = {form: verb for verb in MISSING_VERBS for tag in ("VB", "VBZ", "VBG", "VBD")
                  for form in (verb, *getInflection(verb, tag))}


@lru_cache(maxsize=4096)
def lemmas(word: str) -> dict[str, tuple[str, ...]]:
    found = getAllLemmas(word.lower())
    verb = _MISSING_FORMS.get(word.lower())
    return {**found, "VERB": (verb,)} if verb else found


def verb_lemma(word: str) -> str | None:
    found = lemmas(word).get("VERB")
    return found[0] if found else None


def ing(verb: str) -> str:
    return getInflection(verb, "VBG")[0]


# Where lemminflect's first participle is the rarer one ("waked", "lighted", "leant").
_PARTICIPLES = {"wake": "woken", "light": "lit", "knit": "knitted", "lean": "leaned", "spell": "spelled", "get": "got",
                "awake": "awoken", "mow": "mowed", "blend": "blended", "heave": "heaved"}


def participle(verb: str) -> str:
    return _PARTICIPLES.get(verb) or getInflection(verb, "VBN")[0]


def plural(noun: str) -> str:
    return getInflection(noun, "NNS")[0]


def is_plural_noun(word: str) -> bool:
    w = word.lower()
    if w in ("people", "children", "men", "women", "fireworks"):
        return True
    if w.endswith(("'s", "’s")):  # "a girl's kite": a possessive, not a plural
        return False
    nouns = lemmas(w).get("NOUN")
    if nouns:  # "glasses" is listed as its own lemma too (eyeglasses): the plural of "glass" first
        return w not in nouns or (len(nouns) > 1 and w.endswith("es") and not w.endswith("ss"))
    return w.endswith("s") and not w.endswith("ss") and getLemma(w, "NOUN")[0] != w  # not in the lexicon: "corgis"


def can_be_noun(word: str) -> bool:
    w = word.lower()
    return bool(lemmas(w).get("NOUN") or lemmas(w).get("PROPN")) or not lemmas(w) or w in SUBJECT_PRONOUNS


def can_head_noun(words: list[str], i: int) -> bool:
    """Whether words[i] can end a noun phrase: a noun in the lexicon, or a bare word right after
    a determiner or adjective (lemminflect lists "bar" only as a verb: "a chocolate bar melts")."""
    w = words[i].lower().strip(",")
    if can_be_noun(w):
        return True
    before = words[i - 1].lower().strip(",") if i else ""
    return w == verb_lemma(w) and not w.endswith(("ing", "ed")) and bool(
        before in DETERMINERS or "ADJ" in lemmas(before) or "NOUN" in lemmas(before))


# Words after a clause's verb that show a bare word at the start of a clause is that verb
# ("..., twirl, and wave", "and drop into a river"): the end, a preposition, an article, an adverb.
def _verb_follows(nxt: str) -> bool:
    return not nxt or nxt in PREPOSITIONS or nxt in DETERMINERS or nxt.endswith("ly") or nxt in SUBJECT_PRONOUNS or \
        nxt in REFLEXIVES or nxt in _NOT_A_VERB  # "..., then shake themselves dry", "walks home"


# What a thing that "begins" does: "the rain begins" is rain starting to fall.
STARTS = {"rain": "fall", "snow": "fall", "hail": "fall", "drizzle": "fall", "fireworks": "burst", "firework": "burst",
          "music": "play", "band": "play", "orchestra": "play", "bells": "ring", "bell": "ring", "storm": "rage"}
# Verbs whose "on"/"off" is a particle ("turns on the light", "switches off the TV"), not a place.
SWITCH = {"turn", "switch", "flip", "put", "try", "log", "power", "click", "shut"}
_PARTICLES_AFTER = {"on", "off", "out", "up", "down"}
REFLEXIVES = {"themselves", "himself", "herself", "itself", "myself", "yourself", "ourselves", "each", "one"}


# States only the living are in: "it is full" after "a mouse eats cheese" is the mouse.
FEELINGS = {"full", "tired", "sleepy", "hungry", "happy", "sad", "asleep", "awake", "exhausted", "dizzy", "bored",
            "calm", "scared", "angry", "thirsty", "soaked", "wet", "dry", "clean", "dirty"}


# Words after a verb that lemminflect also lists as verbs, but that never follow a plural noun as its verb
# ("its owner comes home" is no "owner-comes" that home).
_NOT_A_VERB = {"home", "back", "inside", "outside", "together", "apart", "forward", "ahead", "alone", "around",
               "asleep", "awake", "open", "shut", "free", "loose", "still", "quiet"}


def _is_state(word: str) -> bool:
    """An adjective after "is" that is no verb form: "is full", "are white" (not "is broken", "is running")."""
    return "ADJ" in lemmas(word) and not word.endswith(("ing", "ed", "en")) and word not in PREPOSITIONS


@dataclass
class Entity:
    """Someone or something the story names: its noun phrase as first written, with its look."""

    np: str
    head: str
    plural: bool

    @property
    def person(self) -> bool:
        return self.head.lower() in PEOPLE


@dataclass
class Clause:
    """One step of the story. verb is a lemma ("" for a verbless scene); rest is every word after
    the verb, pronouns replaced; passive/participle say how the prompt phrased it."""

    subject: Entity | None
    verb: str = ""
    rest: str = ""
    text: str = ""  # a verbless scene, as written
    participle: bool = False  # "a corgi running": an ongoing action, not an event
    passive: bool = False  # "coffee is poured": the subject undergoes it
    onset: bool = False  # "starts falling": the action begins in this clause
    sudden: bool = False
    weather: bool = False  # "it starts to rain": weather over the scene, not a new subject
    companion: "Clause | None" = None  # an "as"/"while" clause happening at the same time
    background: bool = False  # an ongoing action a later event happens over: held, not staged
    holds: "Clause | None" = None  # "snow falls until the roofs turn white": what goes on all through this step
    places: list[str] = field(default_factory=list)


def entity(np: str) -> Entity:
    words = np.split()
    head = re.sub(r"[^\w'-]", "", words[-1]) if words else np
    return Entity(np, head, is_plural_noun(head) or " and " in f" {np.lower()} " or
                  (words[0].lower() in {"two", "three", "four", "five", "several", "many", "some", "these"} and len(words) > 1))


def _noun_then_verb(words: list[str], i: int) -> bool:
    """Whether words[i+1] is a noun followed by a verb that agrees with it: words[i] is then a
    modifier of that noun ("sports" in "a red sports car speeds past")."""
    if i + 2 >= len(words):
        return False
    noun, verb = words[i + 1].lower(), words[i + 2].lower().strip(",")
    lemma = verb_lemma(verb)
    return bool(noun not in PREPOSITIONS | DETERMINERS and lemmas(noun).get("NOUN") and lemma and
                verb == getInflection(lemma, "VBZ")[0] and not is_plural_noun(noun))


def _head(subject: list[str]) -> str:
    """The head noun of a subject: the word before its first place or 'of' ('snow on the roofs')."""
    at = next((k for k, w in enumerate(subject) if k and w.lower() in STATIC_PLACES | {"of", "with"}), len(subject))
    return subject[at - 1].lower().strip(",")


def _plural_head_before_place(words: list[str]) -> bool:
    """'the leaves on a tree (turn)': the head is the noun before the place, and it is plural
    (before a with-phrase's: 'a car with its headlights on' is one car)."""
    at = next((k for k, w in enumerate(words) if k and w.lower() in STATIC_PLACES | {"with"}), None)
    return at is not None and is_plural_noun(words[at - 1].lower().strip(","))


def _is_adverb(word: str) -> bool:
    w = word.lower().strip(",")
    return w.endswith("ly") and "ADV" in lemmas(w) and "NOUN" not in lemmas(w)


def _before_adverbs(words: list[str], i: int) -> int:
    """Index of the word before the adverbs that precede words[i] ('a snowman slowly melts')."""
    j = i - 1
    while j > 0 and _is_adverb(words[j]):
        j -= 1
    return j


def _noun_in_place(words: list[str], i: int) -> bool:
    """Whether words[i] ends a place or 'of' phrase ('of a maple tree') and a verb follows it."""
    at = next((p for p in range(i - 1, 0, -1) if words[p].lower() in PREPOSITIONS), None)
    if at is None or i + 1 >= len(words) or words[at + 1].lower() not in DETERMINERS or at + 1 == i:
        return False
    if any(verb_lemma(w.lower()) and w.lower() != verb_lemma(w.lower()) and not is_plural_noun(w)
           for w in words[at + 2:i]):
        return False
    k = i + 1
    while k + 1 < len(words) and _is_adverb(words[k]):
        k += 1  # "the snow on the mountain peaks slowly melts": the verb after the adverb
    nxt = words[k].lower().strip(",")
    return can_be_noun(words[i]) and bool(verb_lemma(nxt)) and "ADJ" not in lemmas(nxt) and \
        nxt not in PREPOSITIONS | DETERMINERS | _NOT_A_VERB | COLOURS


def _verb_before_place(words: list[str], i: int) -> int | None:
    """A base-form word at i that ends a place phrase ('melts in the spring sun') is that phrase's
    noun when a finite verb stands right before the phrase: return that verb's index."""
    at = next((p for p in range(i - 1, 0, -1) if words[p].lower() in PREPOSITIONS), None)
    if at is None or any(verb_lemma(w.lower()) and w.lower().endswith("ing") for w in words[at + 1:i]):
        return None
    k = _before_adverbs(words, at) + 1 if _is_adverb(words[at - 1]) else at - 1
    k = at - 1 if k >= at else k
    while k > 0 and (words[k].lower() in PREPOSITIONS or _is_adverb(words[k])):
        k -= 1  # "melts away slowly in the sun"
    lw = words[k].lower().strip(",")
    lemma = verb_lemma(lw)
    if not lemma or lw == lemma or k == 0 or words[k - 1].lower() in DETERMINERS | PREPOSITIONS:
        return None
    finite = lw in (getInflection(lemma, "VBZ")[0], getInflection(lemma, "VBD")[0])
    return k if finite else None


def _possessive(word: str) -> bool:
    """'girl's', 'kids'': a determiner of the noun after it, never a clause's head or verb."""
    return word.lower().strip(",").endswith(("'s", "\u2019s", "s'"))


def _with_participle(words: list[str], i: int) -> bool:
    """'a man with a red umbrella walking down a street': the -ing word is the person's own action
    (the thing after 'with' cannot do it), not a detail of the scene ('with boat lights glowing')."""
    at = next((k for k, w in enumerate(words[:i]) if w.lower() == "with"), None)
    if not at or not words[i].lower().endswith("ing"):
        return False
    who, what = words[at - 1].lower().strip(","), words[i - 1].lower().strip(",")
    return who in ANIMATE and what not in ANIMATE and verb_lemma(words[i]) in SELF_MOVING


def find_verb(words: list[str], has_subject_before: bool) -> int | None:
    """Index of the clause's main verb (the auxiliary if there is one), or None."""
    lead = next((k for k, w in enumerate(words) if not _is_adverb(w)), len(words))
    if 0 < lead < len(words):  # "..., and slowly climbs down": the adverbs are no subject
        found = find_verb(words[lead:], has_subject_before)
        return None if found is None else found + lead
    for i, w in enumerate(words):
        lw = w.lower().strip(",")
        if lw in AUX and i + 1 < len(words) and (i > 0 or not has_subject_before):
            nxt = words[i + 1].lower()
            if verb_lemma(nxt) and (nxt.endswith(("ing", "ed", "en")) or nxt != verb_lemma(nxt)) or _is_state(nxt):
                return i
        lemma = verb_lemma(lw)
        if not lemma or lw in DETERMINERS or lw in PREPOSITIONS:
            continue
        if i == 0:
            starts_subject = len(words) > 1 and can_be_noun(lw) and verb_lemma(words[1]) == words[1].lower() \
                and is_plural_noun(lw) and words[1].lower() not in PREPOSITIONS | _NOT_A_VERB  # "leaves change ..."
            nxt0 = words[1].lower().strip(",") if len(words) > 1 else ""
            if has_subject_before and not starts_subject and (lw != lemma or (lw == lemma and _verb_follows(nxt0))):
                return 0  # "orders a coffee", "flies away", "..., and wave": the previous subject goes on
            continue
        j = _before_adverbs(words, i)  # "a snowman slowly melts": the subject is before the adverb
        prev = words[j].lower().strip(",")
        if prev in _PARTICLES_AFTER and j > 1 and "with" in (x.lower() for x in words[:j - 1]) and \
                can_head_noun(words, j - 1):  # "a car with its headlights on drives": "on" ends the with-phrase
            pass
        elif prev in DETERMINERS | PREPOSITIONS | CONJUNCTIONS or _possessive(prev) or not can_head_noun(words, j):
            continue  # "a girl's kite flies": "kite" is the noun after the possessive
        if _noun_in_place(words, i):
            continue  # "the leaves of a maple tree turn": "tree" ends the phrase, "turn" is the verb
        nxt = words[i + 1].lower() if i + 1 < len(words) else ""
        if _with_participle(words, i):
            return i
        if "with" in (x.lower() for x in words[:i]) and (lw.endswith("ing") or not _verb_follows(nxt)):
            continue  # "with boat lights glowing", "with his hair blowing in the wind": a detail, not the event
        earlier = _verb_before_place(words, i) if lw == lemma else None
        if earlier is not None:
            return earlier  # "melts in the spring sun": "sun" ends the place, "melts" is the verb
        if lw.endswith("ing") and lw != lemma:
            return i  # "a corgi running"
        subject_plural = is_plural_noun(_head(words[:j + 1])) or prev in {"they", "we", "you", "i"} or \
            any(x.lower() == "and" for x in words[:i]) or _plural_head_before_place(words[:i])
        third = getInflection(lemma, "VBZ")[0]
        nxt_verb = verb_lemma(nxt) if nxt not in PREPOSITIONS | DETERMINERS else None
        if lw == third and not subject_plural:
            if lemmas(lw).get("NOUN") and nxt_verb == nxt and nxt and nxt not in COLOURS | FEELINGS | SKY_STATES | _NOT_A_VERB and \
                    words[0].lower() not in SINGULAR_ARTICLES and prev not in ANIMATE:  # "ice cubes melt": "cubes" is the noun
                continue
            if lemmas(lw).get("NOUN") and _noun_then_verb(words, i) and prev not in ANIMATE:  # "a red sports car speeds"
                continue
            return i
        if lw == lemma and subject_plural:
            return i
        if lw not in (lemma, third) and lw == getInflection(lemma, "VBD")[0]:
            return i
    return None


# ---------------------------------------------------------------------- clauses in story order
_SEQ = re.compile(r"\s*(?:[;.!?]+\s*|,?\s+and\s+then\s+|,?\s+then\s+|,?\s+after\s+that,?\s+|,\s*(?:and\s+)?)", re.I)
_LEAD = re.compile(r"^(?:and|then|later|eventually|finally|soon|next|afterwards|meanwhile|at\s+last)\b,?\s*", re.I)
_TRAIL = re.compile(r",?\s+(?:later\s+on|later|afterwards|eventually|soon|at\s+last|too)$", re.I)
_LEAD_CLAUSE = re.compile(r"(after|once|when|before|as\s+soon\s+as)\s+(.+)$", re.I)  # a clause told first
_SUDDEN = re.compile(r"\b(?:suddenly|all\s+of\s+a\s+sudden|abruptly)\b,?\s*", re.I)


def pieces(prompt: str) -> list[tuple[str, str]]:
    """(text, link) pieces in story order; link is "", "as" (at the same time), "until" (comes
    about while the piece before goes on) or "sudden"."""
    out: list[tuple[str, str]] = []
    lead_place, held, held_at = "", "", 0
    for part in _SEQ.split(prompt.strip()):
        part = _TRAIL.sub("", _LEAD.sub("", part.strip(" ,"))).strip(" ,")
        if held and len(out) > held_at:  # "before X, Y": X once Y is told
            out, held = out + [(held, "")], ""
        if not part:
            continue
        if re.match(r"(?:in|on|at|inside|near|under|over|before|after|during)\s", part, re.I) and \
                find_verb(part.split(), False) is None:
            lead_place = part[:1].lower() + part[1:]  # "In a park, a boy flies a kite": the place of what follows
            continue
        lead = _LEAD_CLAUSE.match(part)
        if lead and find_verb(lead.group(2).split(), False) is not None:  # "after the rain stops, kids jump"
            if lead.group(1).lower() == "before":
                held, held_at = lead.group(2), len(out)
                continue
            part = lead.group(2)
        if out and re.fullmatch(r"[a-z]+ing(?:\s+\w+ly)?", part, re.I) and verb_lemma(part.split()[0]):
            out[-1] = (f"{out[-1][0]} {part}", out[-1][1])  # "rides away, smiling": how she goes, no new event
            continue
        if lead_place:
            part, lead_place = f"{part} {lead_place}", ""
        m = re.match(r"(.+?)\s+(after|before|until|as|while|when|once)\s+(.+)$", part, re.I)
        if m and m.group(2).lower() in ("after", "before") and re.match(r"[a-z]+ing\b", m.group(3)) and \
                verb_lemma(m.group(3).split()[0]) and find_verb(m.group(1).split(), False):
            v = find_verb(m.group(1).split(), False)  # "shakes off water after jumping out of a pond": the same one
            other = " ".join(m.group(1).split()[:v] + [m.group(3)])
            out += [(other, ""), (m.group(1), "")] if m.group(2).lower() == "after" else [(m.group(1), ""), (other, "")]
            continue
        if m and find_verb(m.group(3).split(), False) is not None:
            a, word, b = m.group(1), m.group(2).lower(), m.group(3)
            bs = _split_and(b)  # "until the bus arrives and she gets on": two events in order, each its own
            if word in ("after", "once"):
                out += bs + [(a, "")]
            elif word == "before":
                out += [(a, "")] + bs
            else:  # "until": the first goes on while the second comes about; then the rest follows
                out += [(a, ""), (bs[0][0], "until" if word == "until" else "as")] + bs[1:]
            continue
        out += [(y, link if not k else "") for piece in _purpose(part) for x, link in _split_and(piece)
                for k, y in enumerate(_purpose(x, True))]  # "... and sits by the window to read a book"
    return out + ([(held, "")] if held else []) + ([(lead_place, "")] if lead_place else [])


# Verbs of going somewhere for a purpose: "swims across a lake to fetch a ball" is two steps.
GOING = {"swim", "run", "walk", "go", "come", "rush", "hurry", "drive", "ride", "fly", "climb", "jump", "dive", "race",
         "dash", "head", "sprint", "jog", "crawl", "sneak", "wade", "paddle", "sail", "hop", "leap", "stretch", "reach",
         "bend", "kneel", "stand", "lean", "turn", "sit", "settle", "curl", "lie"}


# More verbs of going along a way ("slides down a slide", "rolls down the hill"): "down"/"up" is no particle.
WAYFARE = {"roll", "slide", "skate", "ski", "cycle", "float", "drift", "fall", "tumble", "march", "stroll", "wander",
           "hike", "skateboard", "sled", "scoot", "glide", "travel", "speed", "zoom", "sail", "wander", "trudge"}


def _purpose(part: str, after_and: bool = False) -> list[str]:
    """'swims across a lake to fetch a ball' -> ['swims across a lake', 'fetch a ball']."""
    m = re.match(r"(.+?)\s+to\s+([a-z]+)(\s+(?:%s)\b.*|\s+(?:up|out|down|over)\b.*)$" % "|".join(sorted(DETERMINERS)),
                 part, re.I)
    if not m or verb_lemma(m.group(2)) != m.group(2).lower() or m.group(2).lower() in COLOURS:
        return [part]
    words = m.group(1).split()
    v = find_verb(words, False)
    v = find_verb(words, True) if v is None and after_and else v
    if v is None or (verb_lemma(words[v]) or words[v].lower()) not in GOING:
        return [part]
    return [m.group(1), f"{m.group(2)}{m.group(3)}"]


def _split_and(part: str) -> list[tuple[str, str]]:
    """'floats down a gutter and disappears into a drain': two steps where 'and' starts a clause."""
    sudden = _SUDDEN.search(part)
    if sudden:
        before, after = part[: sudden.start()].strip(" ,"), part[sudden.end():].strip(" ,")
        before = re.sub(r",?\s+(?:and|but|then|when)$", "", before, flags=re.I)  # "reads on the porch and suddenly ..."
        if before and after:
            return _split_and(before) + [(after, "sudden")]
        return [(after or before, "sudden")]
    words = part.split()
    for i, w in enumerate(words):
        if w.lower() == "and" and 0 < i < len(words) - 1:
            after = words[i + 1:]
            first = after[0].lower()
            lead = next((k for k, x in enumerate(after) if not _is_adverb(x)), 0)  # "and slowly climbs down"
            verb_next = find_verb(after, True) == lead or first in SUBJECT_PRONOUNS or \
                (find_verb(after, False) not in (None, 0) and find_verb(words[:i], False) is not None)
            before = words[:i]  # "..., fills a basket and carries it home": the list's subject is the actor's
            if verb_next and (find_verb(before, False) is not None or find_verb(before, True) == 0):
                return _split_and(" ".join(words[:i])) + _split_and(" ".join(after))
    v = find_verb(words, False)
    if v is not None and words[v].lower().endswith("ing"):  # "a bird sitting on a branch flies away"
        for j in range(v + 2, len(words)):
            lw, prev = words[j].lower(), words[j - 1].lower()
            lemma = verb_lemma(lw)
            if lemma and lw != lemma and lw == getInflection(lemma, "VBZ")[0] and prev not in DETERMINERS | PREPOSITIONS \
                    and not _participle_subject(words, j):
                j = _before_adverbs(words, j) + 1  # "... on a swing slowly swings": the adverb goes with the verb
                return [(" ".join(words[:j]), "")] + _split_and(" ".join(words[j:]))
    return [(part, "")]


def _participle_subject(words: list[str], j: int) -> bool:
    """Whether words[j] is the noun an -ing participle says something about, inside a 'with'
    phrase ('with neon signs reflecting in the puddles', 'with tall pines swaying'): not a verb."""
    nxt = words[j + 1].lower().strip(",") if j + 1 < len(words) else ""
    return "with" in (w.lower() for w in words[:j]) and nxt.endswith("ing") and bool(verb_lemma(nxt)) and \
        nxt != verb_lemma(nxt)


def colour_target(rest: str) -> str | None:
    """'to yellow' -> 'yellow': the colour a change ends in, if the words name one."""
    m = re.match(r"(?:to|into)\s+(\w+)$", rest.strip(" ,"), re.I)
    return m.group(1).lower() if m and m.group(1).lower() in COLOURS else None


def recoloured(np: str, colour: str | None) -> str:
    """'A green banana' in 'yellow' -> 'A yellow banana' (None: 'A banana'); the article follows."""
    words = [w for w in np.split() if w.lower() not in COLOURS]
    at = 1 if len(words) > 1 and words[0].lower() in DETERMINERS else 0
    if colour:
        words = words[:at] + [colour] + words[at:]
    if at and words[0].lower() in ("a", "an"):
        article = "an" if words[1][0].lower() in "aeiou" else "a"
        words[0] = article.capitalize() if words[0][0].isupper() else article
    return " ".join(words)


# A person named after the verb ("gives his mother a flower", "waves at a girl"): one "she" or "he" may mean.
_PERSON_NP = re.compile(r"\b((?:a|an|the|his|her|their|my|its)\s+(?:[\w-]+\s+){0,2}?(?:%s))\b"
                        % "|".join(sorted(FEMALE | MALE | {"baby", "child", "kid", "toddler"})), re.I)


class Reader:
    """Reads pieces into clauses, keeping track of who "it", "they", "she" mean."""

    def __init__(self) -> None:
        self.entities: list[Entity] = []  # subjects and objects, most recent last
        self.actor: Entity | None = None  # the last subject: who a clause without one is about
        self.last: Clause | None = None  # the last clause with a verb: what "and then to brown" goes on with

    def resolve(self, word: str, exclude: Entity | None = None) -> Entity | None:
        """The most recent compatible noun: "it" a singular thing, "they" a plural, "she" a person;
        an object pronoun never means the clause's own subject ("a dog eats it")."""
        w = word.lower()
        gendered = FEMALE if w in ("she", "her") else MALE if w in ("he", "him") else set()
        for e in reversed(self.entities):  # "before she leaves, a woman kisses her baby": she is the woman
            if e is not exclude and e.head.lower() in gendered and not e.plural:
                return e
        for e in reversed(self.entities):
            if e is exclude or e.head.lower() in (MALE if gendered is FEMALE else FEMALE if gendered else set()):
                continue
            if w == "it" and not e.plural and not e.person and not e.np.lower().startswith("its "):  # not "its owner"
                return e
            if w in ("they", "them") and e.plural:
                return e
            if w in ("he", "she", "him", "her") and e.person and not e.plural:
                return e
        if w == "it":  # "a baby sleeps, suddenly it cries": no thing named, the one there is
            return next((e for e in reversed(self.entities) if e is not exclude and not e.plural), None)
        others = [e for e in self.entities if e is not exclude]  # "takes them out": never the one who takes
        return others[-1] if others and w in ("they", "them") else None

    def known(self, np: str) -> Entity:
        """'the cat' after 'a fluffy white cat' is that cat, with its look."""
        new = entity(np)
        if np.lower().startswith(("the ", "this ", "that ")):
            for e in reversed(self.entities):
                if e.head.lower() == new.head.lower():
                    return e
        return new

    def mention(self, e: Entity) -> None:
        self.entities = [x for x in self.entities if x is not e] + [e]

    def replace_pronouns(self, text: str, subject: Entity | None) -> str:
        def swap(m: re.Match[str]) -> str:
            e = self.resolve(m.group(0), exclude=subject)
            if e is None:
                return m.group(0)
            if e.np.split()[0].lower() not in DETERMINERS and not _possessive(e.np.split()[0]):
                return f"the {e.np}"  # "plants flowers, then waters them": the flowers
            return re.sub(r"^(?:a|an)\s", "the ", e.np, flags=re.I)  # "washes it away": the sandcastle named before

        return re.sub(r"\b(?:it|them|him|her)\b(?!\s+(?:own|self))", swap, text)

    def read(self, text: str, link: str) -> Clause:
        clause = self._read(text, link)
        if clause.subject is not None and clause.verb:
            self.last = clause
            self._recolour(clause)
        return clause

    def _recolour(self, clause: Clause) -> None:
        """After "ripens to yellow" the subject is a yellow one: later clauses say so."""
        colour = colour_target(clause.rest)
        if clause.subject is None or colour is None:
            return
        self.actor = Entity(recoloured(clause.subject.np, colour), clause.subject.head, clause.subject.plural)
        self.mention(self.actor)

    def _who(self, np: str, lemma: str, rest: list[str], copula: bool) -> tuple[Entity | None, str, bool]:
        """(the clause's subject, its verb, whether it is weather) from the words before the verb."""
        if not np:
            return self.actor, lemma, False  # the last one who acted, not the last thing named
        it = np.lower() == "it"
        if it and lemma in WEATHER_VERBS:  # "it starts to rain"
            return entity(WEATHER_VERBS[lemma]), "fall", True
        if it and lemma in ("get", "grow", "turn", "become", "go") and rest and rest[0].lower().strip(",") in SKY_STATES:
            return entity("the sky"), lemma, True  # "as it gets dark": the sky, not the book
        if it and copula and rest and rest[0].lower() in FEELINGS and self.actor is not None:
            return self.actor, lemma, False  # "eats cheese until it is full": the one who eats
        if np.lower() in SUBJECT_PRONOUNS:
            # "She opens the door" with no one named before: the image model needs a person, not "she"
            return self.resolve(np) or entity(UNNAMED.get(np.lower(), np)), lemma, False
        subject = self.known(np)
        return subject, lemma, subject.head.lower() in WEATHER and bool(self.entities)

    def _owned(self, np: str) -> str:
        """'her friends' after 'a little girl ...' -> 'the little girl's friends': a frame of the friends
        alone must still say whose they are (the image model has no 'her')."""
        owner, _, rest = np.partition(" ")
        pronoun = {"his": "he", "her": "she", "their": "they", "its": "it"}.get(owner.lower())
        found = self.resolve(pronoun) if pronoun and rest else None
        if found is None or (pronoun == "it" and found.person):
            return np
        first = found.np.split()[0].lower()
        owner = re.sub(r"^(?:a|an)\s", "the ", found.np, flags=re.I) if first in DETERMINERS - NUMBERS else f"the {found.np}"
        return owner + ("' " if owner.endswith("s") else "'s ") + rest  # "the two kids' dog"

    def _things(self, rest_text: str, rest: list[str], lemma: str) -> list[str]:
        """Mention the clause's object and places (what "it" may mean later); return its places."""
        # Objects are entities too ("flips a pancake": "it" may mean the pancake later).
        obj = re.match(r"((?:(?:a|an|the|some|his|her|their|its|\w+)\s+)*?[\w'-]+)(?=\s+(?:%s)\b|$)"
                       % "|".join(sorted(PREPOSITIONS)), rest_text)
        # "blows up a balloon", "lets go of a balloon": the thing after the particle
        if re.match(r"(?:up|out|down|go\s+of)\s+(?:a|an|the|his|her|their|its)\s", rest_text, re.I) and \
                lemma not in GOING | WAYFARE:  # "drives down the street": the street is the way, not a thing blown up
            obj = re.match(r"(?:go\s+of|\w+)\s+((?:\w+\s+)*?[\w'-]+)(?=\s+(?:%s)\b|$)" % "|".join(sorted(PREPOSITIONS)),
                           rest_text, re.I)
            if obj:
                self.mention(self.known(obj.group(1)))
        elif obj and rest and rest[0].lower() not in PREPOSITIONS and lemma not in CHANGE and \
                obj.group(1).lower() not in _NOT_A_VERB:  # "comes home": "it" is not the home
            self.mention(self.known(obj.group(1)))
        for who in _PERSON_NP.findall(rest_text):  # "hands a baby to a woman and she smiles": she is the woman
            who = self._owned(who)  # "his mother" -> "the boy's mother": she may act alone in a frame
            if not any(e.np.lower() == who.lower() for e in self.entities):
                self.mention(entity(who))
        if lemma in SWITCH and re.match(r"(?:on|off)\s", rest_text, re.I):
            self.mention(self.known(rest_text.split(" ", 1)[1]))
            return []  # "turns on the light": the light is what is switched, no place the story goes on in
        chased = re.match(r"(?:after|at|toward|towards)\s+((?:a|an|the|his|her|their|its)\s+[\w' -]+?)(?=\s+(?:%s)\s|,|$)"
                          % "|".join(sorted(PREPOSITIONS)), rest_text, re.I)
        if chased:  # "runs after a ball, catches it": it is the ball
            self.mention(self.known(chased.group(1)))
        places = re.findall(r"\b((?:%s)\s+(?:the|a|an)\s+[^,]+?)(?=\s+(?:%s)\s|$)"
                            % ("|".join(sorted(STATIC_PLACES | {"into", "onto", "across", "through", "down"})),
                               "|".join(sorted(PREPOSITIONS - {"of"}))), rest_text)  # "in a pot of soil"
        for p in places:  # "washes over a sandcastle until it disappears": a place may be "it", after the rest
            if p.split()[0].lower() != "of" and not any(e.np == p.split(" ", 1)[1] for e in self.entities):
                self.entities.insert(0, entity(p.split(" ", 1)[1]))
        # Walked into a cafe: in a cafe from then on; glided across a pond: on the pond.
        return [re.sub(r"^(?:into|through)\b", "in", re.sub(r"^(?:across|down|onto)\b", "on", p)) for p in places]

    def _read(self, text: str, link: str) -> Clause:
        words = text.split()
        v = find_verb(words, bool(self.entities))
        if v is None and self.last is not None and self.actor is not None and \
                words[0].lower() in ("to", "into", "toward", "towards"):
            # "ripens to yellow and then to brown": the same subject and verb go on to a new end.
            last = self.last
            return Clause(self.actor, last.verb, self.replace_pronouns(text, self.actor), passive=last.passive,
                          sudden=link == "sudden")
        if v is None:  # a scene without an event: "a quiet lake at dawn"
            self.mention(entity(re.split(r"\s+(?:in|on|at|over|under|near|by|across|along)\s+", text)[0]))
            return Clause(None, text=text)
        subject_words = words[:v]
        while subject_words and _is_adverb(subject_words[-1]):
            subject_words = subject_words[:-1]  # "a snowman slowly melts": the adverb is no part of who
        if subject_words and subject_words[0].lower() in ("in", "on", "at") and "," in " ".join(subject_words):
            subject_words = " ".join(subject_words).split(",", 1)[1].split()
        verb_words = words[v:]
        passive = onset = False
        copula = verb_words[0].lower() in AUX and len(verb_words) > 1 and _is_state(verb_words[1].lower())
        if copula:  # "until the roofs are white": they become white
            verb_words = ["become"] + verb_words[1:]
        elif verb_words[0].lower() in AUX and len(verb_words) > 1:
            passive = verb_words[1].lower().endswith(("ed", "en")) or verb_words[1].lower() == participle(
                verb_lemma(verb_words[1]) or verb_words[1])
            verb_words = verb_words[1:]
        lemma = verb_lemma(verb_words[0]) or verb_words[0].lower()
        if not subject_words and self.last is not None and self.last.passive and \
                verb_words[0].lower() == participle(lemma) and verb_words[1:2] != ["a"]:
            passive = True  # "is taken out of the oven and sliced": still passive
        is_participle = verb_words[0].lower().endswith("ing") and not passive
        rest = verb_words[1:]
        if lemma in ("start", "begin") and rest:  # "starts falling", "begins to rain"
            nxt = rest[1:] if rest[0].lower() == "to" and len(rest) > 1 else rest
            if verb_lemma(nxt[0]):
                lemma, rest, onset = verb_lemma(nxt[0]), nxt[1:], True
        elif lemma in ("start", "begin") and subject_words and subject_words[-1].lower() in STARTS:
            # "as the rain begins", "the fireworks begin": what they do starts (never "beginning to begin")
            lemma, onset = STARTS[subject_words[-1].lower()], True
        np = " ".join(subject_words).strip(" ,")
        np = np if link in ("as", "until") else self._owned(np)  # "..., his sister reading": the boy is in the frame
        subject, lemma, weather = self._who(np, lemma, rest, copula)
        if subject is not None and not weather:
            self.actor = subject
            self.mention(subject)
        rest_text = self.replace_pronouns(" ".join(rest), subject)
        places = self._things(rest_text, rest, lemma)
        if lemma in CREATE_INTO:  # "stacks blocks into a tower and knocks it over": "it" is the tower
            for made in re.findall(r"\binto\s+((?:a|an|two|three|four|several|many)\s+(?:[\w'-]+\s+){0,2}?[\w'-]+|"
                                   r"(?:[\w'-]+\s+){0,2}?[\w'-]+s)(?=\s+(?:%s)\b|$)" % "|".join(PREPOSITIONS), rest_text):
                self.mention(entity(made))
        clause = Clause(subject, lemma, rest_text, participle=is_participle, passive=passive, onset=onset,
                        sudden=link == "sudden", weather=weather, places=places)
        if lemma in CHANGE and rest and rest[0].lower() in ("into", "to") and len(rest) > 1 and \
                colour_target(" ".join(rest)) is None:
            self.actor = entity(" ".join(rest[1:]))  # what flies away is the butterfly now
            self.mention(self.actor)
        return clause
