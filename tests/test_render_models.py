"""Models users have: single-file checkpoints (with a local config folder, offline), the fp16
variant, LoRA weights with a scale, and the bounded pipeline cache with stages and cancel."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionPipeline
from safetensors.torch import save_file

from direct2v.render import loading
from direct2v.render.errors import ModelLoadCancelled, ModelLoadError
from direct2v.render.loading import load_pipeline, tiny_components
from direct2v.render.pipeline import DirecT2VPipeline
from direct2v.settings import ModelChoice, Project, RenderSettings, SettingsError

from sd_checkpoint import pipeline_to_ldm, sdxl_pipeline_to_sgm, write_tiny_lora

PROMPTS = ["a red kite over a beach", "a red kite on the sand"]
KW = dict(num_inference_steps=4, t0=1, t1=2)


def frames(pipe, seed=0):
    return pipe(PROMPTS, generator=torch.Generator().manual_seed(seed), **KW).frames


@pytest.fixture(autouse=True)
def offline_and_fresh_cache(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loading.clear_cache()
    yield
    loading.clear_cache()
    loading.set_max_pipelines(2)


@pytest.fixture(scope="module")
def source():
    p = DirecT2VPipeline(**tiny_components(seed=3))
    p.set_progress_bar_config(disable=True)
    return p


@pytest.fixture(scope="module")
def config_folder(tmp_path_factory):
    """What an offline user keeps next to their checkpoints: the model's configs, no weights."""
    folder = tmp_path_factory.mktemp("config") / "sd15-config"
    StableDiffusionPipeline(**tiny_components(), safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(folder)
    for weights in list(folder.rglob("*.safetensors")) + list(folder.rglob("*.bin")):
        weights.unlink()
    return folder


# --------------------------------------------------------------------------- single files
@pytest.mark.parametrize("suffix", [".safetensors", ".ckpt"])
def test_single_file_checkpoint_loads_offline_with_a_config_folder(tmp_path, source, config_folder, suffix):
    state = pipeline_to_ldm(source)
    path = tmp_path / f"my-model{suffix}"
    if suffix == ".safetensors":
        save_file(state, path)
    else:
        torch.save({"state_dict": state}, path)
    pipe = load_pipeline(str(path), device="cpu", config=str(config_folder))
    assert type(pipe) is DirecT2VPipeline and pipe.model_name == str(path)
    for name in ("unet", "vae", "text_encoder"):
        ours, theirs = getattr(pipe, name).state_dict(), getattr(source, name).state_dict()
        assert ours.keys() == theirs.keys()
        assert all(torch.equal(ours[k], theirs[k]) for k in ours), name
    assert np.abs(frames(pipe) - frames(source)).max() < 1e-5


def test_single_file_errors_say_what_to_do(tmp_path, source, config_folder):
    path = tmp_path / "model.safetensors"
    save_file(pipeline_to_ldm(source), path)
    with pytest.raises(ModelLoadError, match="--model-config"):
        load_pipeline(str(path), device="cpu")  # offline: no config from the Hub
    with pytest.raises(ModelLoadError, match="is not a diffusers model folder"):
        load_pipeline(str(path), device="cpu", config=str(tmp_path))
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelLoadError, match="not a .safetensors or .ckpt"):
        load_pipeline(str(tmp_path / "notes.txt"), device="cpu")
    with pytest.raises(ModelLoadError, match="only applies to single-file"):
        load_pipeline("tiny-folder-does-not-matter", device="cpu", config=str(config_folder))


