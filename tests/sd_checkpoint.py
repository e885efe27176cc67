"""Write a diffusers SD 1.x pipeline's weights as an original (CompVis/LDM) single-file
checkpoint, the layout model sites distribute. It inverts diffusers' single-file conversion
(`convert_ldm_unet_checkpoint`, `convert_ldm_vae_checkpoint`, `convert_ldm_clip_checkpoint`)
for SD 1.x-shaped models, so a tiny random model can go through the real loader in tests."""

from __future__ import annotations

import torch

_UNET_TOP = {
    "time_embedding.linear_1": "time_embed.0",
    "time_embedding.linear_2": "time_embed.2",
    "conv_in": "input_blocks.0.0",
    "conv_norm_out": "out.0",
    "conv_out": "out.2",
    "add_embedding.linear_1": "label_emb.0.0",  # SDXL's pooled-text + size embedding
    "add_embedding.linear_2": "label_emb.0.2",
}
_UNET_RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "norm2": "out_layers.0", "conv2": "out_layers.3",
                "time_emb_proj": "emb_layers.1", "conv_shortcut": "skip_connection"}
_VAE_ATTN = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _rename(rest: str, table: dict[str, str]) -> str:
    head, _, tail = rest.partition(".")
    for old, new in table.items():
        if rest.startswith(old + "."):
            return new + rest[len(old):]
    return rest


def unet_to_ldm(state: dict[str, torch.Tensor], layers_per_block: int, up_attention: list[bool]) -> dict:
    out = {}
    per = layers_per_block + 1
    for key, value in state.items():
        parts = key.split(".")
        top = ".".join(parts[:2]) if parts[0] in ("time_embedding", "add_embedding") else parts[0]
        if top in _UNET_TOP:
            new = _UNET_TOP[top] + key[len(top):]
        elif parts[0] == "down_blocks":
            block, kind, rest = int(parts[1]), parts[2], ".".join(parts[4:])
            if kind == "downsamplers":
                new = f"input_blocks.{per * (block + 1)}.0.op.{parts[-1]}"
            else:
                n = per * block + int(parts[3]) + 1
                new = f"input_blocks.{n}.0.{_rename(rest, _UNET_RESNET)}" if kind == "resnets" else f"input_blocks.{n}.1.{rest}"
        elif parts[0] == "mid_block":
            kind, i, rest = parts[1], int(parts[2]), ".".join(parts[3:])
            new = f"middle_block.{2 * i}.{_rename(rest, _UNET_RESNET)}" if kind == "resnets" else f"middle_block.1.{rest}"
        elif parts[0] == "up_blocks":
            block, kind = int(parts[1]), parts[2]
            if kind == "upsamplers":
                slot = 2 if up_attention[block] else 1
                new = f"output_blocks.{per * block + layers_per_block}.{slot}.conv.{parts[-1]}"
            else:
                n, rest = per * block + int(parts[3]), ".".join(parts[4:])
                new = f"output_blocks.{n}.0.{_rename(rest, _UNET_RESNET)}" if kind == "resnets" else f"output_blocks.{n}.1.{rest}"
        else:
            raise KeyError(f"no original name for UNet weight {key}")
        out["model.diffusion_model." + new] = value
    return out


def vae_to_ldm(state: dict[str, torch.Tensor], num_blocks: int) -> dict:
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        new = key.replace("conv_norm_out", "norm_out")
        if parts[1] == "down_blocks":
            i = parts[2]
            new = (f"encoder.down.{i}.downsample.conv.{parts[-1]}" if parts[3] == "downsamplers"
                   else f"encoder.down.{i}.block.{parts[4]}." + ".".join(parts[5:]).replace("conv_shortcut", "nin_shortcut"))
        elif parts[1] == "up_blocks":
            i = num_blocks - 1 - int(parts[2])
            new = (f"decoder.up.{i}.upsample.conv.{parts[-1]}" if parts[3] == "upsamplers"
                   else f"decoder.up.{i}.block.{parts[4]}." + ".".join(parts[5:]).replace("conv_shortcut", "nin_shortcut"))
        elif parts[1] == "mid_block":
            if parts[2] == "resnets":
                new = f"{parts[0]}.mid.block_{int(parts[3]) + 1}." + ".".join(parts[4:]).replace("conv_shortcut", "nin_shortcut")
            else:
                new = f"{parts[0]}.mid.attn_1." + _rename(".".join(parts[4:]), _VAE_ATTN)
        out["first_stage_model." + new] = value
    return out


