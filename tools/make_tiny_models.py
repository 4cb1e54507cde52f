#!/usr/bin/env python3
"""Write tiny ONNX models with the REAL input/output signatures of the models
splatbench loads, for tests (docs/algorithms.md §1.5, §3.3).

    python3 tools/make_tiny_models.py testdata/models

Needs torch (2.x) and onnx; CPU is enough. Weights are small and random
(seeded, torch.manual_seed), so the models compute nothing meaningful: they
exist so that the Go code that loads, checks, feeds and reads them can be
tested end to end without the multi-gigabyte real weights. Every input is
used by the graph (an exporter may drop unused inputs), and every output
depends on every input, so a wrong feed changes the result.

Layout written under OUT (each file well under 2 MB):

  flux-schnell-tiny/        BFL ONNX layout (black-forest-labs/FLUX.1-schnell-onnx),
                            float32 everywhere (the real BFL/NVIDIA export is bf16
                            for activations, fp32 for img_ids/txt_ids):
    clip.opt/model.onnx          input_ids int64 [B,77] -> text_embeddings [B,77,768],
                                 pooled_embeddings [B,768]
    t5.opt/model.onnx            input_ids int64 [B,256] -> text_embeddings [B,256,4096]
                                 (embed to 8 dims, then a fixed projection to 4096)
    transformer.opt/model.onnx   hidden_states [B,L,64], encoder_hidden_states [B,256,4096],
                                 pooled_projections [B,768], timestep [B] (t in [0,1]),
                                 img_ids [L,3], txt_ids [256,3] -> latent [B,L,64]; L dynamic
    vae.opt/model.onnx           latent [B,16,h,w] -> images [B,3,8h,8w]; h, w dynamic
  flux-schnell-tiny-bf16/   the same four graphs with the NVIDIA bf16 export's dtypes on
                            the graph boundary: hidden_states, encoder_hidden_states,
                            pooled_projections, timestep, latent, text/pooled embeddings and
                            the VAE's latent/images are bfloat16; img_ids/txt_ids stay
                            float32 and input_ids int64. Inside, the graph casts to float32
                            (ORT's CPU provider has few bf16 kernels), so it tests the
                            conversion path, not bf16 arithmetic.
  clip-tiny/                transformers.js / Optimum split towers (§3.3):
    text_model.onnx              input_ids int64 [B,S] -> text_embeds [B,32],
                                 last_hidden_state [B,S,16]
    text_model_masked.onnx       input_ids, attention_mask int64 [B,S] -> same outputs
                                 (the Optimum export with the mask)
    vision_model.onnx            pixel_values [B,3,H,W] -> image_embeds [B,32],
                                 last_hidden_state [B,(H/16)(W/16),8]
  views-tiny/model.onnx     splatbench's multi-view signature (pipeline/views):
                            image [1,4,256,256] RGBA in 0..1 -> views [1,4,4,256,256]
                            (K = 4 posed RGBA views in 0..1; camera poses are fixed by the
                            signature, see pipeline/views).

A diffusers-style FLUX layout (transformer/, vae_decoder/, text_encoder/,
text_encoder_2/ as Optimum writes it) is not generated: its transformer uses the
same tensor names as BFL's (diffusers' FluxTransformer2DModel argument names)
but Optimum's output name and batched ids differ, and splatbench does not load
it (pipeline/flux documents the BFL layout as the one supported).
"""

import os
import sys

import torch
import torch.nn as nn

from onnx_marks import mark_random

OPSET = 17
VOCAB_BUCKETS = 4096  # token ids are folded into this many embedding rows


