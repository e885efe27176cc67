"""Small, true variations for a prompt where nothing happens (issue 24, "honest limits"): a bare
subject ("a red fox"), a still scene ("a quiet mountain lake with mist over the water") or an
ongoing state ("a cat sleeps on the windowsill", "a girl reads under a tree").

An image model draws eight copies of the same words as eight copies of the same picture, so the
frames vary in what is seen, and only by what the prompt itself implies:
- a living subject's own small movements (a fox turning its head, a sleeping cat's ear
  twitching, a reader turning a page), from tables by what it is and what it is doing;
- the natural motion of what the prompt names (mist drifting over the water, flames flickering,
  steam rising from a cup of tea, rain running down a window, branches stirring).
Nothing is invented: no event, no new object, no change of the time of day. The variations are
beats of a slow loop (they may return to where they began), never a progress to an end.
"""

from __future__ import annotations

import re

from .offline_grammar import DETERMINERS, FEMALE, MALE, PEOPLE, PREPOSITIONS, ing, lemmas

# What a living subject is decides how it moves: heads by kind (plural forms are lemmatized first).
BEASTS = set("""fox dog puppy pup cat kitten wolf deer fawn horse pony foal lion lioness tiger leopard cheetah jaguar
bear cub rabbit bunny hare squirrel chipmunk cow calf bull sheep lamb goat pig piglet koala panda elephant giraffe
zebra monkey gorilla chimpanzee mouse rat hamster raccoon otter badger hedgehog moose elk bison buffalo camel donkey
llama alpaca kangaroo sloth lynx retriever labrador corgi poodle husky beagle terrier dachshund pug collie shepherd
bulldog spaniel sheepdog""".split())
# Beasts with a tail worth drawing (a koala's or a bear's is not).
TAILED = BEASTS - set("koala bear cub panda gorilla chimpanzee sloth pig piglet hamster rabbit bunny hare pug".split())
BIRDS = set("""bird owl eagle hawk falcon swan duck duckling goose parrot robin sparrow pigeon dove seagull gull crow
raven heron egret stork crane flamingo penguin hummingbird kingfisher peacock chicken hen rooster chick woodpecker
blackbird finch magpie cardinal bluejay jay vulture pelican puffin""".split())
SWIMMERS = set("fish goldfish koi whale dolphin shark octopus seal manta stingray clownfish".split())
FROGS = set("frog toad lizard gecko iguana chameleon snake turtle tortoise".split())
WINGS = set("butterfly moth dragonfly".split())
VESSELS = set("boat sailboat ship yacht canoe kayak rowboat ferry raft gondola dinghy".split())
# People the grammar's PEOPLE list does not name (it only tells a person from a thing for "it").
MORE_PEOPLE = set("""teenager teen grandma grandpa guy businessman businesswoman commuter traveler traveller tourist
hiker passenger monk nun bride groom librarian writer reader shepherd cowboy nurse stranger soldier poet widow old
athlete worker man woman crowd audience ballerina model actor actress guitarist pianist violinist drummer boxer
pirate princess prince wizard witch ninja samurai firefighter officer policeman policewoman scientist surgeon
cashier clerk hostess lifeguard climber skater cyclist jogger""".split())

