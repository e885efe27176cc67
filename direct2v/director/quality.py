"""The quality gate every director's answer passes after parsing (issues 11 and 24).

A frame prompt is drawn by Stable Diffusion on its own, so a parsed answer with the right
count can still be unusable. The form rules, each cheap and exact:
- it fits CLIP's window: at most 77 tokens including the style (the bundled CLIP BPE);
- it is not word for word the frame before it (two identical pictures in a row);
- it has no English word that points at another frame ("it", "they", "the same", "again",
  "still", "continues", ...): the image model cannot see the other frames.
With the user's prompt the gate also reads the content (`content_problems`):
- a frame names the prompt's subject, or at least some noun of the prompt (else the picture
  drifts to something the user did not ask for);
- a frame is not the one before it with only shot and camera words changed (the same picture);
- the script is not the prompt itself repeated;
- where the prompt ends with its subject gone ("vanishes", "flies away"), the last frame
  does not draw the subject (an image model draws every noun it reads, "gone" or not).
LLM back ends send one retry turn naming the failing frames (base.py); what still fails is
accepted and flagged, and the page and the CLI show the flags.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .parsing import same_frame
from .tokens import CLIP_MAX_TOKENS, token_lengths

# "still" is also an adjective ("a still lake", "standing still"): those uses describe the
# picture, not another frame, so the word counts only where it means "as before".
_STILL_ADJECTIVE_AFTER = set("""a an the standing stands stand stood sitting sits sit lying lies lie staying stays
stay remaining remains remain holding holds hold keeping keeps keep perfectly very completely and stock calm
quiet""".split())
_STILL_ADJECTIVE_BEFORE = {"life", "water", "waters", "lake", "pond", "air", "night", "surface", "image", "frame"}
_REFERENCES = re.compile(
    r"\b(?:it|they|them|the\s+same|again|continues|continue|continuing|continued|"
    r"as\s+before|previous(?:ly)?|(?:the\s+)?next\s+frame|still)\b",
    re.I,
)


def reference_words(frame: str) -> list[str]:
    """The words in `frame` that point at other frames, lower-cased, each once, in order."""
    seen: list[str] = []
    for m in _REFERENCES.finditer(frame):
        word = " ".join(m.group(0).lower().split())
        if word == "still":
            before = frame[: m.start()].split()[-1:] or [""]
            after = frame[m.end():].split()[:1] or [""]
            if before[0].lower().strip(",.;") in _STILL_ADJECTIVE_AFTER or after[0].lower().strip(",.;") in _STILL_ADJECTIVE_BEFORE:
                continue
        if word not in seen:
            seen.append(word)
    return seen


def frame_tokens(frame: str, style: str | None = None) -> int:
    """CLIP tokens of `frame` as it will be drawn: with the style, appended if the frame lacks it."""
    if style and style.casefold() not in frame.casefold():
        frame = f"{frame}, {style}"
    return token_lengths([frame])[0]


def frame_problems(frame: str, previous: str | None = None, style: str | None = None, number: int | None = None) -> list[str]:
    """Short clauses naming what is wrong with one frame; [] when it passes."""
    problems = []
    n = frame_tokens(frame, style)
    if n > CLIP_MAX_TOKENS:
        problems.append(f"it has {n} CLIP tokens{' with the style' if style else ''}, more than {CLIP_MAX_TOKENS}")
    if previous is not None and previous.strip() and same_frame(frame, previous):
        problems.append(f"it repeats frame {number - 1} word for word" if number else "it repeats the frame before")
    words = reference_words(frame)
    if words:
        problems.append("it points at other frames (" + ", ".join(f'"{w}"' for w in words) + ")")
    return problems


def script_problems(frames: Sequence[str], style: str | None = None, prompt: str | None = None) -> dict[int, list[str]]:
    """{0-based index: problems} for every frame that fails a rule; {} when the script passes.
    With the user's `prompt` the content rules apply too."""
    found = {}
    for i, frame in enumerate(frames):
        problems = frame_problems(frame, frames[i - 1] if i else None, style, i + 1)
        if problems:
            found[i] = problems
    return merge(found, content_problems(frames, prompt)) if prompt else found


