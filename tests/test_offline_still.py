"""The built-in writer on prompts where nothing happens (issue 24, honest limits): a bare subject,
a still scene, an ongoing state. Frames vary by what the prompt implies (the subject's own small
movements, the motion of what it names), the notice says there was no event, nothing is invented."""

from __future__ import annotations

import re

import pytest

from direct2v.director import make_director, quality
from direct2v.director.offline import GENTLE, NO_EVENT
from direct2v.director.offline_still import ELEMENTS, interleave

STILL = ["A red fox", "a cat sleeps on the windowsill", "an old man sits on a bench", "a girl reads under a tree",
         "a dog waits by the door", "a woman stares out of a rainy window", "a teenager scrolls through her phone on the bus",
         "A quiet mountain lake with mist over the water and pine trees", "a campfire in the woods at night",
         "a cup of coffee on a cafe table", "an owl perched on a branch", "a horse grazing in a meadow", "two swans on a pond",
         "a student studies at a desk in the library", "a jellyfish in the deep ocean", "a stream running through a forest"]
LADDER = r"\b(?:about to|beginning to|in the middle of|halfway through|nearly done|having just|right after)\b"


def direct(prompt: str, n: int = 8):
    return make_director("offline").direct(prompt, num_frames=n)


@pytest.mark.parametrize("prompt", STILL)
def test_no_event_frames_differ_in_what_is_seen_and_keep_the_scene(prompt):
    frames = direct(prompt)
    assert frames.notice == NO_EVENT
    bare = [quality.words_of(quality.strip_shot_words(f)) for f in frames]
    assert all(a != b for a, b in zip(bare, bare[1:])), frames  # no neighbours alike once shot words go
    subject = quality.prompt_subjects(prompt)[0]
    assert all(subject in quality.noun_lemmas(f) for f in frames), frames  # every frame names the subject
    assert not any(re.search(LADDER, f) for f in frames), frames  # no aspect ladder
    assert not quality.script_problems(frames, prompt=prompt), quality.script_problems(frames, prompt=prompt)


@pytest.mark.parametrize("prompt", STILL)
def test_only_what_the_prompt_names_moves(prompt):
    named = set(re.findall(r"[a-z]+", prompt.lower()))
    text = " ".join(direct(prompt)).lower()
    for keys, beats, *_ in ELEMENTS:
        if not keys & named:  # a motion of something the prompt does not name never appears
            assert not any(b.replace("{w}", "").replace("{g}", "") in text for b in beats if "{" not in b), (keys, text)


@pytest.mark.parametrize("prompt, never", [
    ("a boat on a calm sea", "wave"), ("a jellyfish in the deep ocean", "wave"),
    ("a small cabin in a snowy forest", "leaves"), ("a glass of iced coffee on a table", "steam"),
    ("a bouquet of roses in a vase", "sway"), ("a field of sunflowers", "grass"),
    ("a teenage girl texting in her bedroom", "window"), ("a teenager texts on his phone at a bus stop", "window"),
])
def test_a_motion_the_scene_rules_out_is_left_out(prompt, never):
    assert not any(never in f.lower() for f in direct(prompt))


def test_the_living_subject_moves_and_the_scene_around_it_too():
    fox = [f.lower() for f in direct("A red fox")]
    assert all(f.startswith("a red fox, ") for f in fox) and any("sniffing" in f for f in fox)
    cat = [f.lower() for f in direct("a cat sleeps on the windowsill")]
    assert all(f.startswith("a cat sleeping on the windowsill, ") for f in cat) and any("ear twitching" in f for f in cat)
    lake = [f.lower() for f in direct("A quiet mountain lake with mist over the water and pine trees")]
    assert any("mist drifting" in f for f in lake) and any("ripple" in f for f in lake)
    reader = [f.lower() for f in direct("a girl reads under a tree")]
    assert any("turning a page" in f for f in reader) and any("leaves" in f or "branches" in f for f in reader)
    swans = [f.lower() for f in direct("two swans on a pond")]
    assert any("their heads" in f for f in swans) and not any("their head " in f or f.endswith("their head") for f in swans)
    bus = [f.lower() for f in direct("a teenager scrolls through her phone on the bus")]
    assert any("out of the window" in f for f in bus)  # on a bus the window is there


