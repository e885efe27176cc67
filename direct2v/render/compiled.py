"""`--compile`: torch.compile on the pipeline's UNet, once per pipeline.

The value-mapping processors are compile-ready (attention.py): installed once, reading the
reference frame from a device tensor, so one graph serves every step of a render and every
later render with the same shapes and settings. The first render after switching it on
pays the compilation (tens of seconds on a GPU). Long videos still work compiled, with a
graph break at each mapped layer where the anchor cache is read or written, which is why
`fullgraph` is off here; the test suite holds single-pass renders to fullgraph=True.
With `cache_interval` > 1 the render calls the UNet's full and shallow halves instead
(deepcache.py), compiled on first use with the same options: one graph each per batch shape.
"""

from __future__ import annotations


def compile_unet(pipe, backend: str = "inductor", fullgraph: bool = False, mode: str | None = None) -> bool:
    """Compile `pipe.unet` in place (nn.Module.compile); False when it already was."""
    if getattr(pipe, "_unet_compiled", False):
        return False
    options = dict(backend=backend, fullgraph=fullgraph, dynamic=False, mode=mode)
    pipe.unet.compile(**options)
    # cache_interval > 1 calls the UNet's two halves (deepcache.py); they compile with these options.
    pipe._compile_options = options
    pipe._unet_compiled = True
    return True
