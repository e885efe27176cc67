"""`direct2v suite` on tiny models: two Accelerate processes against one, a killed run
resumed, item keys, locks, failures, bad input."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from direct2v import cli
from direct2v.suite.cli import prepare
from direct2v.suite.report import REPORT_FILES
from direct2v.suite.runner import DONE_FILE, ItemWorker, run_suite
from direct2v.suite.slots import Slots

ROOT = Path(__file__).resolve().parents[1]
SUITE = [
    "A corgi is running, and another corgi joins later",  # directed by the offline director
    ["a red kite over a beach", "a red kite dives toward the sand"],  # a frame script, used as it is
    {"format": "direct2v-project", "version": 1, "user_prompt": "A rainbow after rain",
     "frames": ["rain over a green hill", "a rainbow over a green hill"], "settings": {"guidance_scale": 5.0}},
]
FLAGS = ["--model", "tiny", "--clip-model", "tiny", "--steps", "2", "--t0", "0", "--t1", "1", "--width", "64",
         "--height", "64", "--frames", "2", "--methods", "first,none", "--backend", "offline", "--seed", "3", "--quiet"]
COMPARED = [f for f in REPORT_FILES if not f.endswith(".png")]  # text outputs, compared byte for byte


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest.py


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "suite.json"
    path.write_text(json.dumps(SUITE), encoding="utf-8")
    return path


def prepare_args(args):
    return prepare(args, cli.settings_from_args)


def args_for(suite_file: Path, out: Path, *extra: str):
    return cli.build_parser().parse_args(["suite", str(suite_file), "--out-dir", str(out), *FLAGS, *extra])


@pytest.fixture(scope="module")
def one_process(suite_file, tmp_path_factory) -> Path:
    """The reference: the whole suite in this process."""
    out = tmp_path_factory.mktemp("one") / "out"
    assert cli.main(["suite", str(suite_file), "--out-dir", str(out), *FLAGS]) == 0
    return out


def items_of(out: Path) -> dict[str, dict]:
    return {p.name: json.loads((p / DONE_FILE).read_text()) for p in (out / "items").iterdir()
            if p.is_dir() and not p.name.startswith(".")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_accelerate_processes_split_the_items_and_merge_the_one_process_report(suite_file, one_process, tmp_path):
    out = tmp_path / "two"
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", TRANSFORMERS_VERBOSITY="error")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # `--cpu --num_processes 2` starts one process unless MPI is installed (accelerate 1.x); the
    # torchrun launcher behind --multi_gpu starts two, and the suite runs them on the CPU over gloo.
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "--main_process_port", str(free_port()), "-m", "direct2v", "suite", str(suite_file),
           "--out-dir", str(out), *FLAGS]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.count("3 of 3 items done (0 already finished)") == 1  # rank 0 only

    made = items_of(out)
    assert len(made) == 3 and set(made) == set(items_of(one_process))
    # split_between_processes gives rank 0 the first two items and rank 1 the third, once each.
    by_index = {rec["title"]: rec["process"] for rec in made.values()}
    ranks = sorted(p["index"] for p in by_index.values())
    assert ranks == [0, 0, 1] and {p["count"] for p in by_index.values()} == {2}
    assert len({p["pid"] for p in by_index.values()}) == 2
    assert not [p for p in (out / "items").iterdir() if p.name.startswith(".tmp-")]
    for name in COMPARED:
        assert (out / name).read_bytes() == (one_process / name).read_bytes(), name
    for name in ("clip_scores.png", "paired.png"):
        assert (out / name).stat().st_size > 1000


class KillAt:
    """The real renderer that stops the run (as Ctrl-C or a kill would) at its n-th call."""

    def __init__(self, kill_at: int | None = None):
        from direct2v.render import render

        self.render = render
        self.kill_at = kill_at
        self.calls: list[str] = []

    def __call__(self, pipe, prompts, settings, **kw):
        self.calls.append(prompts[0])
        if len(self.calls) == self.kill_at:
            raise KeyboardInterrupt
        return self.render(pipe, prompts, settings, **kw)


def test_a_killed_run_resumes_with_only_the_missing_items(suite_file, one_process, tmp_path):
    out = tmp_path / "resume"
    config, planned = prepare_args(args_for(suite_file, out))
    # Call 3 is the first method of item 2: item 1 is finished, item 2 in flight, item 3 not begun.
    with pytest.raises(KeyboardInterrupt):
        run_suite(planned, config, render_fn=KillAt(kill_at=3))
    first = out / "items" / planned[0].folder
    assert (first / DONE_FILE).is_file()
    assert not (out / "items" / planned[1].folder).exists() and not (out / "items" / planned[2].folder).exists()
    leftovers = [p.name for p in (out / "items").iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == [f".tmp-{planned[1].folder}-{os.getpid()}"]
    stamp = (first / DONE_FILE).stat().st_mtime_ns

    again = KillAt()
    run = run_suite(planned, config, render_fn=again)
    # Two methods for each of the two missing items; nothing of item 1 again.
    assert again.calls == [planned[1].item.frames[0]] * 2 + [planned[2].item.frames[0]] * 2
    assert run.skipped == 1 and sorted(run.rendered) == sorted([planned[1].key, planned[2].key]) and not run.failed
    assert (first / DONE_FILE).stat().st_mtime_ns == stamp
    assert not [p for p in (out / "items").iterdir() if p.name.startswith(".tmp-")]
    for name in COMPARED:
        assert (out / name).read_bytes() == (one_process / name).read_bytes(), name

    third = KillAt()
    assert run_suite(planned, config, render_fn=third).skipped == 3 and third.calls == []


def test_keys_depend_on_every_input_and_repeated_items_run_once(suite_file, tmp_path):
    _, planned = prepare_args(args_for(suite_file, tmp_path / "a"))
    _, same = prepare_args(args_for(suite_file, tmp_path / "b"))
    assert [p.key for p in planned] == [p.key for p in same] and len({p.key for p in planned}) == 3
    for extra in (["--seed", "4"], ["--steps", "3"], ["--methods", "first,rotational"], ["--frames", "3"],
                  ["--model", "other/model"], ["--lora", "style.safetensors"], ["--model-config", "sd15-config"]):
        _, changed = prepare_args(args_for(suite_file, tmp_path / "c", *extra))
        changed_keys = {p.key for p in changed}
        if extra[0] == "--frames":  # only the prompt that is directed changes
            assert changed[0].key != planned[0].key and changed[1].key == planned[1].key
        else:
            assert not changed_keys & {p.key for p in planned}, extra
    _, half = prepare_args(args_for(suite_file, tmp_path / "c", "--lora", "style.safetensors", "--lora-scale", "0.5"))
    _, full = prepare_args(args_for(suite_file, tmp_path / "c", "--lora", "style.safetensors"))
    assert not {p.key for p in half} & {p.key for p in full}  # the LoRA's scale is part of the model
    # A scale without a LoRA changes nothing, and keys made before these options existed still match.
    _, scale_only = prepare_args(args_for(suite_file, tmp_path / "c", "--lora-scale", "0.5"))
    assert [p.key for p in scale_only] == [p.key for p in planned]
    # --mode is decided by the methods, so it leaves the keys alone.
    _, moded = prepare_args(args_for(suite_file, tmp_path / "d", "--mode", "random"))
    assert [p.key for p in moded] == [p.key for p in planned]
    doubled = tmp_path / "doubled.json"
    doubled.write_text(json.dumps(SUITE + [SUITE[1]]), encoding="utf-8")
    _, dedup = prepare_args(args_for(doubled, tmp_path / "e"))
    assert [p.key for p in dedup] == [p.key for p in planned]
    # The project keeps its own guidance unless a flag overrides it.
    assert planned[2].settings.guidance_scale == 5.0 and planned[1].settings.guidance_scale == 7.5


def test_an_item_held_by_another_process_is_left_to_it(suite_file, tmp_path):
    from filelock import FileLock

    out = tmp_path / "held"
    config, planned = prepare_args(args_for(suite_file, out))
    (out / "items" / ".locks").mkdir(parents=True)
    calls = KillAt()
    worker = ItemWorker(config, pipe=None, scorer=None, render_fn=calls)
    with FileLock(str(out / "items" / ".locks" / f"{planned[1].folder}.lock")):
        assert worker.run(planned[1]) == "busy"
    assert calls.calls == [] and not (out / "items" / planned[1].folder).exists()


def test_a_failed_item_is_reported_and_retried(suite_file, tmp_path):
    out = tmp_path / "fail"
    config, planned = prepare_args(args_for(suite_file, out))
    real = KillAt()

    def flaky(pipe, prompts, settings, **kw):
        if prompts[0] == planned[1].item.frames[0]:
            raise RuntimeError("simulated failure")
        return real(pipe, prompts, settings, **kw)

    run = run_suite(planned, config, render_fn=flaky)
    assert run.failed == {planned[1].folder: "RuntimeError: simulated failure"}
    assert len(run.done) == 2
    report = (out / "report.md").read_text()
    assert report.startswith("# DirecT2V suite: 2 of 3 items")
    assert "## Not finished" in report and "RuntimeError: simulated failure" in report
    run = run_suite(planned, config, render_fn=KillAt())
    assert not run.failed and len(run.done) == 3 and run.rendered == [planned[1].key]
    assert not (out / "items" / ".failed" / f"{planned[1].folder}.txt").exists()


@pytest.mark.parametrize(
    "content, extra, message",
    [
        (None, [], "Cannot read the suite file"),
        ("[]", [], "has no prompts"),
        ('["a fox", 42]', [], "entry 2: expected a prompt, a list of frame prompts or a project object"),
        ('[["a fox", ""]]', [], "entry 1: a frame script must be a non-empty list of non-empty strings"),
        ('["a fox"]', ["--seed", "-1"], "A suite needs a fixed --seed"),
        ('["a fox"]', ["--methods", "first,first"], "listed twice"),
    ],
)
def test_bad_suites_are_one_line_errors(tmp_path, capsys, content, extra, message):
    path = tmp_path / "s.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code = cli.main(["suite", str(path), "--out-dir", str(tmp_path / "o"), *FLAGS, *extra])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == cli.EXIT_INPUT and len(err) == 1 and message in err[0], err


def test_a_text_suite_skips_blank_and_comment_lines(tmp_path):
    from direct2v.suite.items import load_suite

    path = tmp_path / "s.txt"
    path.write_text("# the paper's prompts\nA corgi is running\n\n  A rainbow forming  \n", encoding="utf-8")
    items = load_suite(path)
    assert [(i.index, i.prompt, i.frames) for i in items] == [(0, "A corgi is running", None), (1, "A rainbow forming", None)]


def test_a_json_suite_takes_project_files_beside_it(tmp_path):
    from direct2v.settings import Project, RenderSettings
    from direct2v.suite.items import load_suite

    Project(user_prompt="a fox", frames=["a fox sits", "a fox runs"], settings=RenderSettings(seed=9)).save(tmp_path / "fox.json")
    Project(user_prompt="an owl wakes up").save(tmp_path / "owl.json")  # no frames: directed
    (tmp_path / "s.json").write_text(json.dumps([{"project": "fox.json"}, {"project": "owl.json"}]), encoding="utf-8")
    fox, owl = load_suite(tmp_path / "s.json")
    assert fox.frames == ["a fox sits", "a fox runs"] and fox.settings.seed == 9 and not fox.needs_directing
    assert owl.needs_directing and owl.prompt == "an owl wakes up"


def test_slots_bound_concurrency_across_holders(tmp_path):
    slots = Slots(tmp_path / "slots", 2, poll_s=0.01)
    active, peak, lock = [0], [0], threading.Lock()

    def work():
        with slots.hold():
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.05)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


def test_the_shipped_suite_starts_with_the_papers_four_prompts():
    from direct2v.suite.items import load_suite

    items = load_suite(ROOT / "assets" / "suite" / "stories.txt")
    paper = [e["prompt"] for e in json.loads((ROOT / "assets" / "examples.json").read_text())["examples"]]
    assert [i.prompt for i in items[:4]] == paper
    assert len(items) >= 30 and len({i.prompt for i in items}) == len(items)


def test_a_director_that_cannot_start_stops_the_run_before_any_item(suite_file, tmp_path, capsys, monkeypatch):
    for key in ("OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    out = tmp_path / "nokey"
    code = cli.main(["suite", str(suite_file), "--out-dir", str(out), *FLAGS, "--backend", "openai"])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == cli.EXIT_DIRECTOR and len(err) == 1 and "OPENAI_API_KEY" in err[0], err
    assert items_of(out) == {}
    assert cli.main(["suite", str(suite_file), "--out-dir", str(out), *FLAGS, "--backend", "palm"]) == cli.EXIT_INPUT
    assert "--backend: invalid choice: 'palm'" in capsys.readouterr().err  # the schema's choices, as for direct


def test_directing_through_an_api_takes_turns_across_workers(tmp_path, monkeypatch):
    """Three workers (as three processes would) direct through the real openai SDK against a
    slow loopback server with --director-concurrency 1: one request at a time, none lost."""
    try:
        from director_helpers import ScriptedServer, frames_json, openai_reply
    except ImportError:  # pragma: no cover
        from tests.director_helpers import ScriptedServer, frames_json, openai_reply

    monkeypatch.setenv("OPENAI_API_KEY", "sk-FAKE-TEST-0000")
    monkeypatch.setenv("DIRECT2V_CACHE_DIR", str(tmp_path / "cache"))
    suite = tmp_path / "s.txt"
    suite.write_text("a fox runs\na fox sleeps\na fox jumps\n", encoding="utf-8")
    reply = openai_reply(frames_json(2))
    reply.delay = 0.2
    active, peak, guard = [0], [0], threading.Lock()
    with ScriptedServer([reply]) as srv:
        config, planned = prepare_args(args_for(suite, tmp_path / "o", "--backend", "openai", "--base-url",
                                           srv.url + "/v1", "--llm-model", "test-model", "--director-concurrency", "1"))
        workers = [ItemWorker(config, pipe=None, scorer=None) for _ in planned]
        for w in workers:
            d = w.director()
            send = d.direct  # the requests (and their retries) happen inside it

            def counted(*a, send=send, **kw):
                with guard:
                    active[0] += 1
                    peak[0] = max(peak[0], active[0])
                try:
                    return send(*a, **kw)
                finally:
                    with guard:
                        active[0] -= 1

            d.direct = counted
        scripts: dict[int, list[str]] = {}
        threads = [threading.Thread(target=lambda i=i: scripts.__setitem__(i, workers[i]._frames(planned[i])))
                   for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(srv.requests) == 3 and peak[0] == 1
    assert scripts == {i: ["a red fox frame 0", "a red fox frame 1"] for i in range(3)}


def test_a_lora_renders_every_item_and_each_project_records_it(tmp_path):
    from sd_checkpoint import write_tiny_lora

    from direct2v.render import loading
    from direct2v.settings import Project

    lora, _ = write_tiny_lora(tmp_path / "lora")
    suite = tmp_path / "one.json"
    suite.write_text(json.dumps([SUITE[1]]), encoding="utf-8")
    out = tmp_path / "out"
    flags = [f for f in FLAGS]
    flags[flags.index("--methods") + 1] = "first"
    assert cli.main(["suite", str(suite), "--out-dir", str(out), *flags, "--lora", str(lora), "--lora-scale", "0.5"]) == 0
    (item,) = [p for p in (out / "items").iterdir() if p.is_dir() and not p.name.startswith(".")]
    project = Project.load(item / "project.json")
    assert (project.model, project.lora, project.lora_scale) == ("tiny", str(lora), 0.5)
    pipe = loading.load_pipeline("tiny", device="cpu", lora=str(lora), lora_scale=0.5)  # the one the suite loaded
    assert pipe.lora_strength == 0.5
    assert cli.main(["suite", str(suite), "--out-dir", str(tmp_path / "bad"), *flags, "--lora", str(lora),
                     "--lora-scale", "9"]) == 2  # out of range: one line, before any item