def test_looking_out_of_a_window_is_no_exit_and_a_participle_is_a_state():
    stare = [f.lower() for f in direct("a woman stares out of a rainy window")]
    assert all("woman" in f for f in stare) and any("raindrop" in f or "rain streaking" in f for f in stare)
    for prompt, verb in (("an old car parked on a country road", "park"), ("a mountain range covered in snow", "cover")):
        frames = [f.lower() for f in direct(prompt)]
        assert not any(re.search(LADDER, f) or f"{verb}ing" in f for f in frames), frames
        assert all(f.startswith(prompt) for f in frames)


def test_where_nothing_moves_the_framing_alone_changes():
    frames = direct("a bowl of fruit on a kitchen table")
    assert frames.notice == NO_EVENT and frames[0].endswith(GENTLE[0]) and len(set(frames)) == 8


def test_a_quiet_activity_inside_a_story_is_left_to_the_story():
    walk = [f.lower() for f in direct("A girl reads on the porch until the rain stops and she goes for a walk")]
    assert not any("page" in f for f in walk)
    assert direct("a girl reads under a tree, then climbs it").notice is None


@pytest.mark.parametrize("n", [2, 4, 16])
def test_any_frame_count_keeps_neighbours_apart(n):
    for prompt in ("A red fox", "A quiet mountain lake with mist over the water and pine trees", "a foggy harbor"):
        frames = direct(prompt, n)
        assert len(frames) == n and all(a != b for a, b in zip(frames, frames[1:])), frames


def test_interleave_changes_one_track_at_a_time():
    beats = interleave([["a1", "a2", "a3"], ["b1", "b2", "b3"]], 8)
    assert len(beats) == 8 and all(sum(x != y for x, y in zip(p, q)) >= 1 for p, q in zip(beats, beats[1:]))
    assert interleave([list("abcdefgh")], 4) == [["a"], ["c"], ["f"], ["h"]]


@pytest.mark.parametrize("prompt, doing", [
    ("a girl lying in bed looking at her phone", "screen"), ("a couple sitting on a bench watching the sunset", "sunset"),
    ("a woman meditating on a mountain top", "breathing"), ("a dog looking out the car window", "view outside"),
])
def test_what_the_subject_is_busy_with_sets_its_moves(prompt, doing):
    frames = [f.lower() for f in direct(prompt)]
    assert any(doing in f.split(", ", 1)[1] for f in frames), frames
    assert not any(re.search(LADDER, f) or "eyes closed" in f and "phone" in f for f in frames), frames


def test_a_posture_participle_is_a_state_and_many_move_their_own_heads():
    cats = [f.lower() for f in direct("two cats curled up together on a blanket")]
    assert all(f.startswith("two cats curled up together on a blanket, ") for f in cats)
    assert any(re.search(r"\bheads\b|\btails\b", f) for f in cats) and not any(re.search(LADDER, f) for f in cats)


def test_a_lake_shore_has_no_surf_and_a_setting_mid_sentence_goes_last():
    lake = " ".join(direct("A quiet mountain lake with mist over the water and pine trees on the shore")).lower()
    assert "wave" not in lake and "surf" not in lake and "mist" in lake
    dawn = [f.lower() for f in direct("a quiet lake at dawn with mist over the water and a wooden dock")]
    assert all(f.startswith("a quiet lake with mist over the water and a wooden dock, ") for f in dawn), dawn
    assert len(set(dawn)) == 8 and "first light" in " ".join(dawn)


@pytest.mark.parametrize("prompt, seen", [
    ("cozy cabin interior, fireplace, snow outside the window", "flames"),
    ("a cute corgi puppy, studio lighting", "its head"),
    ("cyberpunk city at night, neon lights, rain", "rain"),
])
def test_a_scene_told_as_a_list_is_one_scene(prompt, seen):
    frames = direct(prompt)
    assert frames.notice == NO_EVENT and all(f.lower().startswith(prompt.lower() + ", ") for f in frames), frames
    assert any(seen in f for f in frames) and all(a != b for a, b in zip(frames, frames[1:]))