# --------------------------------------------------------------------------- fp16 variant
def test_fp16_variant_is_used_where_the_folder_has_one(tmp_path, source):
    folder = tmp_path / "model"
    source.save_pretrained(folder)
    half = DirecT2VPipeline(**tiny_components(seed=3))
    with torch.no_grad():
        half.unet.conv_in.weight.mul_(0.5)  # tell the two files apart
    half.to(torch.float16).save_pretrained(folder, variant="fp16")
    fp16 = load_pipeline(str(folder), device="cpu", dtype=torch.float16)
    fp32 = load_pipeline(str(folder), device="cpu", dtype=torch.float32)
    assert fp16.unet.dtype == torch.float16 and fp32.unet.dtype == torch.float32
    assert torch.equal(fp16.unet.conv_in.weight, half.unet.conv_in.weight)
    assert torch.equal(fp32.unet.conv_in.weight, source.unet.conv_in.weight)
    plain = tmp_path / "plain"
    source.save_pretrained(plain)  # no variant: the fp32 files, cast
    cast = load_pipeline(str(plain), device="cpu", dtype=torch.float16)
    assert torch.equal(cast.unet.conv_in.weight, source.unet.conv_in.weight.half())


def _hub_snapshot(cache: Path, repo: str, pipe, variant_pipe=None) -> None:
    """A model as huggingface_hub keeps a downloaded repository: what an offline Hub id loads from."""
    root = cache / ("models--" + repo.replace("/", "--"))
    snapshot = root / "snapshots" / ("0" * 40)
    pipe.save_pretrained(snapshot)
    if variant_pipe is not None:
        variant_pipe.save_pretrained(snapshot, variant="fp16")
    (root / "refs").mkdir(parents=True)
    (root / "refs" / "main").write_text("0" * 40)


def test_hub_id_uses_the_fp16_variant_where_the_repository_has_one(tmp_path, source, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path))
    half = DirecT2VPipeline(**tiny_components(seed=3))
    with torch.no_grad():
        half.unet.conv_in.weight.mul_(0.5)
    _hub_snapshot(tmp_path, "someone/with-fp16", source, half.to(torch.float16))
    _hub_snapshot(tmp_path, "someone/fp32-only", source)
    with_variant = load_pipeline("someone/with-fp16", device="cpu", dtype=torch.float16)
    assert torch.equal(with_variant.unet.conv_in.weight, half.unet.conv_in.weight)
    without = load_pipeline("someone/fp32-only", device="cpu", dtype=torch.float16)  # falls back to the fp32 files
    assert without.unet.dtype == torch.float16
    assert torch.equal(without.unet.conv_in.weight, source.unet.conv_in.weight.half())


# --------------------------------------------------------------------------- LoRA
@pytest.fixture(scope="module")
def lora_file(tmp_path_factory):
    return write_tiny_lora(tmp_path_factory.mktemp("lora"))


def test_lora_scale_zero_is_the_base_model_and_one_is_the_adapted_unet(lora_file):
    path, adapted_unet = lora_file
    base = frames(load_pipeline("tiny", device="cpu"))
    pipe = load_pipeline("tiny", device="cpu", lora=str(path), lora_scale=0.0)
    assert np.abs(frames(pipe) - base).max() < 1e-6
    again = load_pipeline("tiny", device="cpu", lora=str(path), lora_scale=1.0)
    assert again is pipe and pipe.lora_strength == 1.0  # a new scale reuses the loaded pipeline
    with_lora = frames(pipe)
    reference = DirecT2VPipeline(**{**tiny_components(), "unet": adapted_unet})
    reference.set_progress_bar_config(disable=True)
    assert np.abs(with_lora - frames(reference)).max() < 1e-5
    assert np.abs(with_lora - base).max() > 1e-3


def test_sdxl_lora_through_the_loader(tmp_path):
    path, adapted_unet = write_tiny_lora(tmp_path, sdxl=True)
    base = frames(load_pipeline("tiny-sdxl", device="cpu"))
    pipe = load_pipeline("tiny-sdxl", device="cpu", lora=str(path), lora_scale=0.0)
    assert np.abs(frames(pipe) - base).max() < 1e-6
    assert load_pipeline("tiny-sdxl", device="cpu", lora=str(path), lora_scale=1.0) is pipe
    from direct2v.render.loading import tiny_sdxl_components
    from direct2v.render.sdxl import DirecT2VSDXLPipeline

    reference = DirecT2VSDXLPipeline(**{**tiny_sdxl_components(), "unet": adapted_unet})
    reference.set_progress_bar_config(disable=True)
    assert np.abs(frames(pipe) - frames(reference)).max() < 1e-5


