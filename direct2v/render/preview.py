"""Cheap previews of latents while a render runs: a fixed linear map from SD 1.5's four
latent channels to RGB (the widely used approximation), no VAE call, so previews cost
nothing next to a UNet step."""

from __future__ import annotations

import numpy as np
import torch

# Rows: latent channels; columns: R, G, B. Approximation of SD 1.x's VAE decoder.
_SD15_LATENT_RGB = torch.tensor(
    [
        [0.3512, 0.2297, 0.3227],
        [0.3250, 0.4974, 0.2350],
        [-0.2829, 0.1762, 0.2721],
        [-0.2120, -0.2616, -0.7177],
    ]
)


def latents_to_preview(latents: torch.Tensor, upscale: int = 4) -> np.ndarray:
    """(F, 4, h, w) latents -> (F, h*upscale, w*upscale, 3) uint8 approximate frames."""
    z = latents.detach().float().cpu()
    if z.shape[1] != 4:  # not an SD-style latent: show the first three channels
        rgb = z[:, :3].permute(0, 2, 3, 1)
        rgb = (rgb - rgb.amin()) / (rgb.amax() - rgb.amin() + 1e-6)
    else:
        rgb = torch.einsum("fchw,cr->fhwr", z, _SD15_LATENT_RGB)
        rgb = ((rgb + 1.0) / 2.0).clamp(0, 1)
    if upscale > 1:
        rgb = rgb.repeat_interleave(upscale, dim=1).repeat_interleave(upscale, dim=2)
    return (rgb.numpy() * 255).round().astype(np.uint8)