# A living subject's small movements while it does what the prompt says (or nothing the prompt says),
# in the order of a slow loop. "its" is the subject's own (their for many); people's are "the".
MOVES = {
    (None, "beast"): ("looking ahead", "turning its head to one side", "ears twitching", "sniffing the air",
                      "lowering its head", "raising its head", "glancing over its shoulder", "looking straight ahead"),
    (None, "bird"): ("looking ahead", "turning its head", "head tilted to one side", "ruffling its feathers",
                     "feathers settling", "blinking", "glancing over its shoulder", "looking straight ahead"),
    (None, "swimmer"): ("fins rippling", "turning slowly", "gliding forward", "tail sweeping to one side",
                        "turning back", "hovering in place", "fins spread wide", "gliding on"),
    (None, "jellyfish"): ("bell pulsing", "tentacles trailing below", "bell contracting", "drifting upward",
                          "tentacles spreading out", "bell opening wide", "tentacles swaying", "drifting on"),
    (None, "frog"): ("sitting motionless", "throat puffing out", "blinking", "turning its head", "throat swelling",
                     "eyes half closed", "head raised", "throat deflating"),
    (None, "wings"): ("wings spread open", "wings slowly closing", "wings folded together", "antennae twitching",
                      "wings opening", "wings half open", "wings fluttering", "wings spread wide"),
    (None, "vessel"): ("bobbing gently", "rocking slightly", "drifting a little", "bobbing on small ripples",
                       "swinging slowly round", "rocking gently", "settling on the water", "bobbing on the water"),
    (None, "person"): ("looking ahead", "glancing to one side", "a faint smile", "looking down", "looking up",
                       "turning the head", "eyes closed for a moment", "smiling"),
    ("sleep", "beast"): ("curled up, eyes closed", "breathing slowly", "an ear twitching", "a paw twitching",
                         "stretching out a paw", "shifting a little", "curled up tighter", "nose tucked in"),
    ("sleep", "bird"): ("head tucked under a wing", "feathers fluffed up", "breathing slowly", "shifting a little",
                        "feathers settling", "an eye opening briefly", "head tucked back in", "sleeping soundly"),
    ("sleep", "person"): ("eyes closed, breathing slowly", "stirring slightly", "turning the head a little",
                          "a hand curled near the face", "breathing deeply", "a faint smile", "shifting a little",
                          "sleeping soundly"),
    ("lie", "beast"): ("head resting on its paws", "ears twitching", "lifting its head", "looking around", "yawning",
                       "stretching out", "blinking slowly", "head back down on its paws"),
    ("lie", "person"): ("eyes closed", "breathing slowly", "opening the eyes", "looking up", "turning the head",
                        "an arm stretched out", "a faint smile", "eyes drifting shut"),
    ("sit", "person"): ("looking ahead", "turning the head to one side", "hands resting in the lap",
                        "{lean}", "looking down", "looking up", "glancing to the other side",
                        "a faint smile"),
    ("wait", "person"): ("looking ahead", "glancing to one side", "looking into the distance", "folding the arms",
                         "looking down", "glancing up", "looking to the other side", "letting out a sigh"),
    ("wait", "beast"): ("ears pricked up", "head tilted to one side", "looking up expectantly", "shifting its paws",
                        "lying down, chin on its paws", "lifting its head", "ears pricking up", "watching intently"),
    ("read", "person"): ("eyes on the page", "turning a page", "smiling at the page", "a finger tracing a line",
                         "looking up from the page", "eyes back on the page", "resting the chin on one hand",
                         "turning another page"),
    ("study", "person"): ("bent over the notes", "writing a note", "turning a page", "chin resting on one hand",
                          "looking up, thinking", "leaning back to stretch", "eyes back on the notes",
                          "underlining a line"),
    ("scroll", "person"): ("eyes on the screen", "a thumb swiping up the screen", "smiling at the screen",
                           "tapping the screen", "glancing up from the screen", "{look_out}", "eyes back on the screen",
                           "scrolling on"),
    ("watch", "person"): ("eyes on {what}", "leaning forward", "a faint smile", "head tilted", "{laugh}",
                          "leaning back", "resting the chin on one hand", "eyes wide"),
    ("watch", "beast"): ("eyes fixed on {what}", "ears pointed forward", "head tilted", "head following {what}",
                         "crouching low", "leaning closer", "blinking slowly", "watching intently"),
    ("stare", "person"): ("gazing ahead", "lost in thought", "{touch}", "leaning closer", "{breath}", "head tilted",
                          "{view}", "{reflection}"),
    ("text", "person"): ("eyes on the screen", "typing with both thumbs", "smiling at the screen",
                         "thumbs paused over the screen", "typing quickly", "glancing up from the screen", "{look_out}",
                         "eyes back on the screen"),
    ("perch", "bird"): ("feathers smooth", "turning its head", "blinking slowly", "ruffling its feathers",
                        "glancing over its shoulder", "feathers settling", "head tilted", "shifting its grip"),
    ("graze", "beast"): ("head down, grazing", "tearing at the grass", "chewing", "lifting its head", "ears turning",
                         "stepping forward", "looking around", "lowering its head to graze"),
    ("meditate", "person"): ("eyes closed, breathing slowly", "hands resting on the knees", "breathing in deeply",
                             "shoulders relaxed", "breathing out slowly", "a faint smile", "head slightly bowed",
                             "eyes closed, face calm"),
    ("stare", "beast"): ("eyes fixed ahead", "ears twitching", "{nose}", "head tilted", "{view}", "ears pricked up",
                         "blinking slowly", "watching intently"),
    ("listen", "person"): ("eyes closed", "nodding along", "a faint smile", "head swaying", "tapping a foot",
                           "eyes opening", "mouthing the words", "humming along"),
}
# A beast with a tail moves it too: which beat of a beast's loop it takes, and how it moves.
_TAILS = {None: (5, "tail swishing"), "sleep": (5, "tail curling around"), "lie": (5, "tail flicking"),
          "wait": (3, "tail wagging a little"), "watch": (6, "tail twitching"), "graze": (6, "tail swishing")}