def test_bad_lora_fails_clearly_and_keeps_nothing(tmp_path):
    with pytest.raises(ModelLoadError, match="No such LoRA file or folder: .*missing.safetensors"):
        load_pipeline("tiny", device="cpu", lora=str(tmp_path / "missing.safetensors"))
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelLoadError, match="Could not load the LoRA weights '.*broken.safetensors'"):
        load_pipeline("tiny", device="cpu", lora=str(broken))
    with pytest.raises(ModelLoadError, match="LoRA scale must be a number between -4 and 4"):
        load_pipeline("tiny", device="cpu", lora=str(broken), lora_scale=9.0)
    assert not loading._cache  # none of the failed loads is kept
    base = load_pipeline("tiny", device="cpu")
    loading.set_lora_scale(base, 9.0)  # no LoRA on it: nothing to scale, nothing refused


# --------------------------------------------------------------------------- the cache
def test_cache_keeps_at_most_max_pipelines_least_recently_used_out(tmp_path, source):
    source.save_pretrained(tmp_path / "a")
    loading.set_max_pipelines(2)
    tiny = load_pipeline("tiny", device="cpu")
    a = load_pipeline(str(tmp_path / "a"), device="cpu")
    assert load_pipeline("tiny", device="cpu") is tiny  # now the most recently used
    load_pipeline("tiny-sdxl", device="cpu")  # evicts `a`
    assert load_pipeline("tiny", device="cpu") is tiny
    assert load_pipeline(str(tmp_path / "a"), device="cpu") is not a
    loading.set_max_pipelines(1)
    assert len(loading._cache) == 1
    with pytest.raises(ValueError, match="whole number of at least 1"):
        loading.set_max_pipelines(0)


def test_loading_reports_stages_and_can_be_cancelled(lora_file):
    stages = []
    load_pipeline("tiny", device="cpu", lora=str(lora_file[0]), on_stage=stages.append)
    assert stages == ["Loading tiny", f"Applying LoRA {lora_file[0]}", "Moving tiny to cpu", "Ready"]
    loading.clear_cache()
    seen = []

    def cancel_after_first_stage():
        return len(seen) >= 1

    with pytest.raises(ModelLoadCancelled, match="Loading tiny was cancelled"):
        load_pipeline("tiny", device="cpu", on_stage=seen.append, should_cancel=cancel_after_first_stage)
    assert seen == ["Loading tiny"] and len(loading._cache) == 0


# --------------------------------------------------------------------------- project file
def test_project_file_records_model_config_and_lora():
    p = Project(frames=["a"], settings=RenderSettings(seed=1), model="my.safetensors", model_config="/models/sd15",
                lora="style.safetensors", lora_scale=0.7)
    back = Project.from_json(p.to_json())
    assert (back.model, back.model_config, back.lora, back.lora_scale) == ("my.safetensors", "/models/sd15", "style.safetensors", 0.7)
    assert back.model_choice() == ModelChoice("my.safetensors", "/models/sd15", "style.safetensors", 0.7)
    old = Project.from_json('{"format": "direct2v-project", "version": 1, "frames": ["a"], "model": "tiny"}')
    assert (old.lora, old.lora_scale, old.model_config) == ("", 1.0, "")
    with pytest.raises(SettingsError, match="'lora_scale' must be a number"):
        Project.from_json('{"format": "direct2v-project", "version": 1, "frames": ["a"], "lora_scale": "strong"}')
    with pytest.raises(SettingsError, match="LoRA scale must be between -4.0 and 4.0"):
        ModelChoice("tiny", lora="x", lora_scale=5).validate()


