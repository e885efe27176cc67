"""Time in the built-in writer's frames: a phrase that spans the whole clip ("over many years",
"all night", "from autumn to winter") is no picture of its own, so it is taken out of the
frames and staged: each frame gets the time it shows ("late at night", "in early winter"),
and a change over a span goes by degrees ("slightly rusted", "heavily rusted").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The times of day and the seasons in order, for a time-lapse "from dusk to night".
TIMES = ["dawn", "sunrise", "morning", "midday", "afternoon", "sunset", "dusk", "evening", "night", "midnight"]
SEASONS = ["spring", "summer", "autumn", "fall", "winter"]
AT_TIME = {"morning": "in the morning", "afternoon": "in the afternoon", "evening": "in the evening"}
# The hours a whole night or day runs through, as a frame can show them.
NIGHT = ["at dusk", "in the early evening", "in the evening", "late in the evening", "at night", "late at night",
         "at midnight", "in the small hours", "before dawn", "at dawn"]
DAY = ["at dawn", "in the early morning", "in the morning", "late in the morning", "at midday",
       "in the early afternoon", "in the afternoon", "late in the afternoon", "in the evening", "at dusk"]
YEAR = ["in spring", "in late spring", "in early summer", "in summer", "in late summer", "in autumn", "in late autumn",
        "in winter"]
PART = {"morning": ["at dawn", "at sunrise", "in the early morning", "in the morning light", "in the mid-morning",
                    "in the morning sun", "late in the morning", "just before noon"],
        "afternoon": ["at noon", "just after noon", "in the early afternoon", "in the afternoon", "in the mid-afternoon",
                      "in the afternoon sun", "late in the afternoon", "in the late afternoon light"],
        "evening": ["in the early evening", "at sunset", "at dusk", "in the evening", "in the evening light",
                    "late in the evening", "at nightfall", "at night"]}

_SPAN = re.compile(
    r",?\s*\b(?:(?P<night>all\s+night(?:\s+long)?|(?:through(?:out)?|during)\s+the\s+night|overnight|from\s+dusk\s+(?:to|till|until)"
    r"\s+dawn)|(?P<day>all\s+day(?:\s+long)?|(?:through(?:out)?|during)\s+the\s+day|from\s+dawn\s+(?:to|till|until)\s+"
    r"dusk)|(?P<part>(?:all|through(?:out)?\s+the|during\s+the)\s+(?P<p>morning|afternoon|evening)(?:\s+long)?)|"
    r"(?P<year>(?:over|through(?:out)?)\s+(?:the\s+|a\s+)?(?:seasons|year)|all\s+year(?:\s+round)?)|"
    r"(?P<season>(?:through(?:out)?|over|during|all)\s+(?:the\s+)?(?:autumn|fall|winter|spring|summer))|"
    r"(?P<range>from\s+(?P<a>\w+)\s+(?:to|till|until|into)\s+(?P<b>\w+))|"
    r"(?P<long>(?:over|for|across|through)\s+(?:the\s+|many\s+|several\s+|a\s+few\s+|a\s+|an\s+|some\s+|long\s+)?"
    r"(?:course\s+of\s+(?:a\s+|the\s+)?)?(?:years?|decades?|centuries|century|months?|weeks?|days?|hours?|time|ages|"
    r"generations?|the\s+years)|as\s+(?:the\s+)?(?:years|time|days|weeks|months)\s+(?:go(?:es)?\s+by|pass(?:es)?)|"
    r"(?:year|day|week)\s+after\s+(?:year|day|week)))\b"
    r"(?=\s*(?:$|[,.;]|\b(?:and|then|while|as|until|in|on|at|under|by)\b))",  # "over the night sky" is a place
    re.I,
)


@dataclass
class Span:
    """The span a clause's words cover: `marks` are the times its frames show, in order ([] for a
    span told by degrees only: "over many years")."""

    text: str
    marks: list[str]


def _range_marks(a: str, b: str) -> list[str] | None:
    """'from autumn to winter' -> in autumn, in late autumn, in early winter, in winter."""
    for order in (TIMES, SEASONS):
        if a in order and b in order:
            i, j = order.index(a), order.index(b)
            steps = order[i:j + 1] if i <= j else order[i:] + order[:j + 1]
            if order is SEASONS:
                steps = [s for s in steps if s != "fall"] if "autumn" in steps else steps
                out = []
                for k, s in enumerate(steps):
                    out += ([f"in early {s}"] if k else []) + [f"in {s}"] + ([f"in late {s}"] if k + 1 < len(steps) else [])
                return out
            return [AT_TIME.get(t, f"at {t}") for t in steps]
    return None


def take_span(rest: str) -> tuple[str, Span | None]:
    """(the words without the span phrase, the span) for a clause's words after its verb."""
    for m in _SPAN.finditer(rest):
        if m.group("range"):
            marks = _range_marks(m.group("a").lower(), m.group("b").lower())
            if marks is None:  # "from green to red" is a change, not a span
                continue
        elif m.group("night"):
            marks = NIGHT
        elif m.group("day"):
            marks = DAY
        elif m.group("part"):
            marks = PART[m.group("p").lower()]
        elif m.group("year"):
            marks = YEAR
        elif m.group("season"):
            season = m.group("season").split()[-1].lower()
            marks = [f"as {season} begins", f"in early {season}", f"in {season}", f"in mid-{season}",
                     f"deep in {season}", f"in late {season}", f"near the end of {season}", f"as {season} ends"]
        else:
            marks = []
        left = " ".join((rest[: m.start()] + " " + rest[m.end():]).split()).strip(" ,")
        return left, Span(m.group(0).strip(" ,"), marks)
    return rest, None


def with_marks(stages: list[str], marks: list[str]) -> list[str]:
    """Each stage with the time it shows: both lists spread over the longer one, in order, so
    no two neighbours are the same."""
    if not marks:
        return stages
    n = max(len(stages), len(marks))

    def at(items: list[str], k: int) -> str:
        return items[round(k * (len(items) - 1) / max(1, n - 1))]

    return [f"{at(stages, k)}, {at(marks, k)}" for k in range(n)]