MOVES.update({(state, "tailed"): MOVES[(state, "beast")][:at] + (tail,) + MOVES[(state, "beast")][at + 1:]
              for state, (at, tail) in _TAILS.items()})
# Verbs that are the same quiet state to draw ("dozes" is asleep, "gazes" is staring).
SAME = {"nap": "sleep", "doze": "sleep", "snooze": "sleep", "slumber": "sleep", "rest": "lie", "relax": "sit",
        "bask": "lie", "sunbathe": "lie", "lay": "lie", "gaze": "stare", "daydream": "stare", "look": "stare",
        "peer": "stare", "browse": "scroll", "text": "text", "stand": None, "hover": None, "float": None, "stay": None,
        "remain": None, "kneel": "sit", "lean": "sit", "perch": "perch", "roost": "perch", "sleep": "sleep",
        "sit": "sit", "lie": "lie", "wait": "wait", "read": "read", "study": "study", "scroll": "scroll",
        "watch": "watch", "stare": "stare", "graze": "graze", "listen": "listen", "meditate": "meditate",
        "pray": "meditate", "curl": "lie",
        "snuggle": "lie", "huddle": "lie", "cuddle": "lie", "hang": None, "live": None,
        "glow": None, "shimmer": None, "sparkle": None, "gleam": None, "glisten": None, "bask": "lie", "wear": None,
        "hold": None, "shine": None, "drift": None}
# Ongoing, quiet activities that have no product and no end: the writer draws them as states
# (never "about to read" / "nearly done reading" / "having just read": an image model draws those alike).
QUIET = {"read", "study", "scroll", "text", "browse", "meditate", "stare", "gaze", "daydream", "nap", "doze", "snooze",
         "slumber", "relax", "bask", "sunbathe", "listen", "peer"}
# Looking out of a window is no exit ("stares out of a rainy window" never leaves the frame).
LOOKING = {"stare", "gaze", "look", "peer", "watch", "glance", "daydream"}
# Someone aboard a bus, a train or a car: the view goes by its windows.
RIDING = ("the view outside the window passing by", "the view outside sliding past", "the view outside blurring by",
          "light through the window shifting across the seats")
_VEHICLES = ("bus", "train", "tram", "subway", "car", "taxi", "plane", "ferry", "metro")
_ABOARD = re.compile(r"\b(?:on|in|inside|aboard)\s+(?:the|a|an)\s+(?:(?:back\s+|front\s+)?seat\s+of\s+(?:the|a|an)\s+)?"
                     r"(?:%s)\b(?!\s+stop)" % "|".join(_VEHICLES))

# Words that take a motion away: "a calm sea" rolls no waves, "a snowy forest" rustles no leaves,
# "iced coffee" does not steam; flowers in a vase do not sway, a bowl of soup on a stove may steam.
_CALM = {"calm", "still", "glassy", "frozen", "icy"}
_COLD = {"iced", "cold", "frozen", "icy"}
_WINTRY = {"snowy", "snow", "winter", "wintry", "frozen", "bare"}
_NEEDLES = {"pine", "pines", "fir", "spruce", "palm", "palms", "blossoms"}  # their own motion, no leaves
_INDOORS = {"vase", "bouquet", "pot", "room", "kitchen", "table", "shelf", "windowsill"}
_PLANTED = {"sunflowers", "flowers", "wildflowers", "tulips", "poppies", "daisies", "lavender", "dandelions", "wheat",
            "barley", "corn", "rice", "cotton", "crops", "pumpkins", "strawberries", "vines", "grapes"}
_MOVING = {"swaying", "sway", "sways", "rippling", "flickering", "fluttering", "rustling", "blowing", "windy", "wind",
           "breeze", "breezy", "waving", "crackling", "dancing"}
_STILL_WATERS = {"lake", "pond", "pool", "lagoon", "river", "stream", "creek", "brook", "canal", "reservoir"}
_PLURAL_PLANTS = {"sunflower": "sunflowers", "flower": "flowers", "wildflower": "wildflowers", "tulip": "tulips",
                  "poppy": "poppies", "daisy": "daisies", "dandelion": "dandelions"}
