import zipfile

import imageio.v2 as imageio
import numpy as np
import pytest
from PIL import Image

from direct2v import video


def _frames(n=5, h=64, w=48):
    rng = np.random.default_rng(0)
    # Distinct flat colours per frame survive lossy coding well enough to check order.
    cols = rng.uniform(0.1, 0.9, size=(n, 1, 1, 3)).astype(np.float32)
    return np.broadcast_to(cols, (n, h, w, 3)).copy()


def test_to_uint8_clips_and_rounds():
    f = np.array([[[[-0.5, 0.5, 1.5]]]], dtype=np.float32)
    out = video.to_uint8(f)
    assert out.dtype == np.uint8 and out.tolist() == [[[[0, 128, 255]]]]


def test_to_uint8_rejects_bad_shapes():
    with pytest.raises(ValueError, match="no frames"):
        video.to_uint8(np.zeros((0, 8, 8, 3)))
    with pytest.raises(ValueError, match="shaped"):
        video.to_uint8(np.zeros((8, 8)))


def test_mp4_frame_count_size_and_order(tmp_path):
    frames = _frames(5, 64, 48)
    path = video.write_mp4(frames, tmp_path / "v.mp4", fps=4)
    reader = imageio.get_reader(path, format="FFMPEG")
    meta = reader.get_meta_data()
    got = np.stack([reader.get_data(i) for i in range(reader.count_frames())])
    reader.close()
    assert got.shape == (5, 64, 48, 3)
    assert meta["fps"] == pytest.approx(4.0)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    want = video.to_uint8(frames).astype(int)
    assert np.abs(got.astype(int) - want).mean() < 6  # lossy, but each frame is its own colour


def test_mp4_odd_size_is_padded_to_even(tmp_path):
    path = video.write_mp4(_frames(3, 33, 35), tmp_path / "odd.mp4", fps=8)
    reader = imageio.get_reader(path, format="FFMPEG")
    first = reader.get_data(0)
    reader.close()
    assert first.shape == (34, 36, 3)


def test_gif_frames_and_duration(tmp_path):
    path = video.write_gif(_frames(4), tmp_path / "v.gif", fps=5)
    with Image.open(path) as im:
        assert im.n_frames == 4
        assert im.info["duration"] == 200
        assert im.info.get("loop") == 0


def test_zip_holds_exact_pngs_in_order(tmp_path):
    frames = _frames(3)
    path = video.write_png_zip(frames, tmp_path / "f.zip")
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["frame_0000.png", "frame_0001.png", "frame_0002.png"]
        with zf.open("frame_0002.png") as fh:
            img = np.asarray(Image.open(fh).convert("RGB"))
    np.testing.assert_array_equal(img, video.to_uint8(frames)[2])


def test_export_all_and_write_video_by_suffix(tmp_path):
    paths = video.export_all(_frames(2), tmp_path / "out", fps=2, stem="clip")
    assert sorted(p.name for p in paths.values()) == ["clip.gif", "clip.mp4", "clip_frames.zip"]
    assert all(p.stat().st_size > 0 for p in paths.values())
    assert video.write_video(_frames(2), tmp_path / "a.gif").exists()
    with pytest.raises(ValueError, match="Unknown output type"):
        video.write_video(_frames(2), tmp_path / "a.avi")