def export(model, args, path, input_names, output_names, dynamic_axes):
    """Export with the TorchScript exporter when this torch still has it,
    else with the dynamo exporter (same names and dynamic axes)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model.eval()
    errors = []
    for dynamo in (False, True):
        try:
            torch.onnx.export(
                model,
                args,
                path,
                input_names=input_names,
                output_names=output_names,
                dynamic_axes=dynamic_axes,
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=dynamo,
            )
            break
        except Exception as e:  # noqa: BLE001 - report every exporter's failure
            errors.append(f"dynamo={dynamo}: {e}")
    else:
        raise RuntimeError(f"export of {path} failed:\n  " + "\n  ".join(errors))
    mark_random(path)
    check(path, input_names, output_names)


def check(path, input_names, output_names):
    """Load the file back, run the ONNX checker and print its signature; fail
    if a name is missing or the file is too big."""
    import onnx

    m = onnx.load(path)
    onnx.checker.check_model(m)
    ins = [i.name for i in m.graph.input]
    outs = [o.name for o in m.graph.output]
    if ins != list(input_names):
        raise RuntimeError(f"{path}: inputs {ins}, want {input_names}")
    for o in output_names:
        if o not in outs:
            raise RuntimeError(f"{path}: output {o} missing ({outs})")
    size = os.path.getsize(path)
    if size > 2 << 20:
        raise RuntimeError(f"{path}: {size} bytes, over 2 MiB")

    def sig(vs):
        out = []
        for v in vs:
            t = v.type.tensor_type
            dims = [d.dim_param or d.dim_value for d in t.shape.dim]
            out.append(f"{v.name} {onnx.TensorProto.DataType.Name(t.elem_type)} {dims}")
        return ", ".join(out)

    print(f"{path} ({size} bytes, IR {m.ir_version}, opset {m.opset_import[0].version})")
    print(f"  in:  {sig(m.graph.input)}")
    print(f"  out: {sig(m.graph.output)}")


class IO(nn.Module):
    """Base of the FLUX stand-ins: float tensors cross the graph boundary in
    self.io (float32, or bfloat16 for the NVIDIA-style export); inside, the
    graph computes in float32 (ORT's CPU provider has few bf16 kernels)."""

    def __init__(self, io=torch.float32):
        super().__init__()
        self.io = io

    def i(self, x):
        return x.float() if self.io != torch.float32 else x

    def o(self, x):
        return x.to(self.io) if self.io != torch.float32 else x


def io_args(args, io, keep_f32=()):
    """Casts the floating example inputs to io, except positions keep_f32."""
    return tuple(
        a.to(io) if a.is_floating_point() and i not in keep_f32 else a
        for i, a in enumerate(args)
    )


# ---------------------------------------------------------------- FLUX ----


class FluxCLIP(IO):
    """input_ids [B,77] -> (text_embeddings [B,77,768], pooled [B,768])."""

    def __init__(self, io):
        super().__init__(io)
        self.emb = nn.Embedding(VOCAB_BUCKETS, 8)
        self.pos = nn.Parameter(torch.randn(77, 8) * 0.1)
        self.seq = nn.Linear(8, 768)
        self.pool = nn.Linear(8, 768)

    def forward(self, input_ids):
        h = torch.tanh(self.emb(torch.remainder(input_ids, VOCAB_BUCKETS)) + self.pos)
        return self.o(self.seq(h)), self.o(self.pool(h.mean(dim=1)))


class FluxT5(IO):
    """input_ids [B,256] -> text_embeddings [B,256,4096]: an 8-dim embedding
    and a fixed random projection to 4096."""

    def __init__(self, io):
        super().__init__(io)
        self.emb = nn.Embedding(VOCAB_BUCKETS, 8)
        self.proj = nn.Linear(8, 4096, bias=False)

    def forward(self, input_ids):
        h = torch.tanh(self.emb(torch.remainder(input_ids, VOCAB_BUCKETS)))
        return self.o(self.proj(h))


class FluxTransformer(IO):
    """A tiny stand-in for the MM-DiT with the real signature. It embeds the
    timestep as FLUX does (sinusoidal, 256 dims, t·1000, [cos, sin]), mixes
    the pooled CLIP vector, the mean T5 context and the position ids into a
    per-token MLP, and returns a velocity of moderate size."""

    def __init__(self, io, d=32):
        super().__init__(io)
        self.img_in = nn.Linear(64, d)
        self.img_pos = nn.Linear(3, d)
        self.txt_in = nn.Linear(4096, d)
        self.txt_pos = nn.Linear(3, d)
        self.vec_in = nn.Linear(768, d)
        self.time_in = nn.Linear(256, d)
        self.mid = nn.Linear(d, d)
        self.out = nn.Linear(d, 64)
        half = 128
        freqs = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(half, dtype=torch.float32) / half)
        self.register_buffer("freqs", freqs)

    def forward(self, hidden_states, encoder_hidden_states, pooled_projections, timestep, img_ids, txt_ids):
        hidden_states, encoder_hidden_states = self.i(hidden_states), self.i(encoder_hidden_states)
        pooled_projections, timestep = self.i(pooled_projections), self.i(timestep)
        args = (timestep * 1000.0)[:, None] * self.freqs[None, :]
        temb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)  # [B,256]
        vec = self.vec_in(pooled_projections) + self.time_in(temb)  # [B,d]
        txt = self.txt_in(encoder_hidden_states) + self.txt_pos(txt_ids / 64.0)[None]  # [B,256,d]
        ctx = txt.mean(dim=1)  # [B,d]
        x = self.img_in(hidden_states) + self.img_pos(img_ids / 64.0)[None]  # [B,L,d]
        h = torch.nn.functional.gelu(x + (vec + ctx)[:, None, :])
        h = torch.nn.functional.gelu(self.mid(h))
        return self.o(self.out(h) + hidden_states)