# --------------------------------------------------------------------------- command line
def test_cli_renders_a_single_file_with_lora_and_records_them(tmp_path, source, config_folder, lora_file):
    import json

    from direct2v import cli

    ckpt = tmp_path / "model.safetensors"
    save_file(pipeline_to_ldm(source), ckpt)
    script = tmp_path / "script.json"
    script.write_text(json.dumps(PROMPTS))
    code = cli.main(["render", str(script), "--model", str(ckpt), "--model-config", str(config_folder),
                     "--lora", str(lora_file[0]), "--lora-scale", "0.5", "--precision", "fp32", "--quiet",
                     "--steps", "4", "--t0", "1", "--t1", "2", "--width", "64", "--height", "64", "--device", "cpu",
                     "--out", str(tmp_path / "v.gif"), "--save-project", str(tmp_path / "p.json")])
    assert code == 0 and (tmp_path / "v.gif").stat().st_size > 0
    saved = Project.load(tmp_path / "p.json")
    assert (saved.model, saved.model_config, saved.lora, saved.lora_scale) == (str(ckpt), str(config_folder), str(lora_file[0]), 0.5)
    assert Project.load(tmp_path / "v.gif").lora == str(lora_file[0])  # the video carries it too
    # The project alone names the same model, config and LoRA: the cached pipeline, no second load.
    assert cli.main(["render", str(tmp_path / "p.json"), "--quiet", "--device", "cpu", "--out", str(tmp_path / "w.gif")]) == 0
    assert [k[:3] for k in loading._cache] == [(str(ckpt), str(config_folder), str(lora_file[0]))]
    # Another --model does not inherit the project's LoRA.
    assert cli.main(["render", str(tmp_path / "p.json"), "--quiet", "--device", "cpu", "--model", "tiny",
                     "--out", str(tmp_path / "t.gif"), "--save-project", str(tmp_path / "t.json")]) == 0
    assert Project.load(tmp_path / "t.json").model_choice() == ModelChoice("tiny")


def test_cli_model_errors_are_one_line_with_exit_codes(tmp_path, capsys, source):
    import json

    from direct2v import cli

    script = tmp_path / "script.json"
    script.write_text(json.dumps(PROMPTS))
    ckpt = tmp_path / "model.safetensors"
    save_file(pipeline_to_ldm(source), ckpt)
    base = ["render", str(script), "--quiet", "--device", "cpu", "--out", str(tmp_path / "v.gif")]
    assert cli.main(base + ["--model", str(ckpt)]) == cli.EXIT_MODEL
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--model-config" in err
    assert cli.main(base + ["--model", "tiny", "--lora", "x.safetensors", "--lora-scale", "7"]) == cli.EXIT_INPUT
    assert "LoRA scale must be between -4.0 and 4.0" in capsys.readouterr().err
    assert cli.main(base + ["--model", "tiny", "--precision", "fp8"]) == cli.EXIT_INPUT


# --------------------------------------------------------------------------- the page's model holder
def test_page_model_switch_keeps_the_previous_model_when_a_load_fails(tmp_path, lora_file):
    from direct2v.services.runtime import ModelHolder

    holder = ModelHolder("tiny", "cpu")
    first = holder.get()
    with pytest.raises(ModelLoadError, match="No such model folder"):
        holder.switch(ModelChoice(str(tmp_path / "missing")))
    assert holder.model == "tiny" and holder.get() is first
    with pytest.raises(ModelLoadError, match="No model given"):
        holder.switch(ModelChoice("  "))
    assert holder.cancel_switch() is False  # nothing to cancel, and it does not stop the next switch
    stages = []
    pipe = holder.switch(ModelChoice("tiny", lora=f"  {lora_file[0]} ", lora_scale=0.5), on_stage=stages.append)
    assert holder.get() is pipe is not first and pipe.lora_strength == 0.5
    assert holder.choice == ModelChoice("tiny", "", str(lora_file[0]), 0.5)
    assert stages[0] == "Loading tiny" and stages[-1] == "Ready"
    assert not holder.switching and holder.cancel_switch() is False