@pytest.mark.parametrize("prompt", ["A boy, 10 years old, plays soccer", "a dog, running",
                                    "a quiet lake at dawn, a fish jumps out of the water"])
def test_a_list_with_a_verb_of_its_own_is_no_still_scene(prompt):
    assert not direct(prompt)[0].lower().startswith(prompt.lower() + ", ")


@pytest.mark.parametrize("prompt, seen", [
    ("portrait of an old fisherman", "glancing"), ("a lighthouse during a storm", "rain lashing"),
    ("a starry night sky over the mountains", "twinkling"), ("a beautiful sunset over the ocean", "touching the horizon"),
    ("jellyfish glowing in the dark", "tentacles"), ("a rainy night in tokyo", "raindrops"),
])
def test_what_a_still_scene_names_moves(prompt, seen):
    frames = direct(prompt)
    assert frames.notice == NO_EVENT and any(seen in f for f in frames), frames


def test_what_the_prompt_says_is_moving_is_never_still():
    assert not any("barely moving" in f for f in direct("flowers swaying in the wind"))


@pytest.mark.parametrize("prompt, seen, never", [
    ("a woman in a red dress standing on a balcony", "glancing", "shot"),  # the woman moves, not the dress
    ("A sunflower field under a blue sky", "sunflowers", "grass"),
    ("a turtle on a rock", "blinking", "fins"),
    ("a boy sitting at his desk doing homework", "page", "looking ahead"),
    ("a dog resting its head on its owner's lap", "ears", "paws"),
])
def test_the_subject_and_its_scene_are_read_for_what_they_are(prompt, seen, never):
    text = " ".join(direct(prompt)).lower()
    assert seen in text and never not in text, text


def test_rain_around_a_quiet_subject_comes_on_while_it_moves_and_snow_or_fog_stay():
    cat = [f.lower() for f in direct("A cat watches the rain through a window")]
    assert "first drops" in cat[0] and "heavy" in " ".join(cat[-3:]) and any("ears" in f for f in cat)
    for prompt in ("a dog sitting in the snow", "a man standing in the fog"):
        frames = [f.lower() for f in direct(prompt)]
        assert all(f.startswith(prompt) for f in frames) and not any("first" in f or "deep" in f for f in frames), frames


def test_a_woman_or_a_man_moves_her_or_his_own_body():
    assert any("turning his head" in f for f in direct("an old man sits on a bench"))
    assert any("her lap" in f for f in direct("a woman sits in a cafe by the window"))
    student = " ".join(direct("a student studies at a desk in the library"))
    assert " his " not in student and " her " not in student  # nothing says which


@pytest.mark.parametrize("prompt", ["palm trees on a tropical beach", "cherry blossoms in a park",
                                    "the northern lights over a snowy forest", "street lights on a foggy road"])
def test_a_plural_that_ends_a_noun_is_no_verb(prompt):
    frames = direct(prompt)
    assert frames.notice == NO_EVENT and all(f.lower().startswith(prompt.lower()) for f in frames), frames


@pytest.mark.parametrize("prompt, staged", [("the sun sets over the ocean", "horizon"), ("City lights up at night", "lit"),
                                            ("a girl waves at the camera", "wav"), ("flag waves in the wind", "wav")])
def test_a_real_verb_after_its_subject_is_still_staged(prompt, staged):
    frames = direct(prompt)
    assert frames.notice is None and any(staged in f for f in frames), frames


@pytest.mark.parametrize("prompt, seen", [("City skyline at night", "lights"), ("aerial view of a tropical island", "wave")])
def test_what_a_place_has_by_its_nature_moves(prompt, seen):
    assert any(seen in f for f in direct(prompt))
    assert not any("lights" in f for f in direct("a quiet village in the mountains"))  # by day: no lights named


