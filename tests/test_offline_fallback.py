"""The built-in writer's fallback for verbs it has no staging of its own for (offline_fallback.py):
frames that differ in what is seen, never an aspect ladder."""

from __future__ import annotations

import re

import pytest

from direct2v.director import offline, quality
from direct2v.director.offline_fallback import beats, kind, parts

LADDER = re.compile(r"\b(?:in the middle of|more than halfway|nearly done|right after|"
                    r"harder than ever|very hard|more and more)\b")
ASPECT = re.compile(r"\b(?:about to|beginning to|starting to)\b")


def script(prompt: str, n: int = 8) -> list[str]:
    return offline.write_script(prompt, n)[0]


def fallback(prompt: str) -> list[str]:
    """The fallback's frames for the prompt's one step, whatever staging the writer has for its verb
    (other writers may teach it the verb: the fallback must still be good for it)."""
    return [f[:1].lower() + f[1:] for f in offline._action(*_step(prompt))]


# Verbs with no staging of their own, a person / animal / thing each, with objects, places and goals.
FALLBACK = [
    ("A mechanic changes a tire on a car", "mechanic", "tire"),
    ("A teenager scrolls through her phone on the bus", "teenager", "phone"),
    ("a boy ties his shoelaces on the school steps", "boy", "shoelaces"),
    ("a musician tunes his guitar backstage", "musician", "guitar"),
    ("a woman is typing an email on her laptop at a cafe", "woman", "email"),
    ("a cat stalks a bird in the garden", "cat", "bird"),
    ("a raccoon rummages through a trash can at night", "raccoon", "trash can"),
    ("a puppy chews on a slipper under the table", "puppy", "slipper"),
    ("a windmill turns in a field", "windmill", "field"),
]


@pytest.mark.parametrize("prompt, who, what", FALLBACK)
def test_fallback_frames_differ_in_what_is_seen_and_keep_the_subject_and_object(prompt, who, what):
    frames = fallback(prompt)
    assert len(frames) == 8
    bare = [quality.strip_shot_words(f) for f in frames]
    assert all(a != b for a, b in zip(bare, bare[1:])), frames  # no frame the one before with new shot words
    assert not any(LADDER.search(f) for f in frames), frames
    assert sum(bool(ASPECT.search(f)) for f in frames) <= 1, frames  # one start, never a ladder of aspects
    assert all(who in f.lower() and what in f.lower() for f in frames), frames
    assert not quality.script_problems(frames, prompt=prompt), quality.script_problems(frames, prompt=prompt)


def test_a_person_works_with_the_hands_an_animal_with_its_body_a_thing_with_neither():
    person, animal, thing = fallback("A mechanic changes a tire on a car"), fallback("a cat stalks a bird in the garden"), \
        fallback("a windmill turns in a field")
    assert any("hands" in f for f in person) and person[0].startswith("a mechanic looking at a tire")
    assert not any("hands" in f for f in animal + thing)
    assert any(re.search(r"\b(?:tail|head|body)\b", f) for f in animal)
    assert kind("mechanic", "") == "person" and kind("raccoon", "") == "animal" and kind("printer", "") == "thing"
    assert kind("lifeguard", "pulls his board") == "person"  # an unknown head with 'his' is someone


def test_a_goal_toward_someone_is_staged_by_the_distance_shrinking():
    frames = fallback("A baby takes her first steps toward her father")
    assert all("her father" in f for f in frames)
    order = [next(i for i, f in enumerate(frames) if w in f) for w in ("a long way from", "halfway to", "closer to", "close to")]
    assert order == sorted(order) and frames[-1] == "a baby close to her father"  # close, never "in his arms"


def test_an_object_cast_into_a_place_ends_there_and_a_goal_for_something_is_looked_for():
    cast = beats("A fisherman", "fisherman", "cast", "his line into a lake at dawn")
    assert cast[0] == "A fisherman beside a lake at dawn, his line in hand"
    assert "A fisherman watching his line in a lake at dawn" in cast
    assert not any("looking at his line into" in f for f in cast)
    note = fallback("a woman tucks a note into a book")
    assert note[0] == "a woman beside a book, a note in hand" and "a woman watching the note in a book" in note
    fox = beats("A fox", "fox", "dig", "under the snow for a mouse")
    assert "listening for a mouse" in fox[0] and not any("catch" in f for f in fox)  # caught only if the prompt says so


def test_the_words_after_the_verb_split_into_object_goal_and_scene():
    p = parts("his line into a lake at dawn")
    assert (p.obj, p.goal, p.scene) == ("his line", ("into", "a lake"), "at dawn")
    p = parts("on a door")
    assert (p.link, p.obj, p.scene) == ("on", "a door", "")
    p = parts("high above the beach")
    assert p.obj == ""  # an adverb is no object
    assert parts("on the bus").scene == "on the bus"


@pytest.mark.parametrize("prompt", [
    "a dog sleeps by the fire, suddenly it barks", "a woman sits at a piano, suddenly she starts to play",
    "a dog starts barking at the mailman", "a man reads a newspaper on a bench, suddenly he sneezes",
])
def test_a_sudden_or_starting_activity_has_visible_beats_not_harder_and_harder(prompt):
    frames = script(prompt)
    assert not any(LADDER.search(f) or re.search(r"\bharder\b|a little\b", f) for f in frames), frames
    bare = [quality.strip_shot_words(f) for f in frames]
    assert all(a != b for a, b in zip(bare, bare[1:])), frames


def test_few_frames_keep_the_doing_itself():
    two = offline._spread(offline._action(*_step("a musician tunes his guitar backstage")), 2)
    assert two == ["a musician starting to tune his guitar backstage",
                   "a musician tuning his guitar backstage, close on the hands"]
    assert offline._spread(offline._action(*_step("a musician tunes his guitar backstage")), 1)[0].startswith(
        "a musician tuning")


def _step(prompt: str) -> tuple:
    c = offline.read_story(prompt)[0]
    return c, c.subject.np, c.verb, c.rest


@pytest.mark.parametrize("prompt, never", [
    ("a student raises her hand in class", r"looking at her hand|close on the hands"),
    ("a bear scratches its back against a tree", r"\bits$|noticing its|eyes on its\b"),
    ("a man waves goodbye to his family at the airport", r"looking (?:at|up from) goodbye"),
    ("a mother tucks her child into bed", r"child in hand|beside bed"),
    ("a girl peeks through a keyhole", r"keyhole in hand"),
    ("a man in a suit runs to catch the bus", r"close on the man"),  # a man in a suit is a person, not a thing
])
def test_body_parts_words_and_people_are_not_handled_as_things(prompt, never):
    frames = fallback(prompt)
    assert not any(re.search(never, f) for f in frames), frames
    bare = [quality.strip_shot_words(f) for f in frames]
    assert all(a != b for a, b in zip(bare, bare[1:])), frames


def test_one_spoken_to_is_faced_and_smiled_at():
    frames = fallback("a man waves goodbye to his family at the airport")
    assert frames[0] == "a man at the airport facing his family" and frames[-1] == "a man smiling at his family at the airport"


def test_a_scene_one_moves_across_is_where_one_stands_still_and_fishing_off_a_pier_stays_on_it():
    penguin = fallback("a penguin slides on its belly across the ice")
    assert penguin[0].startswith("a penguin on the ice") and penguin[-1].startswith("a penguin pausing on the ice")
    assert not any("noticing its belly" in f for f in penguin)
    pier = fallback("a man is fishing off a pier at sunset")
    assert pier[0] == "a man on a pier at sunset" and not any("beside the pier" in f for f in pier)