def test_page_model_switch_can_be_cancelled_while_it_loads(monkeypatch):
    import threading

    from direct2v.services.runtime import ModelHolder

    holder = ModelHolder("tiny", "cpu")
    first = holder.get()
    started, release = threading.Event(), threading.Event()
    real = loading.tiny_sdxl_components

    def slow(*a, **k):  # the weights take a while; Cancel comes meanwhile
        started.set()
        release.wait(10)
        return real(*a, **k)

    monkeypatch.setattr(loading, "tiny_sdxl_components", slow)
    errors = []

    def switch():
        try:
            holder.switch(ModelChoice("tiny-sdxl"))
        except ModelLoadCancelled as e:
            errors.append(str(e))

    worker = threading.Thread(target=switch)
    worker.start()
    assert started.wait(10) and holder.switching
    assert holder.cancel_switch() is True
    release.set()
    worker.join(10)
    assert errors == ["Loading tiny-sdxl was cancelled."]
    assert holder.model == "tiny" and holder.get() is first
    assert all(k[0] != "tiny-sdxl" for k in loading._cache)  # the cancelled load is not kept


def _tiny_sdxl_with_distinct_encoders():
    """Tiny SDXL whose two text encoders differ in width (32 and 48), as SDXL's do (768 and
    1280): diffusers' single-file loader tells the encoders apart by that width."""
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection
    from diffusers import UNet2DConditionModel

    from direct2v.render.loading import tiny_sdxl_components, tiny_tokenizer

    parts = tiny_sdxl_components(seed=5)
    torch.manual_seed(9)
    parts["text_encoder_2"] = CLIPTextModelWithProjection(CLIPTextConfig(
        bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=48, intermediate_size=37, num_attention_heads=4,
        num_hidden_layers=3, projection_dim=32, vocab_size=len(tiny_tokenizer()), max_position_embeddings=77,
    ))
    torch.manual_seed(10)
    parts["unet"] = UNet2DConditionModel.from_config({**parts["unet"].config, "cross_attention_dim": 80})
    return parts


def test_sdxl_single_file_loads_offline_as_the_sdxl_pipeline(tmp_path):
    """A tiny SDXL checkpoint in Stability's original layout, read by diffusers' SDXL
    single-file loader with a local config folder: DirecT2VSDXLPipeline, the same weights, the same frames."""
    from diffusers import StableDiffusionXLPipeline

    from direct2v.render.sdxl import DirecT2VSDXLPipeline

    parts = _tiny_sdxl_with_distinct_encoders()
    source = DirecT2VSDXLPipeline(**parts)
    source.set_progress_bar_config(disable=True)
    config = tmp_path / "xl-config"
    StableDiffusionXLPipeline(**parts).save_pretrained(config)
    for weights in list(config.rglob("*.safetensors")) + list(config.rglob("*.bin")):
        weights.unlink()
    path = tmp_path / "my-xl.safetensors"
    save_file(sdxl_pipeline_to_sgm(source), path)
    pipe = load_pipeline(str(path), device="cpu", config=str(config))
    assert type(pipe) is DirecT2VSDXLPipeline
    for name in ("unet", "vae", "text_encoder", "text_encoder_2"):
        ours, theirs = getattr(pipe, name).state_dict(), getattr(source, name).state_dict()
        assert ours.keys() == theirs.keys(), name
        assert all(torch.equal(ours[k], theirs[k]) for k in ours), name
    assert np.abs(frames(pipe) - frames(source)).max() < 1e-5


def test_cancel_answers_at_once_while_the_first_load_runs(monkeypatch):
    """The page's Cancel must not wait behind the start-up load of the model."""
    import threading

    from direct2v.services.runtime import ModelHolder

    started, release = threading.Event(), threading.Event()
    real = loading.tiny_components

    def slow(*a, **k):
        started.set()
        release.wait(10)
        return real(*a, **k)

    monkeypatch.setattr(loading, "tiny_components", slow)
    holder = ModelHolder("tiny", "cpu")
    holder.preload(background=True)
    assert started.wait(10)
    answered = []
    asker = threading.Thread(target=lambda: answered.append(holder.cancel_switch()))
    asker.start()
    asker.join(2)
    release.set()
    assert answered == [False] and not holder.switching
    assert holder.get() is not None