def _clip_to_ldm(encoder, prefix: str) -> dict:
    # Original checkpoints keep transformers' older `text_model.` level.
    return {prefix + (k if k.startswith("text_model.") else "text_model." + k): v for k, v in encoder.state_dict().items()}


def _open_clip_to_sgm(encoder, prefix: str) -> dict:
    """CLIPTextModelWithProjection in OpenCLIP's layout (SDXL's second text encoder): fused
    q/k/v, resblocks, ln_final and a transposed text projection."""
    state = {k.removeprefix("text_model."): v for k, v in encoder.state_dict().items()}
    out = {
        "token_embedding.weight": state["embeddings.token_embedding.weight"],
        "positional_embedding": state["embeddings.position_embedding.weight"],
        "ln_final.weight": state["final_layer_norm.weight"],
        "ln_final.bias": state["final_layer_norm.bias"],
        "text_projection": state["text_projection.weight"].T,
    }
    names = {"self_attn.out_proj": "attn.out_proj", "layer_norm1": "ln_1", "layer_norm2": "ln_2",
             "mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj"}
    for i in range(encoder.config.num_hidden_layers):
        layer, block = f"encoder.layers.{i}.", f"transformer.resblocks.{i}."
        for kind in ("weight", "bias"):
            out[block + f"attn.in_proj_{kind}"] = torch.cat([state[layer + f"self_attn.{x}_proj.{kind}"] for x in "qkv"])
            for old, new in names.items():
                out[block + f"{new}.{kind}"] = state[layer + f"{old}.{kind}"]
    return {prefix + k: v for k, v in out.items()}


def sdxl_pipeline_to_sgm(pipe) -> dict[str, torch.Tensor]:
    """An SDXL pipeline's weights in the original (Stability SGM) single-file layout:
    model.diffusion_model., first_stage_model., conditioner.embedders.0 (CLIP) and .1 (OpenCLIP)."""
    unet = pipe.unet
    up_attention = [hasattr(b, "attentions") for b in unet.up_blocks]
    state = unet_to_ldm(unet.state_dict(), unet.config.layers_per_block, up_attention)
    state.update(vae_to_ldm(pipe.vae.state_dict(), len(pipe.vae.config.block_out_channels)))
    state.update(_clip_to_ldm(pipe.text_encoder, "conditioner.embedders.0.transformer."))
    state.update(_open_clip_to_sgm(pipe.text_encoder_2, "conditioner.embedders.1.model."))
    return {k: v.detach().clone().contiguous() for k, v in state.items()}


def pipeline_to_ldm(pipe) -> dict[str, torch.Tensor]:
    """One state dict in the original layout: model.diffusion_model., first_stage_model., cond_stage_model."""
    unet = pipe.unet
    up_attention = [hasattr(b, "attentions") for b in unet.up_blocks]
    state = unet_to_ldm(unet.state_dict(), unet.config.layers_per_block, up_attention)
    state.update(vae_to_ldm(pipe.vae.state_dict(), len(pipe.vae.config.block_out_channels)))
    state.update(_clip_to_ldm(pipe.text_encoder, "cond_stage_model.transformer."))
    return {k: v.detach().clone().contiguous() for k, v in state.items()}


def write_tiny_lora(folder, seed: int = 7, sdxl: bool = False):
    """A LoRA trained on nothing for the tiny SD (or SDXL) model: random low-rank updates on the
    UNet's attention projections, saved as diffusers saves LoRAs. Returns (file, the adapted UNet)."""
    from diffusers.loaders import StableDiffusionLoraLoaderMixin, StableDiffusionXLLoraLoaderMixin
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    from direct2v.render.loading import tiny_components, tiny_sdxl_components

    unet = (tiny_sdxl_components if sdxl else tiny_components)()["unet"]
    torch.manual_seed(seed)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False, target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    mixin = StableDiffusionXLLoraLoaderMixin if sdxl else StableDiffusionLoraLoaderMixin
    mixin.save_lora_weights(folder, unet_lora_layers=get_peft_model_state_dict(unet), weight_name="style.safetensors")
    return folder / "style.safetensors", unet