def redirect_problems(frames: Sequence[str], index: int, frame: str, style: str | None = None,
                      prompt: str | None = None) -> list[str]:
    """Problems of a rewritten frame `index` among the table's other rows (either neighbour);
    with the user's `prompt`, the content rules for that row too."""
    problems = frame_problems(frame, frames[index - 1] if index else None, style, index + 1)
    if index + 1 < len(frames) and frames[index + 1].strip() and same_frame(frame, frames[index + 1]):
        problems.append(f"it repeats frame {index + 2} word for word")
    if prompt:
        table = [*frames[:index], frame, *frames[index + 1:]]
        problems += [p for p in content_problems(table, prompt).get(index, []) if p not in problems]
    return problems


def describe(problems: dict[int, list[str]]) -> str:
    """'frame 2: it points at other frames ("it"); frame 5: it repeats frame 4 word for word'."""
    return "; ".join(f"frame {i + 1}: {', and '.join(p)}" for i, p in sorted(problems.items()))


# ---------------------------------------------------------------------- content (issue 24)
# Shot sizes, angles, views and camera moves: words about the framing, not the picture's content.
SHOT_WORDS = re.compile(
    r"\b(?:(?:extreme|very|tight|medium|full|long|establishing|wide|close|close-up|closeup|overhead|aerial|drone|"
    r"tracking|low|high|eye-level|bird's-eye|dutch|side|front|rear|top|three-quarter|over-the-shoulder|pov|static|"
    r"steady|slow|slowly|handheld|cinematic)\s+)*(?:shot|close-up|closeup|close up|view|angle|framing|camera|"
    r"zoom(?:s|ing)?(?:\s+(?:in|out))?|pan(?:s|ning)?(?:\s+(?:left|right))?|tilt(?:s|ing)?(?:\s+(?:up|down))?|"
    r"dolly(?:ing)?(?:\s+(?:in|out))?|push(?:es|ing)?\s+in|pull(?:s|ing)?\s+(?:back|out)|"
    r"(?:centered|left of center|right of center|on the (?:left|right) side|(?:low|high) in|at the (?:top|bottom) of)"
    r"\s+(?:in\s+)?the\s+frame)\b(?:\s+from\s+(?:(?:a|the)\s+(?:low\s+angle|high\s+angle|side)|above))?"
    r"(?:,?\s*(?:slightly\s+|a\s+touch\s+|a\s+little\s+)?closer\b)?",  # the writer's steady push-in
    re.I,
)
_ARTICLES = {"a", "an", "the"}
# Shot or format words in front of what the prompt is of: "A drone shot of a waterfall".
SHOT_OF = re.compile(r"^(?:an?\s+)?((?:extreme\s+)?close-?up|(?:aerial|drone|wide|tracking|overhead|macro|cinematic|"
                     r"slow[- ]motion)\s+(?:shot|view|footage|video)|time-?lapse(?:\s+video)?|slow[- ]motion|footage)"
                     r"\s+of\s+(.+)$", re.I)


# A request around the content: "Show me a cat ...", "Generate a video of ...".
_ASK = re.compile(r"^(?:please\s+)?(?:(?:show|give|make|generate|create|render|draw|film)(?:\s+me)?\s+|i\s+want\s+)?"
                  r"(?:(?:a|an)\s+(?:short\s+)?(?:video|clip|animation|scene|gif|movie|film)\s+(?:of|showing|where|in which)\s+)?",
                  re.I)


