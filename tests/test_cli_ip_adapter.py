"""The CLI's identity flags (--ip-adapter, --ip-image, --ip-scale) and what projects record,
run in-process on the tiny model with the tiny adapter."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from direct2v import cli
from direct2v.settings import Project

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = ["--model", "tiny", "--steps", "4", "--t0", "1", "--t1", "2", "--width", "64", "--height", "64", "--quiet"]


@pytest.fixture(scope="module", autouse=True)
def no_adapter_left():
    """The loader keeps the tiny pipeline for the whole test process: take the adapter off after."""
    yield
    from direct2v.render import loading
    from direct2v.render.ip_adapter import ensure_ip_adapter

    for pipe in list(loading._cache.values()):
        ensure_ip_adapter(pipe, None)


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(0)
    for name in ("face", "costume"):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(tmp_path / f"{name}.png")
    (tmp_path / "script.json").write_text(json.dumps(["a red ball", "a red ball bouncing", "a red ball on the floor"]))
    return tmp_path


def frames_of(zip_path):
    import zipfile

    with zipfile.ZipFile(zip_path) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".png"))
        return np.stack([np.asarray(Image.open(zf.open(n))) for n in names])


def test_render_records_adapter_scale_and_pictures_and_the_project_reproduces_it(files, capsys):
    out, project = files / "a.zip", files / "a.direct2v.json"
    rc = cli.main(["render", str(files / "script.json"), *FAST, "--out", str(out), "--ip-adapter", "tiny",
                   "--ip-image", str(files / "face.png"), "--ip-scale", "0.8", "--save-project", str(project)])
    assert rc == 0, capsys.readouterr().err
    assert "Identity: IP-Adapter tiny at scale 0.8, 1 reference picture(s)." in capsys.readouterr().err
    made = Project.load(out)
    assert made.ip_adapter == "tiny" and made.settings.ip_adapter_scale == 0.8
    (ref,) = made.ip_images
    assert ref["frame"] == 0 and ref["path"] == str(files / "face.png") and len(ref["sha256"]) == 64
    again = files / "b.zip"
    assert cli.main(["render", str(project), "--quiet", "--out", str(again)]) == 0
    assert np.array_equal(frames_of(out), frames_of(again))
    without = files / "c.zip"
    assert cli.main(["render", str(project), "--quiet", "--out", str(without), "--ip-scale", "0"]) == 0
    plain = files / "d.zip"
    assert cli.main(["render", str(files / "script.json"), *FAST, "--out", str(plain)]) == 0
    assert np.array_equal(frames_of(without), frames_of(plain))  # scale 0 = no adapter
    assert not np.array_equal(frames_of(out), frames_of(plain))


def test_spans_and_bad_references(files, capsys):
    out = files / "s.zip"
    rc = cli.main(["render", str(files / "script.json"), *FAST, "--out", str(out), "--ip-adapter", "tiny",
                   "--ip-image", f"2:{files / 'face.png'}", "--ip-image", "3:none"])
    assert rc == 0, capsys.readouterr().err
    assert [(r["frame"], bool(r["path"])) for r in Project.load(out).ip_images] == [(1, True), (2, False)]
    capsys.readouterr()
    assert cli.main(["render", str(files / "script.json"), *FAST, "--out", str(out), "--ip-image", str(files / "face.png")]) == 2
    assert "--ip-image needs an IP-Adapter: give --ip-adapter" in capsys.readouterr().err
    assert cli.main(["render", str(files / "script.json"), *FAST, "--out", str(out), "--ip-adapter", "tiny",
                     "--ip-image", str(files / "nope.png")]) == 2
    assert "The reference picture" in capsys.readouterr().err
    project = files / "p.json"
    assert cli.main(["render", str(files / "script.json"), *FAST, "--out", str(out), "--ip-adapter", "tiny",
                     "--ip-image", str(files / "costume.png"), "--save-project", str(project)]) == 0
    Image.new("RGB", (8, 8)).save(files / "costume.png")
    capsys.readouterr()
    assert cli.main(["render", str(project), "--quiet", "--out", str(out)]) == 2
    assert "has changed since the project recorded it; give --ip-image" in capsys.readouterr().err
    assert cli.main(["render", str(files / "script.json"), *FAST, "--out", str(out),
                     "--ip-adapter", "someone/adapters/missing.safetensors", "--ip-image", str(files / "face.png")]) == 3
    assert "Could not load the IP-Adapter 'someone/adapters/missing.safetensors'" in capsys.readouterr().err


def test_compare_reports_the_identity_score(files, capsys):
    rc = cli.main(["compare", str(files / "script.json"), *FAST, "--clip-model", "tiny", "--methods", "first,rotational",
                   "--out-dir", str(files / "cmp"), "--ip-adapter", "tiny", "--ip-image", str(files / "face.png")])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "| Identity |" in out.out
    metrics = json.loads((files / "cmp" / "metrics.json").read_text())
    assert all(len(m["identity"]) == 3 and m["avg_identity"] is not None for m in metrics["methods"])


def test_suite_renders_every_item_with_the_references_and_reports_identity(files):
    suite = files / "suite.json"
    suite.write_text(json.dumps([["a red kite over a beach", "a red kite dives toward the sand"]]))
    out = files / "suite"
    flags = ["--model", "tiny", "--clip-model", "tiny", "--steps", "2", "--t0", "0", "--t1", "1", "--width", "64",
             "--height", "64", "--methods", "first", "--backend", "offline", "--seed", "3", "--quiet"]
    assert cli.main(["suite", str(suite), "--out-dir", str(out), *flags, "--ip-adapter", "tiny",
                     "--ip-image", str(files / "face.png")]) == 0
    (item,) = [p for p in (out / "items").iterdir() if p.is_dir() and not p.name.startswith(".")]
    project = Project.load(item / "project.json")
    assert project.ip_adapter == "tiny" and project.ip_images[0]["sha256"]
    assert "| Identity |" in (out / "report.md").read_text()
    plain = files / "plain"
    assert cli.main(["suite", str(suite), "--out-dir", str(plain), *flags]) == 0
    assert "Identity" not in (plain / "report.md").read_text()
    assert {p.name for p in (plain / "items").iterdir()} != {p.name for p in (out / "items").iterdir()}  # other keys
