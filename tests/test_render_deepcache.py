"""render/deepcache.py: DeepCache's split of the UNet, on tiny components: the split forward
is the UNet's own forward, bit for bit."""

from __future__ import annotations

import pytest
import torch

from direct2v.render.deepcache import full_step, shallow_step
from direct2v.render.loading import tiny_components, tiny_sdxl_components
from conftest import gen

pytestmark = pytest.mark.usefixtures("one_torch_thread")

def unet_inputs(unet, batch=2, seed=0):
    g = gen(seed)
    size = unet.config.sample_size
    x = torch.randn(batch, unet.config.in_channels, size, size, generator=g)
    states = torch.randn(batch, 77, unet.config.cross_attention_dim, generator=g)
    added = None
    if unet.config.addition_embed_type == "text_time":
        pooled = unet.add_embedding.linear_1.in_features - 6 * unet.config.addition_time_embed_dim
        added = {"text_embeds": torch.randn(batch, pooled, generator=g),
                 "time_ids": torch.tensor([[64.0, 64, 0, 0, 64, 64]] * batch)}
    return x, torch.tensor(501), states, added


@pytest.mark.parametrize("make", [tiny_components, tiny_sdxl_components], ids=["sd", "sdxl"])
def test_split_forward_is_the_unets_forward_bit_for_bit(make):
    unet = make()["unet"].eval()
    x, t, states, added = unet_inputs(unet)
    with torch.no_grad():
        expected = unet(x, t, encoder_hidden_states=states, added_cond_kwargs=added, return_dict=False)[0]
        noise, deep = full_step(unet, x, t, states, added)
        # Shallow blocks on the deep feature of the same inputs: the same prediction again.
        again = shallow_step(unet, x, t, states, deep, added)
        other = shallow_step(unet, x, torch.tensor(301), states, deep, added)
    assert torch.equal(noise, expected) and torch.equal(again, expected)
    assert deep.shape[-1] == x.shape[-1]  # the last up block's input: at the latent resolution
    assert not torch.allclose(other, expected)  # the shallow blocks do see the new timestep