class FluxVAEDecoder(IO):
    """latent [B,16,h,w] -> images [B,3,8h,8w] in (-1, 1)."""

    def __init__(self, io):
        super().__init__(io)
        self.mix = nn.Conv2d(16, 16, 3, padding=1)
        self.up = nn.ConvTranspose2d(16, 3, kernel_size=8, stride=8)

    def forward(self, latent):
        latent = self.i(latent)
        return self.o(torch.tanh(self.up(torch.nn.functional.gelu(self.mix(latent)))))


def write_flux(out, bf16):
    name = "flux-schnell-tiny-bf16" if bf16 else "flux-schnell-tiny"
    root = os.path.join(out, name)
    B, L = 2, 16

    io = torch.bfloat16 if bf16 else torch.float32

    def wrap(m, args, keep=()):
        return m, io_args(args, io, keep)

    torch.manual_seed(1)
    m, a = wrap(FluxCLIP(io), (torch.randint(0, 49408, (B, 77)),))
    export(m, a, os.path.join(root, "clip.opt", "model.onnx"), ["input_ids"],
           ["text_embeddings", "pooled_embeddings"],
           {"input_ids": {0: "B"}, "text_embeddings": {0: "B"}, "pooled_embeddings": {0: "B"}})

    torch.manual_seed(2)
    m, a = wrap(FluxT5(io), (torch.randint(0, 32100, (B, 256)),))
    export(m, a, os.path.join(root, "t5.opt", "model.onnx"), ["input_ids"], ["text_embeddings"],
           {"input_ids": {0: "B"}, "text_embeddings": {0: "B"}})

    torch.manual_seed(3)
    ids = torch.zeros(L, 3)
    ids[:, 1] = torch.arange(L).div(4, rounding_mode="floor").float()
    ids[:, 2] = torch.arange(L).remainder(4).float()
    args = (torch.randn(B, L, 64), torch.randn(B, 256, 4096), torch.randn(B, 768),
            torch.full((B,), 0.75), ids, torch.zeros(256, 3))
    m, a = wrap(FluxTransformer(io), args, keep=(4, 5))
    export(m, a, os.path.join(root, "transformer.opt", "model.onnx"),
           ["hidden_states", "encoder_hidden_states", "pooled_projections", "timestep", "img_ids", "txt_ids"],
           ["latent"],
           {"hidden_states": {0: "B", 1: "L"}, "encoder_hidden_states": {0: "B"},
            "pooled_projections": {0: "B"}, "timestep": {0: "B"}, "img_ids": {0: "L"},
            "latent": {0: "B", 1: "L"}})

    torch.manual_seed(4)
    m, a = wrap(FluxVAEDecoder(io), (torch.randn(B, 16, 8, 8),))
    export(m, a, os.path.join(root, "vae.opt", "model.onnx"), ["latent"], ["images"],
           {"latent": {0: "B", 2: "H", 3: "W"}, "images": {0: "B", 2: "8H", 3: "8W"}})