_PLANTED |= set(_PLURAL_PLANTS)
_UNDERWATER = {"deep", "underwater", "reef", "seabed", "depths", "aquarium", "tank"}
_GLASS = {"window", "windows", "glass", "windshield", "windscreen", "windowpane"}
_SEA = {"wave", "waves", "surf", "sea", "ocean", "beach", "coast", "island"}
_NIGHT = {"night", "nighttime", "midnight", "nightfall"}
# A word that only says what kind of thing comes next: "rain clouds" need not be raining.
_MODIFIED = (["clouds"], ["cloud"], ["coat"], ["boots"], ["jacket"])
_UNDER_TREES = {"park", "forest", "woods", "tree", "trees", "garden", "street", "path", "avenue", "yard"}


def _always(words: set[str], head: str) -> bool:
    return True


def _at_sea(words: set[str], head: str) -> bool:
    """Waves where the sea is named (or a lighthouse stands over it), not under the water
    ("a jellyfish in the deep ocean"), not on a calm sea, not on a lake's shore."""
    sea = words & _SEA or "shore" in words and not words & _STILL_WATERS or head.lower() == "lighthouse"
    return bool(sea) and not words & (_CALM | _UNDERWATER) and _kind(head, False) not in ("swimmer", "jellyfish")


def _on_glass(words: set[str], head: str) -> bool:
    return bool(words & _GLASS)


def _in_the_open(words: set[str], head: str) -> bool:
    return not words & _GLASS


def _hot(words: set[str], head: str) -> bool:
    return not words & _COLD


def _leafy(words: set[str], head: str) -> bool:
    return not words & (_WINTRY | _NEEDLES)


def _snowy(words: set[str], head: str) -> bool:
    return bool(words & _WINTRY)


def _outdoors(words: set[str], head: str) -> bool:
    return not words & _INDOORS


def _unfrozen(words: set[str], head: str) -> bool:
    return not words & {"frozen", "icy"}


def _lit_at_night(words: set[str], head: str) -> bool:
    return bool(words & _NIGHT) and "christmas" not in words


def _on_water(words: set[str], head: str) -> bool:
    return bool(words & (_SEA | _STILL_WATERS | {"water"}))


def _under_trees(words: set[str], head: str) -> bool:
    return bool(words & _UNDER_TREES)