def split_shot(prompt: str) -> tuple[str, str]:
    """(what the prompt is of, the shot words in front of it): ("a waterfall", "drone shot");
    a request around it ("Show me ...", "a video of ...") is left out."""
    asked = _ASK.sub("", prompt.strip(), count=1).strip() or prompt.strip()
    m = SHOT_OF.match(asked)
    return (m.group(2), m.group(1)) if m else (asked, "")


# Nouns of every prompt that say nothing about what it is of.
_NOT_CONTENT = {"shot", "view", "angle", "frame", "camera", "close-up", "closeup", "style", "image", "picture", "video",
                "scene", "way", "time", "side", "front", "back", "top", "bottom", "middle", "end", "start"}


def words_of(text: str) -> tuple[str, ...]:
    """The words of `text`, lower-cased, without punctuation and articles: what two texts share."""
    return tuple(w for w in re.findall(r"[^\W_]+(?:['-][^\W_]+)*", text.casefold()) if w not in _ARTICLES)


def strip_shot_words(frame: str) -> str:
    """`frame` without its shot and camera words ("..., extreme close-up" -> "...")."""
    return " ".join(SHOT_WORDS.sub(" ", frame).split()).strip(" ,;.")


def noun_lemmas(text: str) -> set[str]:
    """The lemmas of the words of `text` that can be nouns (lemminflect's lexicon), as a set."""
    from .offline_grammar import DETERMINERS, PREPOSITIONS, SUBJECT_PRONOUNS, lemmas

    found = set()
    for w in words_of(strip_shot_words(text)):
        if w in DETERMINERS or w in PREPOSITIONS or w in SUBJECT_PRONOUNS or w in _NOT_CONTENT:
            continue
        nouns = lemmas(w).get("NOUN")
        if nouns:
            found.update(nouns)
    return found


def prompt_nouns(prompt: str) -> set[str]:
    """`noun_lemmas` of the prompt less the words it uses as verbs ("twirl, and wave")."""
    from .offline_grammar import Reader, pieces

    reader = Reader()
    try:
        verbs = {reader.read(text, link).verb for text, link in pieces(prompt)}
    except (IndexError, ValueError):
        verbs = set()
    return noun_lemmas(prompt) - verbs


def prompt_subjects(prompt: str) -> list[str]:
    """The lemmas of who or what the prompt's events are about, in story order ("a chef flips a
    pancake, a dog eats it": chef, dog); for a scene without an event, the thing it names first
    ("a bird", "a city skyline from dusk to night": skyline). [] when no English noun is found."""
    from .offline_grammar import CHANGE, PREPOSITIONS, SUBJECT_PRONOUNS, Reader, lemmas, pieces

    reader, prompt = Reader(), split_shot(prompt)[0]
    try:
        clauses = [reader.read(text, link) for text, link in pieces(prompt)]
    except (IndexError, ValueError):  # a prompt the reader cannot split (punctuation only)
        return []
    heads = []
    for c in clauses:
        if c.subject is not None:
            heads.append(c.subject.head)
            if c.verb in CHANGE and c.rest.split()[:1] in (["into"], ["to"]):
                heads.append(re.sub(r"[^\w'-]", "", c.rest.split()[-1]))  # what it turns into is the subject then
        elif c.text:
            np = re.split(r"\s+(?:%s)\s+" % "|".join(sorted(PREPOSITIONS | {"with", "as", "while"})), c.text)[0]
            heads.append(re.sub(r"[^\w'-]", "", np.split()[-1]) if np.split() else "")
    found: list[str] = []
    for head in heads:
        nouns = lemmas(head).get("NOUN")
        # "it starts to run" (the start picture says what "it" is): no subject to look for
        if nouns and head.lower() not in _NOT_CONTENT | SUBJECT_PRONOUNS and nouns[0] not in found:
            found.append(nouns[0])
    return found


def prompt_subject(prompt: str) -> str | None:
    """The lemma of the prompt's first subject (see `prompt_subjects`), None when there is none."""
    subjects = prompt_subjects(prompt)
    return subjects[0] if subjects else None


