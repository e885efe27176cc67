"""The local back end with a tiny randomly initialised chat model built in-process (no download)."""

from __future__ import annotations

import pytest

from direct2v.director import DirectorFormatError, DirectorModelError, make_director
from direct2v.director import local_backend

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)


@pytest.fixture(scope="module")
def tiny_chat_model(tmp_path_factory):
    """A 2-layer Llama with a word-level tokenizer and a chat template, saved as a local folder."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    words = ["<unk>", "<pad>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>",
             "{", "}", "[", "]", '"', ":", ",", "frames", "a", "fox", "runs", "the", "frame"]
    vocab = {w: i for i, w in enumerate(words)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>",
                                        bos_token="<s>", eos_token="</s>")
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=4096,
                         bos_token_id=2, eos_token_id=3, pad_token_id=1)
    path = tmp_path_factory.mktemp("tiny-chat")
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def test_device_and_dtype_choice():
    assert local_backend.pick_device_and_dtype("cpu") == ("cpu", "float32")
    assert local_backend.pick_device_and_dtype("cuda", "float16") == ("cuda", "float16")


def test_noise_model_is_retried_then_clear_error(tiny_chat_model, tmp_path):
    d = make_director("local", model=tiny_chat_model, cache_dir=tmp_path, max_new_tokens=12, max_format_retries=1)
    with pytest.raises(DirectorFormatError, match=r"local model .* unusable answer after 2 tries"):
        d.direct("A fox runs", num_frames=3)
    assert d.requests_sent == 2
    assert not list(tmp_path.rglob("*.json"))  # failures are never cached


def test_model_is_loaded_once_per_process(tiny_chat_model, tmp_path):
    first = local_backend.load_chat_model(tiny_chat_model, "cpu")
    second = local_backend.load_chat_model(tiny_chat_model, "cpu")
    assert first[1] is second[1] and first[0] is second[0]
    assert next(first[1].parameters()).dtype.__str__() == "torch.float32"


def test_generation_is_deterministic_and_runs_the_chat_template(tiny_chat_model, tmp_path):
    d = make_director("local", model=tiny_chat_model, cache=False, max_new_tokens=6)
    messages = [{"role": "system", "content": "a fox"}, {"role": "user", "content": "the frame"}]
    assert d._complete(messages, 2) == d._complete(messages, 2)


def test_missing_model_folder_is_a_model_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    d = make_director("local", model=str(tmp_path / "no-such-model"), cache=False)
    with pytest.raises(DirectorModelError, match="Cannot load the local model"):
        d.direct("A fox runs", num_frames=2)