# The motion of what the prompt names: (the words that name it, its beats, when it is true of the
# scene), strongest first (two at most go into one script). "{w}" is the prompt's own word for it.
ELEMENTS = [
    ({"fireworks", "firework"},
     ("a firework bursting open", "sparks spreading wide", "sparks falling and fading", "a new firework bursting",
      "bursts of color across the sky", "trails of sparks drifting down"), _always),
    ({"aurora", "northern"},  # "the northern lights"
     ("the lights rippling across the sky", "curtains of light shifting", "the lights fading and brightening",
      "ribbons of light swirling", "the lights rippling overhead", "curtains of light drifting"), _always),
    ({"blossoms", "blossom", "sakura"},
     ("blossoms trembling on the branches", "a few petals drifting down", "branches of blossoms swaying",
      "petals drifting down", "petals settling on the ground", "blossoms stirring"), _always),
    ({"sunset", "sundown"},  # the prompt's sunset goes on: the sun goes down
     ("the sun low in the sky", "the sun sinking toward the horizon", "the sun touching the horizon",
      "the sun half below the horizon", "the sun almost gone", "the sky glowing after the sun has set"), _always),
    ({"sunrise"},
     ("the sky glowing before the sun", "the sun just peeking over the horizon", "the sun half above the horizon",
      "the sun clearing the horizon", "the sun rising higher", "the sun low in the morning sky"), _always),
    ({"storm", "stormy", "thunderstorm"},
     ("dark clouds rolling overhead", "rain lashing down", "a flash of lightning in the distance",
      "wind whipping the rain sideways", "dark clouds churning", "rain sweeping across in sheets"), _always),
    ({"fire", "campfire", "bonfire", "fireplace", "fireside", "hearth"},
     ("flames flickering low", "flames rising higher", "flames leaping up", "sparks drifting up", "flames swaying",
      "embers glowing under the flames", "flames flickering", "flames settling lower"), _always),
    ({"candle", "candles", "candlelight", "lantern"},
     ("the flame steady", "the flame flickering", "the flame bending to one side", "the flame standing tall",
      "the flame wavering", "the flame dancing"), _always),
    ({"waterfall", "falls", "cascade"},
     ("water pouring over the edge", "spray rising from the pool below", "water crashing down",
      "mist drifting from the falls", "water tumbling over the rocks", "spray catching the light"), _always),
    ({"tea", "coffee", "cocoa", "chocolate", "soup", "ramen", "stew", "latte", "espresso", "cappuccino", "noodles",
      "porridge", "broth", "chai"},
     ("a wisp of steam rising", "steam curling up", "steam swirling up", "steam drifting away",
      "a thin thread of steam", "steam rising in a thin ribbon"), _hot),
    (_SEA | {"shore", "lighthouse"},
     ("waves rolling in", "a wave breaking", "foam spreading", "the water pulling back", "a new wave building",
      "the surf washing in"), _at_sea),
    ({"mist", "misty", "fog", "foggy", "haze", "hazy"},
     ("the {w} lying low", "the {w} stirring", "the {w} drifting slowly", "the {w} curling",
      "the {w} thinning in places", "wisps of {w} drifting"), _always),
    ({"lake", "pond", "pool", "lagoon", "water", "puddle"},
     ("the water calm", "faint ripples on the water", "ripples spreading across the water", "the water rippling",
      "the ripples fading", "the water settling"), _unfrozen),
    ({"river", "stream", "creek", "brook", "canal"},
     ("the water flowing", "the current rippling", "the water glinting in the current", "the current swirling",
      "the water flowing on", "ripples running downstream"), _always),
    ({"rain", "rainy", "raindrops"},  # on a window (a still scene "in the rain" steps its strength: still_setting)
     ("raindrops on the glass", "a raindrop sliding down the glass", "rain streaking the glass",
      "drops gathering on the glass", "rivulets running down the glass", "fresh drops hitting the glass"), _on_glass),
    ({"rain", "rainy", "raining"},
     ("rain falling steadily", "raindrops splashing on the ground", "rain streaking down",
      "ripples spreading in puddles", "raindrops bouncing off the ground", "rain drifting down"), _in_the_open),
    ({"moonlight", "moonlit", "sunlight", "sunlit"},
     ("light shimmering on the water", "the light rippling on the surface", "glints of light dancing",
      "the light breaking into ripples", "the shimmer spreading", "light glinting on the water"), _on_water),
    ({"stars", "starry", "starlit"},
     ("stars twinkling", "a few stars brightening", "stars glittering", "stars twinkling faintly", "a star flickering",
      "stars glittering overhead"), _always),
    ({"skyline", "city", "town", "village", "street", "harbor", "harbour"},
     ("lights twinkling in the windows", "lights glittering in the distance", "a few windows lighting up",
      "lights shimmering", "lights twinkling", "a few windows going dark"), _lit_at_night),
    ({"busy", "crowded", "bustling"},
     ("people passing by", "people walking past", "the crowd moving", "people crossing", "people strolling by",
      "the crowd shifting"), _always),
    ({"tree", "trees", "forest", "woods", "branch", "branches", "jungle", "oak", "willow", "maple", "birch"},
     ("branches barely moving", "branches stirring", "leaves rustling", "branches swaying gently", "leaves trembling",
      "branches settling"), _leafy),
    ({"tree", "trees", "forest", "woods", "branch", "branches", "pine", "pines"},
     ("snow resting on the branches", "branches stirring", "snow sifting down from a branch",
      "branches swaying gently", "a branch letting fall its snow", "branches settling"), _snowy),
    ({"pine", "pines", "fir", "firs", "spruce", "evergreen", "evergreens"},
     ("the pines barely moving", "pine branches stirring", "the pines swaying gently", "pine needles trembling",
      "pine branches settling", "pine branches swaying"), _always),
    ({"palm", "palms"},
     ("palm fronds barely moving", "palm fronds stirring", "palm fronds swaying", "palm fronds settling"), _always),
    ({"grass", "meadow", "field", "wheat", "hay", "reeds", "prairie", "barley", "corn"},
     ("the {g} barely moving", "the {g} rippling", "the {g} swaying", "a ripple running through the {g}",
      "the {g} bending", "the {g} settling"), _always),
    ({"sunflowers", "flowers", "wildflowers", "tulips", "poppies", "daisies", "lavender", "dandelions", "sunflower",
      "wildflower", "tulip", "poppy", "daisy", "dandelion"},  # one flower under a bee is no field of them
     ("the {w} barely moving", "the {w} nodding", "the {w} swaying", "the {w} trembling", "the {w} bending",
      "the {w} settling"), _outdoors),
    ({"fish", "goldfish", "koi"},
     ("fish gliding past", "fish turning slowly", "a fish darting ahead", "fish drifting",
      "fish weaving past each other", "fish gliding on"), _always),
    ({"autumn"},
     ("a few leaves drifting down", "leaves drifting down", "a leaf landing on the ground", "leaves settling",
      "a leaf spinning down", "leaves tumbling down"), _under_trees),
    ({"cloud", "clouds", "cloudy"},
     ("clouds drifting slowly", "clouds moving across the sky", "the light shifting as clouds pass",
      "clouds drifting on", "clouds thinning in places", "clouds gathering"), _always),
    ({"chimney"}, ("smoke rising from the chimney", "smoke curling up", "smoke drifting sideways", "smoke thinning"),
     _always),
    ({"flag", "flags"}, ("the {w} hanging limp", "the {w} stirring", "the {w} fluttering", "the {w} rippling"),
     _always),
    ({"windmill"}, ("the sails turning slowly", "the sails turning", "a sail sweeping past the top",
                    "the sails turning on"), _always),
]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+(?:'[a-z]+)?", text.lower())


def _kind(head: str, person: bool) -> str | None:
    """What a living subject is ('beast', 'tailed', 'bird', ...), or None for a thing."""
    h = head.lower()
    nouns = lemmas(h).get("NOUN") or (h,)
    h = h if h in nouns else nouns[0]  # "swans" -> "swan"
    if person or h in PEOPLE or h in MORE_PEOPLE:
        return "person"
    if h == "jellyfish":
        return "jellyfish"
    for kind, heads in (("tailed", TAILED), ("beast", BEASTS), ("bird", BIRDS), ("swimmer", SWIMMERS),
                        ("frog", FROGS), ("wings", WINGS), ("vessel", VESSELS)):
        if h in heads:
            return kind
    return None


def _moves(kind: str, state: str | None) -> tuple[str, ...] | None:
    """The loop of small movements for `kind` in `state` (a tailed beast falls back to a beast's)."""
    for k in ((kind, "beast") if kind == "tailed" else (kind,)):
        if (state, k) in MOVES:
            return MOVES[(state, k)]
    return MOVES.get((None, kind)) if state in (None, "sit", "lie", "wait", "stare") or kind != "person" else None


# A beat's slots: (the words where the prompt names what they need, the words otherwise), and what they need:
# glass to lean on or breathe on (a window), a vehicle whose view goes by, a rocking chair.
SLOTS = {"look_out": ("looking up out of the window", "looking around"),
         "touch": ("a hand resting on the glass", "a hand raised to the chin"),
         "breath": ("breath fogging the glass", "a slow breath"),
         "reflection": ("a faint reflection in the glass", "eyes half closed"),
         "lean": ("rocking gently back and forth", "leaning back a little"),
         "view": ("the view outside sliding past", "blinking slowly"),
         "nose": ("nose close to the glass", "sniffing the air"),
         "laugh": ("laughing", "looking on quietly")}
_NEEDS = {"look_out": _GLASS | set(_VEHICLES), "touch": _GLASS, "breath": _GLASS, "reflection": _GLASS,
          "lean": {"rocking"}, "view": set(_VEHICLES), "nose": _GLASS,
          "laugh": {"tv", "television", "screen", "cartoons", "cartoon", "movie", "film", "show", "comedy", "sitcom"}}


def _fill(beat: str, rest: str, words: set[str]) -> str | None:
    """A beat's slots from the prompt's own words, or None where the prompt does not give them."""
    what = re.match(r"((?:the|a|an|some|his|her|their|its)?\s*[\w'-]+(?:\s+[\w'-]+)?)(?:\s+(?:%s)\b|$)"
                    % "|".join(sorted(PREPOSITIONS)), rest, re.I)
    seen = what.group(1).strip() if what and what.group(1).split()[0].lower() not in PREPOSITIONS else None
    if seen and seen.split()[0].lower() not in DETERMINERS:
        seen = f"the {seen}"  # "watches birds": eyes fixed on the birds
    slots = {"what": seen, **{k: yes if words & _NEEDS[k] else no for k, (yes, no) in SLOTS.items()}}
    names = re.findall(r"\{(\w+)\}", beat)
    if any(slots.get(n) is None for n in names):
        return None
    for n in names:
        beat = beat.replace("{%s}" % n, slots[n])
    return beat


def _doing(verb: str | None, rest: str) -> tuple[str | None, str]:
    """What the subject is busy with: 'sitting on a bench watching the sunset' is watching (the
    sitting is where), 'lying in bed looking at her phone' is looking at the phone."""
    later = re.search(r"\b([a-z]+ing)\b\s*(.*)$", rest)
    lemma = (lemmas(later.group(1)).get("VERB") or ("",))[0] if later else ""
    if lemma == "do" and re.match(r"(?:his|her|their|some)?\s*homework\b", later.group(2)):
        lemma = "study"  # "sitting at his desk doing homework"
    return (lemma, later.group(2)) if later and SAME.get(lemma) else (verb, rest)


_BODY = ("head", "lap", "chin", "eyes", "arms", "face", "legs", "knees", "shoulders")


def _pronoun(head: str, rest: str) -> str | None:
    """'her' or 'his' for a person the prompt says is a woman or a man (by the noun or its own
    'her'/'his'), else None (the body's parts keep 'the')."""
    h = head.lower()
    said = re.findall(r"\b(her|his)\b", rest.lower())
    if h in FEMALE or said[:1] == ["her"]:
        return "her"
    if h in MALE or said[:1] == ["his"]:
        return "his"
    return None


def subject_moves(head: str, person: bool, plural: bool, verb: str | None, rest: str, words: set[str]) -> list[str]:
    """A living subject's small movements while it does `verb` (a lemma; None for a bare subject)."""
    kind = _kind(head, person)
    verb, rest = _doing(verb, rest)
    state = SAME.get(verb, "") if verb else None
    if kind is None or state == "":
        return []
    if state == "watch" and kind == "person" and re.match(r"(?:the\s+)?(?:tv|television)\b", rest, re.I):
        rest = "the screen"  # "watches TV": the screen, its light on the face
    if state == "stare" and kind == "person" and re.search(r"\b(?:phone|screen|laptop|tablet|computer)\b", rest, re.I):
        state = "scroll"  # "looking at her phone"
    beats = _moves(kind, state) or ()
    if re.search(r"\bhead\s+(?:on|in|against)\b", rest):  # "resting its head on its owner's lap": it stays there
        beats = tuple(b for b in beats if "head" not in b)
    said = set(words) | ({ing(verb)} if verb else set())  # "a smiling baby", "scrolls through her phone": once
    beats = tuple(b for b in beats if not (b.split()[0].endswith("ing") and b.split()[0] in said))
    out = [b for b in (_fill(x, rest, words) for x in beats) if b]
    own = _pronoun(head, rest) if kind == "person" and not plural else None
    if own:  # "a woman ..., turning her head", "an old man ..., hands resting in his lap"
        out = [re.sub(r"\bthe (%s)\b" % "|".join(_BODY), rf"{own} \1", b) for b in out]
    if plural:  # "two swans": their heads
        out = [re.sub(r"\bits (head|shoulder|grip|nose|ear|paw)\b", r"their \1s", b) for b in out]
        out = [re.sub(r"\bits\b", "their", b) for b in out]
        out = [re.sub(r"^(head|tail|nose|chin)\b", r"\1s", b) for b in out]  # "tails flicking", "heads tilted"
        if kind == "person":  # "two old men": their heads, their laps
            out = [re.sub(r"\bthe (head|lap|chin|eye|arm|face|leg)s?\b", r"their \1s", b) for b in out]
    return out if len(out) >= 4 else []


def element_moves(prompt: str, subject_head: str = "") -> list[list[str]]:
    """The motion of each thing the prompt names that moves by itself, strongest first."""
    words = _words(prompt)
    seen = set(words)
    found = []
    for keys, beats, when in ELEMENTS:
        hit = next((w for k, w in enumerate(words) if w in keys and words[k + 1:k + 2] not in _MODIFIED), None)
        if hit is None or not when(seen, subject_head):
            continue
        word = {"misty": "mist", "foggy": "fog", "hazy": "haze"}.get(hit, hit)
        word = _PLURAL_PLANTS.get(word, word)  # "a sunflower field": the sunflowers
        grass = word if word not in ("meadow", "field", "prairie") else "grass"
        if grass == "grass" and word != "grass" and seen & _PLANTED:
            continue  # "a field of sunflowers" is no field of grass: the sunflowers move
        said = [b.replace("{w}", word).replace("{g}", grass) for b in beats]
        new = [b for b in said if set(_words(b)) - seen - {"the", "a", "an"}]  # "smoke rising from a chimney": once
        found.append(new if len(new) >= 3 else said)
    return found


def interleave(tracks: list[list[str]], n: int) -> list[list[str]]:
    """n frames of beats from one or two tracks: the first track moves every frame where it has
    enough beats, else the two take turns (each frame changes one of them), so no two
    neighbouring frames are the same."""
    a = tracks[0]
    b = tracks[1] if len(tracks) > 1 else None
    if b is None or len(a) >= n - 1:  # the first track alone keeps neighbours apart (a loop of moves may wrap once)
        pick = [a[round(k * (len(a) - 1) / max(1, n - 1))] if len(a) >= n else a[k % len(a)] for k in range(n)]
        if b is None:
            return [[x] for x in pick]
        return [[x, b[min(len(b) - 1, k * len(b) // n)]] for k, x in enumerate(pick)]
    return [[a[(k + 1) // 2 % len(a)], b[k // 2 % len(b)]] for k in range(n)]


def still_frames(text: str, prompt: str, n: int, head: str = "", person: bool = False, plural: bool = False,
                 verb: str | None = None, rest: str = "") -> list[str] | None:
    """n frames of `text` (the scene as the writer words it) with small true variations, or None
    where nothing in the prompt moves by itself (the framing alone changes then)."""
    aboard = re.sub(r"\b(?:%s)\s+(?:stop|station|shelter|platform|depot|terminal)s?\b" % "|".join(_VEHICLES), "stop",
                    prompt)
    words = set(_words(aboard))  # "at a bus stop" is no seat on a bus: no view through its window
    tracks = []
    mover = subject_moves(head, person, plural, verb, rest, words) if head else []
    if mover:
        tracks.append(mover)
    if mover and _ABOARD.search(aboard):
        tracks.append(list(RIDING))  # "scrolls through her phone on the bus": the bus goes on
    tracks += [t for t in element_moves(prompt, head) if not (mover and t[0].startswith("the water calm")) and
               not (_kind(head, person) == "swimmer" and t[0].startswith("fish"))]  # "a koi fish": it moves itself
    if words & _MOVING:  # "flowers swaying in the wind": never "barely moving"
        tracks = [[b for b in t if not re.search(r"barely moving|\bcalm\b|\bsteady\b|hanging limp", b)] for t in tracks]
    if not tracks or n < 2:
        return None
    return [f"{text}, {', '.join(beats)}" for beats in interleave(tracks[:2], n)]


# A picture of someone: the someone is the subject ("portrait of an old fisherman").
FRAMED = {"portrait", "photo", "photograph", "picture", "painting", "image", "close-up", "closeup", "shot", "view",
          "drawing", "sketch", "illustration"}
_MORE_PREPOSITIONS = {"during", "amid", "amidst", "among", "beneath", "within", "underneath", "atop", "like", "near"}
# A state said by a word after the subject's noun ("a puppy asleep on a rug").
AFTER_HEAD = {"asleep": "sleep", "awake": None, "alone": None}


def bare_subject(text: str) -> tuple[str, bool, str | None]:
    """A verbless scene's subject: (its head noun, plural, a state its adjective names):
    'a sleeping baby in a crib' -> ('baby', False, 'sleep')."""
    words = text.split()
    framed = next((k for k in range(len(words) - 2) if words[k].lower() in FRAMED and words[k + 1].lower() == "of"),
                  None)
    if framed is not None:  # "portrait of an old fisherman": the fisherman
        words = words[framed + 2:]
    np = []
    for w in words:
        if w.lower() in PREPOSITIONS | _MORE_PREPOSITIONS | {"and", ","} or w.endswith(","):
            if w.endswith(","):
                np.append(w.rstrip(","))
            break
        np.append(w)
    np = [w for w in np if w.lower() not in DETERMINERS] or np
    after = None
    if len(np) > 1 and np[-1].lower() in AFTER_HEAD:  # "a puppy asleep on a rug"
        after = AFTER_HEAD[np.pop().lower()]
    owner = next((w[:-2] for w in np if w.lower().endswith("'s")), None)  # "a cat's face": the cat moves
    head = owner or (re.sub(r"[^\w'-]", "", np[-1]) if np else "")
    state = after or next((SAME[v] for w in np[:-1] for v in lemmas(w.lower()).get("VERB", ())
                  if w.lower().endswith("ing") and SAME.get(v)), None)
    first = words[0].lower() if words else ""
    many = first in ("two", "three", "four", "five", "several", "many", "some") or \
        (bool(lemmas(head.lower()).get("NOUN")) and head.lower() not in lemmas(head.lower())["NOUN"])
    return head, many, state
