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


# ----------------------------------------------------------------------------- embedded projects
def _project(**changes):
    from direct2v.settings import DirectorOptions, Project, RenderSettings

    settings = RenderSettings(width=64, height=48, seed=1234, num_inference_steps=6, t0=2, t1=3, dsf_quantile=0.35, fps=3)
    base = dict(
        user_prompt="A corgi is running; café = 100% \\ fun # yes",
        frames=["a corgi sits = still", "a corgi runs; fast", "ünïcode corgi #3"],
        settings=settings.replace(**changes),
        director=DirectorOptions(backend="offline", style="ink", camera="static"),
        model="tiny",
    )
    return Project(**base)


def test_every_output_carries_its_project_and_loads_back(tmp_path):
    from direct2v.settings import Project

    project = _project()
    paths = video.export_all(_frames(3), tmp_path, fps=3, stem="clip", project=project)
    png = video.write_png(_frames(1)[0], tmp_path / "one.png", project)
    for path in [*paths.values(), png]:
        back = Project.load(path)
        assert back.to_json() == project.to_json(), path.name
    # Every PNG inside the zip carries it too, not only the project file.
    with zipfile.ZipFile(paths["zip"]) as zf:
        assert video.PROJECT_IN_ZIP in zf.namelist()
        for name in [n for n in zf.namelist() if n.endswith(".png")]:
            with zf.open(name) as fh, Image.open(fh) as im:
                im.load()
                assert Project.from_json(im.text[video.PROJECT_KEY]).frames == project.frames


def test_embedding_the_project_leaves_the_pixels_alone(tmp_path):
    frames = _frames(2)
    plain = video.write_png_zip(frames, tmp_path / "plain.zip")
    tagged = video.write_png_zip(frames, tmp_path / "tagged.zip", project=_project())
    with zipfile.ZipFile(plain) as a, zipfile.ZipFile(tagged) as b:
        for name in a.namelist():
            with a.open(name) as fa, b.open(name) as fb:
                np.testing.assert_array_equal(np.asarray(Image.open(fa)), np.asarray(Image.open(fb)))


def test_files_without_a_project_say_so(tmp_path):
    from direct2v.settings import Project, SettingsError

    foreign = tmp_path / "photo.png"
    Image.new("RGB", (8, 8)).save(foreign)
    with pytest.raises(SettingsError, match="photo.png holds no DirecT2V project"):
        Project.load(foreign)
    bare = video.write_mp4(_frames(2), tmp_path / "bare.mp4")
    with pytest.raises(SettingsError, match="bare.mp4 holds no DirecT2V project"):
        Project.load(bare)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(SettingsError, match="Cannot read broken.png"):
        Project.load(broken)


def test_output_stems_differ_by_size_seed_and_settings():
    a = video.output_stem("A corgi runs", 64, 64, 7, _project())
    assert a.startswith("a-corgi-runs-64x64-seed7-") and len(a.rsplit("-", 1)[1]) == 8
    assert video.output_stem("A corgi runs", 64, 64, 7, _project()) == a  # same project, same name
    assert video.output_stem("A corgi runs", 128, 64, 7, _project(width=128)) != a
    assert video.output_stem("A corgi runs", 64, 64, 7, _project(dsf_quantile=0.5)) != a
    assert video.output_stem("!!!", 64, 64, 0) == "direct2v-64x64-seed0"


def _bomb_zip(path, inflated_mb: int, compression=zipfile.ZIP_DEFLATED) -> None:
    """A zip whose project member inflates to `inflated_mb` MB (from about 1 KB with bzip2)."""
    with zipfile.ZipFile(path, "w", compression=compression, compresslevel=9) as zf:
        with zf.open(video.PROJECT_IN_ZIP, "w") as fh:
            block = b" " * (1 << 20)
            for _ in range(inflated_mb):
                fh.write(block)


def test_inflating_zip_and_png_text_are_refused_after_the_cap(tmp_path):
    import tracemalloc

    from PIL.PngImagePlugin import PngInfo

    bomb, bz2 = tmp_path / "bomb.zip", tmp_path / "bz2.zip"
    _bomb_zip(bomb, 64)
    _bomb_zip(bz2, 64, zipfile.ZIP_BZIP2)
    assert bz2.stat().st_size < 4096
    png = tmp_path / "bomb.png"
    info = PngInfo()
    info.add_itxt(video.PROJECT_KEY, " " * (64 << 20), zip=True)
    Image.new("RGB", (8, 8)).save(png, pnginfo=info)
    assert png.stat().st_size < 200_000
    tracemalloc.start()
    for path in (bomb, png):
        with pytest.raises(ValueError, match="larger than 4 MB"):
            video.read_project_json(path)
    with pytest.raises(ValueError, match="compressed with a method this app does not read"):
        video.read_project_json(bz2)  # zipfile would inflate bzip2 a whole block per read
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 3 * video.MAX_PROJECT_BYTES  # never the 64 MB they inflate to


def test_png_project_is_read_without_decoding_the_picture(tmp_path):
    """A 12000x12000 PNG (a decompression bomb) that carries no project is answered from its
    chunks at once; one that does carry a project gives it back."""
    from PIL.PngImagePlugin import PngInfo

    big = tmp_path / "big.png"
    Image.new("L", (12000, 12000)).save(big)
    with pytest.raises(ValueError, match="holds no DirecT2V project"):
        video.read_project_json(big)
    info = PngInfo()
    info.add_itxt(video.PROJECT_KEY, '{"format": "x"}')
    Image.new("RGB", (8, 8)).save(tmp_path / "small.png", pnginfo=info)
    assert video.read_project_json(tmp_path / "small.png") == '{"format": "x"}'


def test_mp4_project_metadata_goes_through_a_file_not_the_command_line(tmp_path):
    """Above about 128 KB one argument overflows the command line ("Argument list too long")."""
    text = '{"format": "direct2v-project", "style": "' + "a=b;c#d\\\\e " * 30_000 + '"}'
    path = video.write_mp4(_frames(2), tmp_path / "long.mp4", 4, text)
    assert video.read_project_json(path) == video._project_text(text)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4"]  # no temporary left behind
