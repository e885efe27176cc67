"""Metric maths on constructed embeddings, and the CLIP scorer on a tiny random CLIP."""

from __future__ import annotations

import math

import numpy as np
import pytest

from direct2v.evaluate.clip import ClipLoadError, as_float_frames, load_clip, tiny_clip
from direct2v.evaluate.metrics import EvaluationError, avg_dist, metrics_from_embeddings, video_metrics


def unit(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


class TableScorer:
    """Embeddings we control: frame f is a constant image whose red value (x 10, rounded)
    picks a row of `image_table`; a prompt's embedding is `text_table[prompt]`."""

    def __init__(self, image_table, text_table):
        self.image_table = np.asarray([unit(v) for v in image_table])
        self.text_table = {k: unit(v) for k, v in text_table.items()}
        self.text_calls = []

    def encode_images(self, images):
        images = as_float_frames(images)
        return self.image_table[[int(round(f[0, 0, 0] * 10)) for f in images]]

    def encode_texts(self, texts):
        self.text_calls.append(list(texts))
        return np.stack([self.text_table[t] for t in texts])


def constant_frames(indices, size=8):
    return np.stack([np.full((size, size, 3), i / 10, np.float32) for i in indices])


# Table 1 of the paper, per-frame columns and the printed Avg. / Avg. Dist. rows.
TABLE1 = {
    "T2V-Z": ([0.3208, 0.2950, 0.2894, 0.2865, 0.2935, 0.2889, 0.2858, 0.2888], 0.2930, 0.0272),
    "TAV": ([0.3236, 0.2947, 0.2909, 0.2931, 0.3006, 0.3013, 0.2980, 0.2988], 0.3001, 0.0235),
    "RVM": ([0.3143, 0.3026, 0.3056, 0.3123, 0.3137, 0.3052, 0.3103, 0.3052], 0.3087, 0.0057),
    "RVM+DSF": ([0.3180, 0.3077, 0.3077, 0.3095, 0.3131, 0.3122, 0.3142, 0.3077], 0.3113, 0.0067),
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest.py


@pytest.mark.parametrize("column", list(TABLE1))
def test_avg_dist_reproduces_table1(column):
    scores, _, printed = TABLE1[column]
    assert round(avg_dist(scores), 4) == printed


def test_avg_dist_is_l1_over_all_frames_not_signed_gap():
    # Frame 1 in the middle: signed gaps cancel, L1 distances do not.
    assert avg_dist([0.3, 0.2, 0.4, 0.3]) == pytest.approx((0.1 + 0.1 + 0.0) / 4)
    assert avg_dist([0.5]) == 0.0
    with pytest.raises(EvaluationError):
        avg_dist([])


def test_identical_frames_and_prompts_give_known_values():
    scorer = TableScorer([[1, 0, 0]], {"a corgi": [1, 0, 0]})
    m = video_metrics(constant_frames([0, 0, 0, 0]), ["a corgi"] * 4, scorer)
    np.testing.assert_allclose(m.clip_scores, 1.0)
    assert m.avg_clip == pytest.approx(1.0)
    assert m.avg_dist == pytest.approx(0.0)
    np.testing.assert_allclose(m.first_prompt_tie, 0.0)
    np.testing.assert_allclose(m.consistency, 1.0)
    assert m.avg_consistency == pytest.approx(1.0)
    assert scorer.text_calls == [["a corgi"]]  # a repeated prompt is encoded once


def test_known_cosines():
    # Frame j's image makes angle theta_j with the single prompt direction e0.
    thetas = [0.0, math.pi / 3, math.pi / 2, math.pi]
    images = [[math.cos(t), math.sin(t), 0] for t in thetas]
    scorer = TableScorer(images, {"p": [1, 0, 0]})
    m = video_metrics(constant_frames([0, 1, 2, 3]), "p", scorer)
    np.testing.assert_allclose(m.clip_scores, [1.0, 0.5, 0.0, -1.0], atol=1e-12)
    assert m.avg_clip == pytest.approx(0.125)
    assert m.avg_dist == pytest.approx((0 + 0.5 + 1 + 2) / 4)
    # Consecutive image cosines: cos of the angle steps pi/3, pi/6, pi/2.
    np.testing.assert_allclose(m.consistency, [0.5, math.cos(math.pi / 6), 0.0], atol=1e-12)


def test_first_prompt_tie_sign():
    # Frame 2 shows prompt 1's content, frame 3 shows its own.
    e = np.eye(3)
    scorer = TableScorer([e[0], e[0], e[2]], {"p1": e[0], "p2": e[1], "p3": e[2]})
    m = video_metrics(constant_frames([0, 1, 2]), ["p1", "p2", "p3"], scorer)
    np.testing.assert_allclose(m.clip_scores, [1, 0, 1], atol=1e-12)
    # S[j,0] - S[j,j]: frame 2 fits prompt 1 better than its own (+1), frame 3 the reverse (-1).
    np.testing.assert_allclose(m.first_prompt_tie, [0, 1, -1], atol=1e-12)
    assert m.avg_first_prompt_tie == pytest.approx(0.0)
    np.testing.assert_allclose(m.score_matrix, [[1, 0, 0], [1, 0, 0], [0, 0, 1]], atol=1e-12)


def test_swapping_frames_swaps_scores():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(4, 6))
    prompts = {f"p{k}": rng.normal(size=6) for k in range(4)}
    scorer = TableScorer(images, prompts)
    script = ["p0", "p1", "p2", "p3"]
    m = video_metrics(constant_frames([0, 1, 2, 3]), script, scorer)
    swapped = video_metrics(constant_frames([1, 0, 2, 3]), script, scorer)
    # Frame 1 now holds image 2 and is scored against prompt 1, and vice versa.
    assert swapped.clip_scores[0] == pytest.approx(m.score_matrix[1, 0])
    assert swapped.clip_scores[1] == pytest.approx(m.score_matrix[0, 1])
    np.testing.assert_allclose(swapped.clip_scores[2:], m.clip_scores[2:])
    np.testing.assert_allclose(swapped.score_matrix[[1, 0, 2, 3]], m.score_matrix)
    assert swapped.clip_scores[0] != pytest.approx(m.clip_scores[0])
    # Swapping frames and prompts together leaves each frame's own score, moved.
    both = video_metrics(constant_frames([1, 0, 2, 3]), ["p1", "p0", "p2", "p3"], scorer)
    np.testing.assert_allclose(both.clip_scores, m.clip_scores[[1, 0, 2, 3]])
    assert both.avg_clip == pytest.approx(m.avg_clip)


def test_single_frame_and_mismatched_counts():
    scorer = TableScorer([[1, 0]], {"p": [1, 0]})
    m = video_metrics(constant_frames([0]), ["p"], scorer)
    assert m.avg_dist == 0.0 and math.isnan(m.avg_consistency) and math.isnan(m.avg_first_prompt_tie)
    assert m.to_dict()["avg_consistency"] is None
    with pytest.raises(EvaluationError, match="3 frames but the script has 2 prompts"):
        video_metrics(constant_frames([0, 0, 0]), ["p", "p"], scorer)
    with pytest.raises(EvaluationError):
        metrics_from_embeddings(np.ones((2, 3)), np.ones((3, 3)))


def test_frame_input_checks():
    assert as_float_frames(np.full((2, 4, 4, 3), 255, np.uint8)).max() == 1.0
    assert as_float_frames(np.zeros((4, 4, 3))).shape == (1, 4, 4, 3)
    with pytest.raises(ValueError, match="shape"):
        as_float_frames(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="NaN"):
        as_float_frames(np.full((1, 4, 4, 3), np.nan))


# ------------------------------------------------------------------ tiny CLIP


@pytest.fixture(scope="module")
def clip():
    return load_clip("tiny", device="cpu")


def test_load_clip_is_cached(clip):
    assert load_clip("tiny", device="cpu") is clip


def test_tiny_clip_embeddings(clip):
    rng = np.random.default_rng(1)
    frames = rng.random((3, 40, 40, 3)).astype(np.float32)
    emb = clip.encode_images(frames)
    assert emb.shape == (3, clip.model.config.projection_dim)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(emb[0], emb[1])
    # uint8 frames are the same pixels as k/255 floats.
    u8 = (frames * 255).round().astype(np.uint8)
    np.testing.assert_allclose(clip.encode_images(u8), clip.encode_images(u8.astype(np.float32) / 255), atol=1e-6)
    txt = clip.encode_texts(["a corgi runs", "a rainbow forms"])
    np.testing.assert_allclose(np.linalg.norm(txt, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(txt[0], txt[1])


def test_texts_truncate_at_77_tokens(clip):
    long_a = "a corgi " * 60 + "in the snow"
    long_b = "a corgi " * 60 + "on the beach"
    assert clip.tokenize([long_a])["input_ids"].shape[-1] == 77
    a, b = clip.encode_texts([long_a, long_b])
    np.testing.assert_allclose(a, b, atol=1e-6)  # they differ only after token 77
    c, d = clip.encode_texts(["snow corgi", "beach corgi"])
    assert not np.allclose(c, d)


def test_images_are_centre_cropped(clip):
    rng = np.random.default_rng(2)
    centre = rng.random((1, 32, 32, 3)).astype(np.float32)
    wide = rng.random((1, 32, 64, 3)).astype(np.float32)
    wide[:, :, 16:48] = centre
    np.testing.assert_allclose(clip.encode_images(wide), clip.encode_images(centre), atol=1e-5)
    wide[:, :, 20] = 0.0  # inside the crop: must change the embedding
    assert not np.allclose(clip.encode_images(wide), clip.encode_images(centre), atol=1e-4)


def test_video_metrics_with_tiny_clip(clip):
    rng = np.random.default_rng(3)
    frame = rng.random((48, 48, 3)).astype(np.float32)
    other = rng.random((48, 48, 3)).astype(np.float32)
    prompts = ["a corgi runs", "a corgi jumps", "two corgis"]
    same = video_metrics(np.stack([frame] * 3), prompts, clip)
    np.testing.assert_allclose(same.consistency, 1.0, atol=1e-5)
    # With one image, the score matrix has identical rows, and the tie is S[0,0] - S[0,j].
    np.testing.assert_allclose(same.score_matrix, np.repeat(same.score_matrix[:1], 3, axis=0), atol=1e-5)
    mixed = video_metrics(np.stack([frame, other, frame]), prompts, clip)
    assert mixed.consistency[0] < 1 - 1e-4
    img = clip.encode_images(np.stack([frame, other, frame]))
    txt = clip.encode_texts(prompts)
    np.testing.assert_allclose(mixed.clip_scores, np.sum(img * txt, axis=1), atol=1e-5)
    assert mixed.avg_clip == pytest.approx(float(np.mean(np.sum(img * txt, axis=1))), abs=1e-6)


def test_load_clip_from_a_saved_folder(tmp_path):
    # The real loading path (from_pretrained), offline, on a checkpoint we write ourselves.
    tiny = tiny_clip(seed=5)
    tiny.model.save_pretrained(tmp_path)
    tiny.tokenizer.save_pretrained(tmp_path)
    loaded = load_clip(str(tmp_path), device="cpu")
    assert loaded is not tiny and loaded.name == str(tmp_path)
    texts = ["a corgi runs", "a rainbow"]
    np.testing.assert_allclose(loaded.encode_texts(texts), tiny.encode_texts(texts), atol=1e-6)
    frames = np.random.default_rng(4).random((2, 40, 40, 3))
    np.testing.assert_allclose(loaded.encode_images(frames), tiny.encode_images(frames), atol=1e-6)


def test_load_clip_errors(tmp_path):
    with pytest.raises(ClipLoadError, match="not a CLIP checkpoint"):
        load_clip(str(tmp_path))
    with pytest.raises(ClipLoadError, match="No such CLIP model folder"):
        load_clip(str(tmp_path / "missing" / "clip"))


def test_batching_does_not_change_embeddings(clip):
    small = tiny_clip(seed=0)
    small.batch_size = 2
    frames = np.random.default_rng(6).random((5, 36, 36, 3)).astype(np.float32)
    texts = ["a", "b c", "a corgi", "two corgis", "rain"]
    np.testing.assert_allclose(small.encode_images(frames), clip.encode_images(frames), atol=1e-5)
    np.testing.assert_allclose(small.encode_texts(texts), clip.encode_texts(texts), atol=1e-5)