# ---------------------------------------------------------------- CLIP ----

EMBED = 32


class CLIPText(nn.Module):
    """input_ids [B,S] (+ attention_mask) -> text_embeds [B,32] read at the
    EOT position (argmax of the ids, as CLIP does), last_hidden_state [B,S,16]."""

    def __init__(self, masked):
        super().__init__()
        self.masked = masked
        self.emb = nn.Embedding(VOCAB_BUCKETS, 16)
        self.mix = nn.Linear(16, 16)
        self.proj = nn.Linear(16, EMBED, bias=False)

    def forward(self, input_ids, attention_mask=None):
        h = self.emb(torch.remainder(input_ids, VOCAB_BUCKETS))
        if self.masked:
            h = h * attention_mask[..., None].float()
        h = torch.tanh(self.mix(h) + h.mean(dim=1, keepdim=True))
        eot = input_ids.argmax(dim=-1)
        pooled = torch.gather(h, 1, eot[:, None, None].expand(-1, 1, h.shape[-1]))[:, 0]
        return self.proj(pooled), h


class CLIPVision(nn.Module):
    """pixel_values [B,3,H,W] -> image_embeds [B,32], last_hidden_state
    [B,(H/16)(W/16),8]: 16-pixel patches, a mean pool, a projection."""

    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, 8, kernel_size=16, stride=16)
        self.proj = nn.Linear(8, EMBED, bias=False)

    def forward(self, pixel_values):
        p = torch.nn.functional.gelu(self.patch(pixel_values))  # [B,8,h,w]
        tokens = p.flatten(2).transpose(1, 2)  # [B,hw,8]
        return self.proj(tokens.mean(dim=1)), tokens


def write_clip(out):
    root = os.path.join(out, "clip-tiny")
    B, S = 2, 77
    torch.manual_seed(5)
    ids = torch.randint(0, 49406, (B, S))
    ids[:, 10] = 49407
    export(CLIPText(False), (ids,), os.path.join(root, "text_model.onnx"), ["input_ids"],
           ["text_embeds", "last_hidden_state"],
           {"input_ids": {0: "text_batch_size", 1: "sequence_length"}, "text_embeds": {0: "text_batch_size"},
            "last_hidden_state": {0: "text_batch_size", 1: "sequence_length"}})
    torch.manual_seed(5)  # the same weights as the unmasked tower
    export(CLIPText(True), (ids, torch.ones(B, S, dtype=torch.int64)), os.path.join(root, "text_model_masked.onnx"),
           ["input_ids", "attention_mask"], ["text_embeds", "last_hidden_state"],
           {"input_ids": {0: "text_batch_size", 1: "sequence_length"},
            "attention_mask": {0: "text_batch_size", 1: "sequence_length"}, "text_embeds": {0: "text_batch_size"},
            "last_hidden_state": {0: "text_batch_size", 1: "sequence_length"}})
    torch.manual_seed(6)
    export(CLIPVision(), (torch.randn(B, 3, 224, 224),), os.path.join(root, "vision_model.onnx"), ["pixel_values"],
           ["image_embeds", "last_hidden_state"],
           {"pixel_values": {0: "image_batch_size", 2: "height", 3: "width"}, "image_embeds": {0: "image_batch_size"},
            "last_hidden_state": {0: "image_batch_size", 1: "patches"}})


# --------------------------------------------------------------- views ----

VIEWS_K = 4


class Views(nn.Module):
    """image [1,4,256,256] -> views [1,K,4,256,256], values in (0,1)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4 * VIEWS_K, 3, padding=1)

    def forward(self, image):
        v = torch.sigmoid(self.conv(image * 2 - 1))
        return v.reshape(1, VIEWS_K, 4, 256, 256)


def write_views(out):
    torch.manual_seed(7)
    export(Views(), (torch.rand(1, 4, 256, 256),), os.path.join(out, "views-tiny", "model.onnx"), ["image"],
           ["views"], None)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        print("usage: make_tiny_models.py OUTDIR", file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    with torch.no_grad():
        write_flux(out, bf16=False)
        write_flux(out, bf16=True)
        write_clip(out)
        write_views(out)


if __name__ == "__main__":
    main()