# Verbs whose end state is an absence: the last frame must show the place, not the subject.
_GONE = re.compile(r"\b(?:disappear|vanish|fl(?:y|ies|ew|ying) (?:away|off)|run(?:s|ning)? (?:away|off|out)|"
                   r"leav(?:e|es|ing) (?:a|an|the|his|her|their|home)\b|"
                   r"exit(?:s|ing)?|melt(?:s|ing)? away|sail(?:s|ing)? away|driv(?:e|es|ing) away|"
                   r"walk(?:s|ing)? (?:away|off|out)|is gone|goes? out of sight|"
                   r"into (?:the|a) (?:forest|woods|fog|mist|smoke|clouds?|darkness|night|crowd|sea|ocean)\b"
                   r"(?!\s+(?:sky|air|light|time|water)))", re.I)  # "into the night sky" is no exit


def ends_in_absence(prompt: str) -> bool:
    """Whether the prompt's last event (not one happening alongside) takes its subject out of the picture."""
    from .offline_grammar import pieces

    try:
        events = [text for text, link in pieces(prompt) if link != "as"]
    except (IndexError, ValueError):
        events = []
    return bool(events and _GONE.search(events[-1]))


def _last_subject(prompt: str) -> str | None:
    """The noun lemma of who the prompt's last event (not one alongside) is about, if the lexicon knows it."""
    from .offline_grammar import Reader, lemmas, pieces

    reader, clauses = Reader(), []
    try:
        clauses = [(reader.read(text, link), link) for text, link in pieces(split_shot(prompt)[0])]
    except (IndexError, ValueError):
        return None
    events = [c for c, link in clauses if link != "as" and c.subject is not None]
    nouns = lemmas(events[-1].subject.head).get("NOUN") if events else None
    return nouns[0] if nouns else None


def _names(frame: str, nouns: set[str]) -> bool:
    return bool(nouns & noun_lemmas(frame))


def content_problems(frames: Sequence[str], prompt: str) -> dict[int, list[str]]:
    """{0-based index: problems} of the content rules above, for a script of `prompt`."""
    found: dict[int, list[str]] = {}
    subjects = prompt_subjects(prompt)
    subject = subjects[0] if subjects else None
    nouns = prompt_nouns(prompt)
    bare = [strip_shot_words(f) for f in frames]
    absent = ends_in_absence(prompt)
    for i, frame in enumerate(frames):
        problems = []
        gone = absent and i >= len(frames) // 2  # the place without the subject is the story's end
        if subject and not gone and not _names(frame, set(subjects)) and not _names(frame, nouns):
            problems.append(f"it names neither the subject ({subject}) nor anything else of the prompt")
        if i and frames[i - 1].strip() and not same_frame(frame, frames[i - 1]) and bare[i] and \
                same_frame(bare[i], bare[i - 1]):
            problems.append(f"it repeats frame {i} with only shot or camera words changed")
        if problems:
            found[i] = problems
    plain = words_of(prompt)
    if len(frames) > 2 and plain and sum(words_of(b) == plain for b in bare) > len(frames) // 2:
        for i, b in enumerate(bare):
            if words_of(b) == plain:
                found.setdefault(i, []).append("it is the prompt itself, nothing of the story staged")
    last = _last_subject(prompt) if absent else None  # who goes is who the last event is about
    if last and len(frames) > 1 and absent and _names(frames[-1], {last}):
        found.setdefault(len(frames) - 1, []).append(
            f"the prompt ends with the {last} gone, but the last frame still names it (an image model draws it)")
    return found


def merge(*found: dict[int, list[str]]) -> dict[int, list[str]]:
    """Several {frame: problems} maps in one, problems in the order given."""
    out: dict[int, list[str]] = {}
    for problems in found:
        for i, p in problems.items():
            out.setdefault(i, []).extend(x for x in p if x not in out.get(i, []))
    return dict(sorted(out.items()))
