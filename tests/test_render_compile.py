"""torch.compile(unet, fullgraph=True) through whole renders: no graph break (fullgraph raises on
one), one graph for the single-frame phase and one per value-mapping configuration, and no
recompilation from step to step or from one render to the next.

Counted with dynamo's CompileCounterWithBackend on the "eager" backend: it counts every graph
dynamo captures (a recompile is one more) and runs them without code generation, which keeps
this test to dynamo's tracing time.
"""

from __future__ import annotations

import numpy as np
import torch
from torch._dynamo.testing import CompileCounterWithBackend

from direct2v.render.compiled import compile_unet
from direct2v.render.loading import tiny_components
from direct2v.render.pipeline import DirecT2VPipeline

FAST = dict(num_inference_steps=4, t0=1, t1=2, guidance_scale=7.5, output_type="latent")
PROMPTS = ["a red cat on grass", "a blue dog in snow", "a green bird at sea"]
CONFIGS = [("rotational", 0.0), ("sparse_causal", 0.0), ("rotational", 0.2)]


def test_compiled_unet_renders_every_mode_without_breaks_or_recompiles():
    torch._dynamo.reset()
    pipe = DirecT2VPipeline(**tiny_components())
    pipe.set_progress_bar_config(disable=True)
    eager = DirecT2VPipeline(**tiny_components())
    eager.set_progress_bar_config(disable=True)
    counter = CompileCounterWithBackend("eager")
    assert compile_unet(pipe, backend=counter, fullgraph=True)
    assert not compile_unet(pipe, backend=counter, fullgraph=True)  # once per pipeline

    def render(p, mode, dsf):
        return p(PROMPTS, generator=torch.Generator().manual_seed(0), value_mapping=mode, dsf_quantile=dsf, rvm_period=1, **FAST).frames

    graphs = []
    for mode, dsf in CONFIGS:
        first = render(pipe, mode, dsf)
        after_first = counter.frame_count
        second = render(pipe, mode, dsf)  # same shapes and settings: nothing new to compile
        assert counter.frame_count == after_first, (mode, dsf)
        assert torch.equal(first, second)
        np.testing.assert_allclose(first.numpy(), render(eager, mode, dsf).numpy(), rtol=0, atol=1e-5)
        graphs.append(counter.frame_count)
    # The single-frame phase (value mapping idle) compiles once and is shared by every render;
    # each configuration adds its joint-phase graph, used for all of its steps (rvm_period=1:
    # the reference changes every step, read from the in-place index tensor).
    assert graphs == [2, 3, 4]
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == 4


def test_compiled_deep_cache_renders_with_a_fixed_number_of_graphs():
    """cache_interval=3 calls the UNet's full and shallow halves (deepcache.py), compiled with the
    UNet's options: one graph each for the single-frame batch and one each for the joint batch."""
    torch._dynamo.reset()
    pipe = DirecT2VPipeline(**tiny_components())
    pipe.set_progress_bar_config(disable=True)
    eager = DirecT2VPipeline(**tiny_components())
    eager.set_progress_bar_config(disable=True)
    counter = CompileCounterWithBackend("eager")
    compile_unet(pipe, backend=counter, fullgraph=True)
    kw = dict(FAST, num_inference_steps=6, t0=2, t1=3, cache_interval=3)

    def render(p):
        return p(PROMPTS, generator=torch.Generator().manual_seed(0), **kw).frames

    first = render(pipe)
    assert counter.frame_count == 4
    second = render(pipe)
    assert counter.frame_count == 4  # nothing new on a second render
    assert torch.equal(first, second)
    np.testing.assert_allclose(first.numpy(), render(eager).numpy(), rtol=0, atol=1e-5)