def test_aboard_a_moving_vehicle_the_view_goes_by_and_at_its_stop_it_does_not():
    assert any("view outside" in f for f in direct("a teenager scrolls through her phone on the bus"))
    assert any("view outside" in f for f in direct("a boy sleeps in the back seat of a car"))
    assert not any("view" in f or "window" in f for f in direct("a teenager texts on his phone at a bus stop"))
    assert not any("view" in f for f in direct("an old car parked on a country road"))


def test_a_subject_in_stepping_light_moves_too_and_one_with_headphones_is_one():
    owl = [f.lower() for f in direct("A sleepy owl in a tree at dusk")]
    assert "evening light" in owl[0] and any("turning its head" in f for f in owl)
    girl = " ".join(direct("A girl with headphones sitting on the floor of her room")).lower()
    assert "her head" in girl and "their" not in girl
    assert not any(f.lower().startswith("hot air about") for f in direct("hot air balloons over the valley at sunrise"))


@pytest.mark.parametrize("prompt", ["rain clouds over the hills", "storm clouds over the city", "snow flakes on a window"])
def test_a_weather_word_before_a_plural_names_a_kind_of_it(prompt):
    frames = [f.lower() for f in direct(prompt)]
    assert all(f.startswith(prompt) for f in frames), frames
    assert not any("rain falling" in f or "rain lashing" in f for f in frames)  # rain clouds need not be raining


@pytest.mark.parametrize("prompt", ["a cat sleeps on the windowsill while it rains outside",
                                    "an old man sits on a bench while pigeons walk around him"])
def test_a_quiet_subject_moves_while_something_goes_on_beside_it(prompt):
    frames = direct(prompt)
    bare = [quality.words_of(quality.strip_shot_words(f)) for f in frames]
    assert all(a != b for a, b in zip(bare, bare[1:])) and not any("shot" in f for f in frames), frames


@pytest.mark.parametrize("prompt", ["a cat wearing sunglasses", "a man wears a hat", "a girl holding a red balloon",
                                    "a jellyfish drifting in the ocean"])
def test_what_one_wears_or_holds_is_how_one_looks(prompt):
    frames = [f.lower() for f in direct(prompt)]
    assert not any(re.search(r"\bworn\b|fully|about to", f) for f in frames), frames
    assert all(a != b for a, b in zip(frames, frames[1:])) and not any("shot" in f for f in frames), frames
    assert "worn thin" in direct("an old coat wears thin")[-1]  # a coat that wears thin changes by degrees


def test_a_described_person_moves_by_what_the_words_say_they_do_and_never_twice():
    beard = [f.lower() for f in direct("a man with a beard looking at the camera")]
    assert any("gazing" in f or "his chin" in f for f in beard) and not any(f.endswith(", looking ahead") for f in beard)
    baby = [f.lower() for f in direct("a smiling baby")]
    assert not any(f.endswith(", smiling") for f in baby)
    assert any("rocking gently" in f for f in direct("a grandmother sitting in a rocking chair on the porch"))
    assert not any("shot" in f for f in direct("a ballerina standing on stage"))


@pytest.mark.parametrize("prompt, seen", [("Steam rising from a hot bowl of soup", "steam curling"),
                                          ("Sunlight streaming through the forest", "branches"),
                                          ("Moonlight on a calm sea", "shimmer"), ("smoke rising from a chimney", "smoke")])
def test_light_and_veils_that_only_go_on_are_a_still_scene(prompt, seen):
    frames = [f.lower() for f in direct(prompt)]
    assert all(f.startswith(prompt.lower() + ", ") for f in frames) and any(seen in f.split(", ", 1)[1] for f in frames)
    assert not any(re.search(r"about to|dense|thick", f) for f in frames), frames
    assert not any(f.count("smoke rising") > 1 for f in frames)


@pytest.mark.parametrize("prompt", ["a man reading the first pages of the newspaper", "A dog sitting in the first flakes of snow"])
def test_a_misread_plural_never_crashes_the_writer(prompt):
    assert len(direct(prompt)) == 8  # offline_fallback.parts had no object to end ('' .split()[-1])
