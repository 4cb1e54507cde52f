#!/usr/bin/env python3
"""Write REAL-SIZE random-weight ONNX models with the signatures splatbench's
model stages load, for timing them on a GPU (issue 14, docs/perf/ort-gpu.md).

    python3 tools/make_gpu_models.py OUT [--double 2 --single 4 --t5-layers 4]
                                         [--dtype fp16|bf16] [--attention plain|mha]
                                         [--only clip-l,t5,transformer,vae,clip,birefnet] [--smoke]
                                         [--check-fused] [--fuse-from DIR]
    python3 tools/make_gpu_models.py OUT --deepen-from DIR [--double 19 --single 38]

Run it on the GPU machine (PyTorch builds the weights on the GPU; no network,
no downloads). Latency does not depend on weight values, so these models time
the stages honestly; their outputs (images, CLIP scores) are meaningless.

Written under OUT:

  flux/                 BFL ONNX layout (pipeline/flux), tokenizers copied from
                        pipeline/tokenizer/testdata:
    clip.opt/model.onnx         CLIP-L text encoder, 12 layers x 768, causal, quick-GELU:
                                input_ids int64 [B,77] -> text_embeddings [B,77,768],
                                pooled_embeddings [B,768]
    t5.opt/model.onnx           T5-XXL-shaped encoder (d_model 4096, 64 heads x 64, gated-GELU
                                FF 10240, RMSNorm, a learned [64,256,256] position bias in place
                                of the bucketed one); --t5-layers of the real 24:
                                input_ids int64 [B,256] -> text_embeddings [B,256,4096]
    transformer.opt/model.onnx  FLUX.1-schnell MM-DiT at full width (hidden 3072, 24 heads x 128,
                                MLP 4x, QK RMSNorm, 3-axis RoPE 16/56/56 from img_ids/txt_ids,
                                timestep and pooled-CLIP modulation); --double/--single of the
                                real 19/38 blocks: hidden_states [B,L,64], encoder_hidden_states
                                [B,256,4096], pooled_projections [B,768], timestep [B],
                                img_ids f32 [L,3], txt_ids f32 [256,3] -> latent [B,L,64]; L dynamic
    vae.opt/model.onnx          FLUX VAE decoder (16 latent channels, blocks 128/256/512/512,
                                3 resnets per up block, mid attention, GroupNorm 32):
                                latent [B,16,h,w] -> images [B,3,8h,8w]; h, w dynamic
    tokenizer/, tokenizer_2/
  clip/                 transformers.js / Optimum split towers (pipeline/score):
    text_model.onnx             CLIP ViT-L/14's text tower (12 x 768, projection 768):
                                input_ids int64 [B,S] -> text_embeds [B,768]
    vision_model.onnx           CLIP ViT-L/14 image tower (24 x 1024, 16 heads, patch 14, 224 px,
                                projection 768): pixel_values [B,3,224,224] -> image_embeds [B,768]
    tokenizer/
  matte/birefnet/       (--only ...,birefnet) BiRefNet's size, as BRIA's RMBG-2.0 export
    model.onnx                  (pipeline/matte's birefnet kind): Swin-L backbone (windows of 16)
                                on the image and its half-size copy, a conv decoder, 250 M
                                parameters: pixel_values [B,3,1024,1024] -> alphas [B,1,1024,1024]

Float tensors on the graph boundary are --dtype (fp16 default; ids stay fp32,
token ids int64), and so are the weights. A reduced depth is printed with the
factor by which per-block time must be scaled: say so wherever a number from
it is used. --smoke shrinks every width and depth to check the exporter fast.

--deepen-from makes the full-depth transformer from a plain reduced export
(2 + 4 blocks) by repeating its last blocks in the graph, each repeat with its
own copy of the weights: the graph a full export gives, without the 8-minute
export. Checked against an export whose repeated blocks share weights
(--tie-after; docs/perf/ort-gpu.md, "Repeating it").
"""

import argparse
import contextlib
import inspect
import math
import os
import re
import shutil
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from onnx_marks import mark_random

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZERS = os.path.join(HERE, "..", "pipeline", "tokenizer", "testdata")
# 16 on torch 1.13 (Debian's, for CPU checks): its opset-17 LayerNormalization
# without an affine scale has an empty input, which the checker refuses.
# OPSET=17 in the environment exports at 17 there too, with the LayerNorms as
# torch 2 writes them (torch1_layer_norm): the GPU machine's graph, on a CPU.
OPSET = int(os.environ.get("OPSET") or (17 if int(torch.__version__.split(".")[0]) >= 2 else 16))
# The TorchScript exporter first (fast),
# then the dynamo one. For bf16 the dynamo one first: the TorchScript exporter
# writes a Cast to bfloat16 as complex128 (ONNX type 15 is torch's bfloat16
# number), which ORT rejects.
EXPORTERS = (False, True)


# A node of one of the transformer's blocks, named by the TorchScript
# exporter after its module ("/doubles.3/...", "/singles.0/...").
BLOCK = re.compile(r"^/(doubles|singles)\.\d+/")


def log(*a):
    print(*a, flush=True)


def torch1_layer_norm(g, x, shape, w, b, eps, cudnn):
    """aten::layer_norm at opset 17 for torch 1.13, as torch 2 writes it:
    ones and zeros for an absent weight and bias (torch 1.13 leaves the
    required Scale input empty)."""
    from torch.onnx import symbolic_helper as sh
    shape = sh._get_const(shape, "is", "normalized_shape")
    dt = {"Half": torch.float16, "BFloat16": torch.bfloat16}.get(x.type().scalarType(), torch.float32)
    if sh._is_none(w):
        w = g.op("Constant", value_t=torch.ones(shape, dtype=dt))
    if sh._is_none(b):
        b = g.op("Constant", value_t=torch.zeros(shape, dtype=dt))
    return g.op("LayerNormalization", x, w, b, epsilon_f=sh._get_const(eps, "f", "eps"), axis_i=-len(shape))


if OPSET >= 17 and int(torch.__version__.split(".")[0]) < 2:
    torch.onnx.register_custom_op_symbolic("aten::layer_norm", torch1_layer_norm, 17)


def export(model, args, path, input_names, output_names, dynamic_axes):
    """torch.onnx.export with the TorchScript exporter where this torch has it,
    else the dynamo one; weights over 2 GB go to external data beside path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model.eval()
    t0 = time.time()
    errors = []
    for dynamo in EXPORTERS:
        try:
            kw = dict(input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
                      do_constant_folding=True)
            if dynamo or "dynamo" in inspect.signature(torch.onnx.export).parameters:
                kw["dynamo"] = dynamo  # torch 1.13 has only the TorchScript exporter
            if dynamo:
                kw.update(opset_version=18, external_data=True)
            else:
                kw.update(opset_version=OPSET)
            with torch.no_grad():
                torch.onnx.export(model, args, path, **kw)
            break
        except Exception as e:  # noqa: BLE001 - report every exporter's failure
            errors.append(f"dynamo={dynamo}: {str(e)[:2000]}")
            log(f"  exporter dynamo={dynamo} failed: {str(e)[:300]}")
    else:
        raise RuntimeError(f"export of {path} failed:\n  " + "\n  ".join(errors))
    one_data_file(path)
    mark_random(path)  # the rewrites and --fuse-from copies keep the mark
    size = sum(os.path.getsize(os.path.join(os.path.dirname(path), f)) for f in os.listdir(os.path.dirname(path)))
    params = sum(p.numel() for p in model.parameters())
    log(f"{path}: {params / 1e9:.3f} B parameters, {size / 2**30:.2f} GiB on disk, "
        f"exported in {time.time() - t0:.0f} s (dynamo={dynamo})")


def one_data_file(path):
    """Rewrite a model whose weights sit in many external-data files (the
    TorchScript exporter writes one file per tensor over 2 GB) with them all
    in one file, PATH_data beside it, and delete the per-tensor files. A model
    with its weights inside or in a single file is left alone."""
    import onnx
    from onnx.external_data_helper import load_external_data_for_model

    m = onnx.load(path, load_external_data=False)
    refs = {kv.value for t in m.graph.initializer for kv in t.external_data if kv.key == "location"}
    if len(refs) <= 1:
        return
    d = os.path.dirname(path)
    load_external_data_for_model(m, d)
    # The weights are in memory now: drop the files before writing the one
    # that replaces them, so that the disk holds one copy (22 GB at full
    # depth), not two.
    for f in refs:
        os.remove(os.path.join(d, f))
    data = os.path.basename(path) + "_data"
    onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=data, size_threshold=1024)


def append_aligned(fh, chunks):
    """Write chunks (bytes) at the end of the open file fh, from a 4 KiB
    boundary (zeros before it); returns where they start."""
    at = fh.seek(0, 2)
    fh.write(b"\0" * (-at % 4096))
    at += -at % 4096
    for c in chunks:
        fh.write(c)
    return at


def read_range(fh, off, n, block=64 << 20):
    """Bytes [off, off+n) of the open file fh, in blocks."""
    fh.seek(off)
    while n:
        b = fh.read(min(n, block))
        if not b:
            raise RuntimeError(f"{fh.name}: ends before byte {off + n}")
        n -= len(b)
        yield b


class GraphEdit:
    """The graph of the model at path (its weights left on disk) with what a
    rewrite reads: each value's producer and readers, the initializers, the
    element types ONNX shape inference finds."""

    def __init__(self, path):
        import onnx
        self.path = path
        self.m = onnx.load(path, load_external_data=False)
        g = self.m.graph
        self.prod = {o: n for n in g.node for o in n.output}
        self.users = {}
        for n in g.node:
            for i in n.input:
                self.users.setdefault(i, []).append(n)
        self.consts = {t.name: t for t in g.initializer}
        inferred = onnx.shape_inference.infer_shapes(self.m).graph
        # Element types where shape inference found them (0, undefined, left out).
        self.types = {v.name: v.type.tensor_type.elem_type
                      for v in [*inferred.value_info, *inferred.input, *inferred.output] if v.type.tensor_type.elem_type}
        self.types.update({t.name: t.data_type for t in g.initializer})
        self.outputs = {o.name for o in g.output}

    def uncast(self, name):
        """The value name is a Cast (or a chain of them) of, else name."""
        while name in self.prod and self.prod[name].op_type == "Cast":
            name = self.prod[name].input[0]
        return name

    def only_reader(self, name, node):
        """Whether node is the one reader of name (not a graph output)."""
        return [id(u) for u in self.users.get(name, [])] == [id(node)] and name not in self.outputs

    def reduces_last_axis(self, r):
        """Whether the reduction node r is over the last axis only, kept
        (its axes an attribute before opset 18, an input from it)."""
        axes = next((list(a.ints) for a in r.attribute if a.name == "axes"), None)
        if axes is None and len(r.input) > 1:
            c = self.const(r.input[1], False)
            axes = [int(v) for v in c] if c is not None else None
        return axes == [-1] and next((a.i for a in r.attribute if a.name == "keepdims"), 1) == 1

    def linear_parts(self, x, w, bias, sizes, outs, name=None):
        """A Linear, x times the 2-d weight w plus the 1-d bias (its name, or
        None), written as one MatMul (and bias Add) per block of w's columns
        of the widths sizes, into the values outs: the nodes (named
        name_part<i>_MatMul/_Add when name is given). The weights are
        sliced and added (add_init, NAME_cols<offset>)."""
        from onnx import helper
        W, bt = self.raw(w), self.init_of(bias) if bias else None
        B = self.raw(bt) if bt is not None else None
        nodes, o = [], 0
        for i, (n, out) in enumerate(zip(sizes, outs)):
            named = {} if name is None else {"name": f"{name}_part{i}_MatMul"}
            wi = self.add_init(f"{w.name}_cols{o}", w, W[:, o:o + n].copy())
            if bt is None:
                nodes.append(helper.make_node("MatMul", [x, wi], [out], **named))
            else:
                bi = self.add_init(f"{bt.name}_cols{o}", bt, B[o:o + n].copy())
                nodes.append(helper.make_node("MatMul", [x, wi], [out + "_part"], **named))
                nodes.append(helper.make_node("Add", [out + "_part", bi], [out],
                                              **({} if name is None else {"name": f"{name}_part{i}_Add"})))
            o += n
        return nodes

    def const(self, name, scalar=True):
        """The value of a constant (an initializer held in the model or a
        Constant node, through Casts and Identities) as float64, None if name
        is not one, or with scalar not a single value."""
        from onnx import numpy_helper
        while name in self.prod and self.prod[name].op_type in ("Cast", "Identity"):
            name = self.prod[name].input[0]
        if name in self.consts and not self.consts[name].external_data:
            a = numpy_helper.to_array(self.consts[name])
        elif name in self.prod and self.prod[name].op_type == "Constant" and self.prod[name].attribute[0].name == "value":
            a = numpy_helper.to_array(self.prod[name].attribute[0].t)
        else:
            return None
        return a.astype("float64") if not scalar or a.size == 1 else None

    def init_of(self, name):
        """The initializer name is (through Identities: the exporter's
        stand-ins for duplicates), or None; its data may be on disk."""
        while name in self.prod and self.prod[name].op_type == "Identity":
            name = self.prod[name].input[0]
        return self.consts.get(name)

    # Element sizes of the initializer types the rewrites move as raw bytes.
    ITEM = {1: "<u4", 10: "<u2", 16: "<u2", 11: "<u8"}

    def raw(self, t):
        """An initializer's elements as unsigned integers of its element
        size (bit patterns: bf16 has no numpy type), in its shape, read
        from its external file where it has one."""
        import numpy as np
        dt = np.dtype(self.ITEM[t.data_type])
        if t.data_location == 1:  # EXTERNAL
            kv = {e.key: e.value for e in t.external_data}
            f = os.path.join(os.path.dirname(self.path), kv["location"])
            n = int(np.prod(t.dims))
            a = np.fromfile(f, dtype=dt, count=n, offset=int(kv.get("offset", 0)))
        elif t.raw_data:
            a = np.frombuffer(t.raw_data, dtype=dt)
        else:  # values in float_data and the like, not raw bytes
            from onnx import numpy_helper
            a = numpy_helper.to_array(t).astype(np.dtype(dt.str.replace("u", "f")), copy=False).view(dt)
        return a.reshape(tuple(t.dims))

    def add_init(self, name, like, a):
        """A new initializer name of like's element type holding raw a:
        appended to PATH_split_data when like's data is on disk, else inside
        the model."""
        import onnx
        t = onnx.TensorProto()
        t.name, t.data_type = name, like.data_type
        t.dims.extend(a.shape)
        data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        if like.data_location == 1:
            f = self.path + "_split_data"
            with open(f, "ab") as fh:
                off = append_aligned(fh, [data])
            t.data_location = 1
            for k, v in (("location", os.path.basename(f)), ("offset", str(off)), ("length", str(len(data)))):
                e = t.external_data.add()
                e.key, e.value = k, v
        else:
            t.raw_data = data
        self.m.graph.initializer.append(t)
        self.consts[name] = t
        self.types[name] = t.data_type
        return name

    def save(self, insert, drop):
        """Rewrite the graph: a node whose first output is a key of insert
        becomes the nodes listed there, a node whose first output is in drop
        goes, and so does every node whose outputs nothing reads any more
        (Casts, Constants, shape arithmetic of what was replaced). Saved in
        place, with the com.microsoft opset, and checked by path (the checker
        then finds external weights beside the model)."""
        import onnx
        from onnx import helper
        g = self.m.graph
        nodes, names = [], {n.name for n in g.node}
        for n in g.node:
            if n.output[0] in insert:
                # A new node takes the block of the node it replaces
                # (/doubles.3/...): TestTransformerRoofline counts a node for
                # its block by name, and ONNX Runtime may run an unnamed one
                # among another block's nodes.
                scope = BLOCK.match(n.name)
                for k, new in enumerate(insert[n.output[0]]):
                    if scope and not BLOCK.match(new.name):
                        name = f"{scope.group(0)}{new.name or new.op_type}"
                        while name in names:
                            name = f"{scope.group(0)}{new.name or new.op_type}_{k}_{len(names)}"
                        new.name = name
                        names.add(name)
                nodes.extend(insert[n.output[0]])
            elif n.output[0] not in drop:
                nodes.append(n)
        outputs = {o.name for o in g.output}
        while True:
            used = {i for n in nodes for i in n.input} | outputs
            live = [n for n in nodes if any(o in used for o in n.output)]
            if len(live) == len(nodes):
                break
            nodes = live
        # In an order that computes every value before its readers (a node
        # put where a rewritten chain ended may feed one that came before).
        made = {i.name for i in g.input} | {t.name for t in g.initializer} | {""}
        order, waiting = [], nodes
        while waiting:
            rest = []
            for n in waiting:
                if all(i in made for i in n.input):
                    order.append(n)
                    made.update(n.output)
                else:
                    rest.append(n)
            if len(rest) == len(waiting):
                raise RuntimeError(f"{self.path}: the rewritten graph has a cycle or an unknown input")
            waiting = rest
        nodes = order
        keep = [onnx.NodeProto() for _ in nodes]
        for c, n in zip(keep, nodes):
            c.CopyFrom(n)
        del g.node[:]
        g.node.extend(keep)
        # Initializers nothing reads any more (weights split in two) go; an
        # external one's bytes stay in its file.
        used = {i for n in keep for i in n.input} | outputs
        inits = [t for t in g.initializer if t.name in used]
        if len(inits) < len(g.initializer):
            kept = [onnx.TensorProto() for _ in inits]
            for c, t in zip(kept, inits):
                c.CopyFrom(t)
            del g.initializer[:]
            g.initializer.extend(kept)
        if not any(op.domain == "com.microsoft" for op in self.m.opset_import):
            self.m.opset_import.append(helper.make_opsetid("com.microsoft", 1))
        onnx.save(self.m, self.path)
        check_by_path(self.path)


def fp32_islands(path, ops):
    """Run every node of the model at path whose op_type is in ops and that
    reads a bf16 value in float32: bf16 inputs cast to float32 (once per
    value; none between two such nodes), bf16 outputs computed in float32
    and cast back. For operators that ONNX Runtime's providers have no bf16
    kernel for (session creation then fails with "Provider type for OP node
    ... is not set"). Returns how many nodes run in float32."""
    from onnx import helper, TensorProto
    e = GraphEdit(path)
    bf16, f32 = TensorProto.BFLOAT16, TensorProto.FLOAT
    wrap = [n for n in e.m.graph.node if n.op_type in ops and any(e.types.get(i) == bf16 for i in n.input if i)]
    inside = {o for n in wrap for o in n.output}
    cast, insert, drop = set(), {}, set()
    for n in wrap:
        nodes, c = [], helper.make_node(n.op_type, [], [], name=n.name, domain=n.domain)
        c.attribute.extend(n.attribute)
        for i in n.input:
            if i and e.types.get(i) == bf16:
                # A float32 copy made before (an earlier call's island) is reused.
                if i not in inside and i not in cast and i + "/f32" not in e.prod:
                    nodes.append(helper.make_node("Cast", [i], [i + "/f32"], to=f32, name=i + "/to_f32"))
                    cast.add(i)
                i += "/f32"
            c.input.append(i)
        nodes.append(c)
        for o in n.output:
            if o and e.types.get(o) == bf16:
                nodes.append(helper.make_node("Cast", [o + "/f32"], [o], to=bf16, name=o + "/to_bf16"))
                if o + "/f32" in e.prod:  # an earlier call's island cast o up; it is made in float32 now
                    drop.add(o + "/f32")
                o += "/f32"
            c.output.append(o)
        insert[n.output[0]] = nodes
    if insert:
        e.save(insert, drop)
    return len(insert)


def check_by_path(path):
    """The ONNX checker on the model at path (by path, so that it finds
    external weights beside it). onnx 1.23 refuses external data with more
    than one hard link ("a potential hardlink attack"), which is what
    --fuse-from makes: such a model is left to the agreement test
    (TestTransformersAgree), and the log says so. ONNX Runtime's own
    operators in the ONNX domain (ORT_ONNX_OPS), which onnx has no schema
    for, are checked as com.microsoft ones (by name only), in a copy."""
    import onnx
    d = os.path.dirname(path)
    m = onnx.load(path, load_external_data=False)
    files = {kv.value for t in m.graph.initializer for kv in t.external_data if kv.key == "location"}
    linked = sorted(f for f in files if os.stat(os.path.join(d, f)).st_nlink > 1)
    if linked:
        log(f"  {path}: ONNX checker skipped: {', '.join(linked)} hard-linked (onnx refuses that); "
            "check the model with TestTransformersAgree")
        return
    own = [n for n in m.graph.node if n.domain in ("", "ai.onnx") and n.op_type in ORT_ONNX_OPS]
    if not own:
        onnx.checker.check_model(path)
        return
    for n in own:
        n.domain = "com.microsoft"
    tmp = path + ".check.onnx"
    try:
        onnx.save(m, tmp)
        onnx.checker.check_model(tmp)
    finally:
        os.remove(tmp)


# Operators ONNX Runtime defines in the ONNX domain itself (its contrib
# schemas), which the onnx package does not know.
ORT_ONNX_OPS = {"SimplifiedLayerNormalization"}


def fuse_attention(path, heads):
    """Rewrite every bias-free attention of the model at path, MatMul(q, k^T)
    -> Mul/Div by a constant -> Softmax -> MatMul(., v) on [B,H,N,D] tensors
    with H = heads, as ONNX Runtime's com.microsoft MultiHeadAttention (the
    op its transformer optimizer fuses such chains into; the CUDA provider
    runs it as flash attention for fp16/bf16 heads of <= 256 values), with
    q, k, v brought to [B,N,H*D] and the result back to [B,H,N,D]. Casts on
    the chain (an exporter's type promotion: the scores cast to float for a
    float scale, the softmax cast back) are looked through: q, k and v are
    taken before any Cast and must share one element type; the result is cast
    to the type the old chain produced. Only the graph is rewritten: external
    weights stay where they are. Returns (fused, softmaxes, why): the number
    fused, the number of Softmax nodes, and for the first one not fused the
    reason and the chain around it.

    The exporters did not write the op themselves (the TorchScript exporter
    stopped with unordered_map::at on a custom symbolic, the dynamo one
    wrote plain attention), hence a rewrite after the export."""
    import numpy as np
    from onnx import helper, numpy_helper

    ge = GraphEdit(path)
    g, prod, users, types = ge.m.graph, ge.prod, ge.users, ge.types

    up = ge.uncast  # the value before any Casts

    def node(name):
        return prod.get(up(name))

    def scalar(name):
        c = ge.const(name)
        return None if c is None else float(c.reshape(-1)[0])

    def traced_default(name):  # head_dim ** -0.5 traced from the tensor's shape: MHA's default scale
        pw = node(name)
        return pw is not None and pw.op_type == "Pow" and scalar(pw.input[1]) == -0.5

    def chain(sm):
        """The attention around Softmax sm: (q, k, v, out, scale, nodes), or a reason."""
        x, scale, mul = node(sm.input[0]), None, None
        if x is not None and x.op_type in ("Mul", "Div"):
            mul = x
            for j in ((1, 0) if x.op_type == "Mul" else (1,)):
                c = scalar(x.input[j])
                if c not in (None, 0) or traced_default(x.input[j]):
                    scale = None if c is None else (c if x.op_type == "Mul" else 1 / c)
                    x = node(x.input[1 - j])
                    break
            else:
                return "the scores are scaled by a non-constant"
        if x is None or x.op_type != "MatMul":
            return f"the softmax's input is {x.op_type if x else 'a graph input'}, not MatMul(q, k^T)"
        if [a.i for a in sm.attribute if a.name == "axis"] not in ([], [-1], [3]):
            return "the softmax is not over the last axis"
        mm1, kt = x, node(x.input[1])
        if kt is None or kt.op_type != "Transpose" or list(kt.attribute[0].ints) != [0, 1, 3, 2]:
            return "k^T is not Transpose(k, [0,1,3,2])"
        name, nxt = sm.output[0], users.get(sm.output[0], [])
        while len(nxt) == 1 and nxt[0].op_type == "Cast":
            name, nxt = nxt[0].output[0], users.get(nxt[0].output[0], [])
        if len(nxt) != 1 or nxt[0].op_type != "MatMul" or nxt[0].input[0] != name:
            return f"the softmax feeds {[n.op_type for n in nxt]}, not one MatMul(., v)"
        mm2 = nxt[0]
        q, k, v = up(mm1.input[0]), up(kt.input[0]), up(mm2.input[1])
        t = {types.get(q), types.get(k), types.get(v)}
        if len(t) != 1 or None in t:
            return f"q, k, v have element types {[types.get(n) for n in (q, k, v)]}"
        return q, k, v, mm2.output[0], scale, [n for n in (mm1, sm, mm2, mul, kt) if n is not None]

    def describe(sm):
        lines = []

        def walk(name, d):
            n = prod.get(name)
            lines.append("    " + "  " * d + (f"{n.op_type} {n.name} -> {types.get(name)}" if n else f"{name} (input)"))
            if n is not None and d < 4 and n.op_type not in ("Shape", "Constant"):
                for i in n.input:
                    walk(i, d + 1)
        walk(sm.output[0], 0)
        lines.append(f"    consumers: {[(n.op_type, n.name) for n in users.get(sm.output[0], [])]}")
        return "\n".join(lines)

    drop, insert = set(), {}
    softmaxes = [n for n in g.node if n.op_type == "Softmax"]
    fused, why = 0, ""
    for sm in softmaxes:
        c = chain(sm)
        if isinstance(c, str):
            why = why or f"{sm.name}: {c}\n{describe(sm)}"
            continue
        q4, k4, v4, out4, scale, old = c
        p = f"fused_attention_{fused}"
        if not fused:
            g.initializer.extend([numpy_helper.from_array(np.array([0, 0, -1], dtype=np.int64), "fused_attention_shape3"),
                                  numpy_helper.from_array(np.array([0, 0, heads, -1], dtype=np.int64),
                                                          "fused_attention_shape4")])
        nodes = []
        for name, t in (("q", q4), ("k", k4), ("v", v4)):
            nodes.append(helper.make_node("Transpose", [t], [f"{p}_{name}_bnhd"], perm=[0, 2, 1, 3]))
            nodes.append(helper.make_node("Reshape", [f"{p}_{name}_bnhd", "fused_attention_shape3"], [f"{p}_{name}3"]))
        attrs = dict(num_heads=heads)
        if scale is not None:
            attrs["scale"] = scale
        nodes.append(helper.make_node("MultiHeadAttention", [f"{p}_q3", f"{p}_k3", f"{p}_v3"], [f"{p}_o3"],
                                      domain="com.microsoft", name=p, **attrs))
        nodes.append(helper.make_node("Reshape", [f"{p}_o3", "fused_attention_shape4"], [f"{p}_o4"]))
        if types.get(out4) not in (None, types[q4]):
            nodes.append(helper.make_node("Transpose", [f"{p}_o4"], [f"{p}_o"], perm=[0, 2, 1, 3]))
            nodes.append(helper.make_node("Cast", [f"{p}_o"], [out4], to=types[out4]))
        else:
            nodes.append(helper.make_node("Transpose", [f"{p}_o4"], [out4], perm=[0, 2, 1, 3]))
        # Nodes are known by their first output (unique in a graph). The
        # chain's other nodes (Casts, the scale's arithmetic, a k^T used
        # elsewhere stays) go with the dead-node sweep below.
        insert[out4] = nodes
        drop.update(n.output[0] for n in old if n.op_type != "Transpose")
        fused += 1
    if not fused:
        return 0, len(softmaxes), why
    ge.save(insert, drop)
    return fused, len(softmaxes), why


def fuse_gelu(path):
    """Rewrite every tanh-approximated GELU of the model at path, the chain
    of about nine elementwise nodes an exporter writes for it (PyTorch's
    opset-17 export: x*x*x, not the Pow that ONNX Runtime's own FastGelu
    fusion looks for, so its optimizer leaves the chain alone), as one
    com.microsoft FastGelu, which the CPU and CUDA providers run as one
    kernel. A bias added just before (Add of a 1-d constant that nothing
    else reads) goes into the FastGelu too. A chain is found from its Tanh:
    backwards through Mul/Add/Sub/Div/Pow/Cast nodes with scalar constants to
    the one tensor x they read, forwards from the Tanh to the first node
    whose value, evaluated on sample x, is 0.5·x·(1 + tanh(√(2/π)·(x +
    0.044715·x³))); whatever the chain's order and its Casts, only a chain
    that computes the function is replaced, and only when no node outside it
    reads its intermediate values. Returns (fused, tanhs)."""
    import numpy as np
    from onnx import helper

    ge = GraphEdit(path)
    g, prod, users, types, const = ge.m.graph, ge.prod, ge.users, ge.types, ge.const
    arith = {"Mul": np.multiply, "Add": np.add, "Sub": np.subtract, "Div": np.divide, "Pow": np.power}

    def candidates(name):
        """The tensors the arithmetic behind name reads, nearest first: one
        of them is the GELU's x."""
        out, queue, seen = [], [(name, 0)], set()
        while queue:
            n, d = queue.pop(0)
            if n in seen or const(n) is not None:
                continue
            seen.add(n)
            out.append(n)
            p = prod.get(n)
            if p is not None and d < 6 and (p.op_type in arith or p.op_type == "Cast"):
                queue.extend((i, d + 1) for i in p.input)
        return out

    def value(name, x, r, region, depth=0):
        """name's value when r is x; region collects the nodes on the way.
        KeyError when name is not elementwise arithmetic on r and scalars."""
        if name == r:
            return x
        c = const(name)
        if c is not None:
            return c.reshape(())
        p = prod[name]
        if depth > 12 or not (p.op_type in arith or p.op_type in ("Tanh", "Cast")):
            raise KeyError(name)
        region.add(id(p))
        a = [value(i, x, r, region, depth + 1) for i in p.input]
        if p.op_type == "Tanh":
            return np.tanh(a[0])
        if p.op_type == "Cast":
            return a[0]
        return arith[p.op_type](a[0], a[1])

    x = np.linspace(-5, 5, 201)
    want = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    byid = {id(n): n for n in g.node}
    insert, drop, fused = {}, set(), 0
    tanhs = [n for n in g.node if n.op_type == "Tanh"]

    def match(t):
        """(x, the chain's last node, the chain's node ids) around Tanh t, or None."""
        for r in candidates(t.input[0]):
            # Forwards from the Tanh, breadth first, a few nodes deep.
            frontier = [t]
            for _ in range(4):
                nxt = [u for n in frontier for u in users.get(n.output[0], []) if u.op_type in arith or u.op_type == "Cast"]
                for u in nxt:
                    reg = set()
                    try:
                        v = value(u.output[0], x, r, reg)
                    except (KeyError, IndexError, ValueError):
                        continue
                    if np.shape(v) == x.shape and np.allclose(v, want, rtol=2e-3, atol=1e-3):
                        return r, u, reg
                frontier = nxt
        return None

    for t in tanhs:
        found = match(t)
        if found is None:
            continue
        r, out, region = found
        inner = {o for i in region for o in byid[i].output} - {out.output[0]}
        if any(id(u) not in region for o in inner for u in users.get(o, [])):
            continue  # a value of the chain is read outside it
        ins = [r]
        ba = prod.get(r)
        if ba is not None and ba.op_type == "Add" and len(users.get(r, [])) == sum(
                id(u) in region for u in users[r]):
            vec = [i for i in ba.input if ge.init_of(i) is not None and len(ge.init_of(i).dims) == 1]
            if len(vec) == 1 and not any(i in prod and prod[i].op_type == "Cast" for i in ba.input) \
                    and types.get(vec[0]) == types.get(r):
                ins = [next(i for i in ba.input if i != vec[0]), vec[0]]
                drop.add(r)
        if types.get(ins[0]) != types.get(out.output[0]) or types.get(ins[0]) is None:
            continue  # the chain changes the element type: left alone
        insert[out.output[0]] = [helper.make_node("FastGelu", ins, [out.output[0]], domain="com.microsoft",
                                                  name=f"fused_gelu_{fused}")]
        drop.update(o for i in region for o in byid[i].output[:1])
        fused += 1
    if not fused:
        return 0, len(tanhs)
    ge.save(insert, drop)
    return fused, len(tanhs)


def fuse_rope(path):
    """Rewrite every RoPE of the model at path (a Rope module: its nodes are
    named .../rope_q/... or .../rope_k/...; about a dozen of them: the
    pairs split, four products, a sum, a difference, the pairs stacked) as
    one com.microsoft RotaryEmbedding in its interleaved form, with the
    per-token cos/sin tables [N, D/2] as its caches and position offset 0,
    so that token p takes row p. The module's inputs are x [B,H,N,D] and the
    two tables, told apart by the Cos or Sin node that made them (through
    Casts, Identities and Reshapes); a module of another shape is left
    alone. Returns (fused, modules)."""
    import numpy as np
    from onnx import helper, numpy_helper

    ge = GraphEdit(path)
    g, prod, users, types = ge.m.graph, ge.prod, ge.users, ge.types
    scopes = {}
    for n in g.node:
        parts = n.name.split("/")
        for i, part in enumerate(parts[:-1]):
            if part.startswith("rope_"):
                scopes.setdefault("/".join(parts[:i + 1]), []).append(n)
                break

    def source(name):  # the Cos or Sin a table comes from, or None
        while name in prod and prod[name].op_type in ("Cast", "Identity", "Reshape", "Unsqueeze", "Squeeze"):
            name = prod[name].input[0]
        p = prod.get(name)
        return p.op_type if p is not None and p.op_type in ("Cos", "Sin") else None

    insert, drop, fused, casts = {}, set(), 0, {}
    for scope, region in scopes.items():
        ids, outs = {id(n) for n in region}, {o for n in region for o in n.output}
        ext = {i for n in region for i in n.input if i and i not in outs and ge.const(i, False) is None}
        # The exporter may share a module's cast of a table with the next
        # module: such values stay; the rotated x is the one value leaving.
        leaving = [o for o in outs if not source(o) and (
            any(id(u) not in ids for u in users.get(o, [])) or o in {v.name for v in g.output})]
        tables = {source(i): i for i in ext if source(i)}
        xs = [i for i in ext if not source(i) and types.get(i) in (1, 10, 16)]
        if len(leaving) != 1 or set(tables) != {"Cos", "Sin"} or len(xs) != 1 or types.get(leaving[0]) != types[xs[0]]:
            log(f"  {scope}: not a RoPE of the expected form (inputs {sorted(ext)}, outputs {leaving})")
            continue
        x, t = xs[0], types[xs[0]]
        ins = [x, "fused_rope_offset"]
        for kind in ("Cos", "Sin"):
            c = tables[kind]
            if types.get(c) != t:
                if (c, t) not in casts:
                    casts[(c, t)] = f"fused_rope_{kind.lower()}_{len(casts)}"
                    insert.setdefault(leaving[0], []).append(helper.make_node("Cast", [c], [casts[(c, t)]], to=t))
                c = casts[(c, t)]
            ins.append(c)
        insert.setdefault(leaving[0], []).append(helper.make_node(
            "RotaryEmbedding", ins, [leaving[0]], domain="com.microsoft", name=f"fused_rope_{fused}", interleaved=1))
        drop.update(n.output[0] for n in region if not source(n.output[0]))
        fused += 1
    if fused:
        g.initializer.append(numpy_helper.from_array(np.array([0], dtype=np.int64), "fused_rope_offset"))
        ge.save(insert, drop)
    return fused, len(scopes)


def fuse_linears(path):
    """Rewrite the single blocks' two Linears so that no wide tensor is
    split or joined between them and the rest: a Linear whose output is
    Split along its last axis (the single block's 21 504-wide first Linear,
    into q, k, v and the MLP's input) becomes one MatMul and bias Add per
    part, and a Linear that reads a Concat along the last axis (the second,
    of the attention's output and the MLP's) one MatMul per part, summed.
    The same arithmetic with the weights sliced; the new weights are
    written beside the model (PATH_split_data) when its weights are on disk,
    the old ones left unread. Returns (split, joined)."""
    from onnx import helper

    ge = GraphEdit(path)
    g, prod, users = ge.m.graph, ge.prod, ge.users
    stale = path + "_split_data"
    if os.path.exists(stale) and not any(e.value == os.path.basename(stale) for t in g.initializer for e in t.external_data):
        os.remove(stale)

    only_user = ge.only_reader

    def last_axis(node):  # shape inference loses the rank in these graphs: -1 only
        return next((a.i for a in node.attribute if a.name == "axis"), 0) == -1

    def sizes_of(sp):
        if len(sp.input) > 1 and sp.input[1]:
            v = ge.const(sp.input[1], False)
            return None if v is None else [int(x) for x in v]
        return next((list(a.ints) for a in sp.attribute if a.name == "split"), None)

    def width(name, depth=0):
        """The last dimension of name, where the graph fixes it: a product
        with a weight, a part of a Split, through elementwise arithmetic."""
        p = prod.get(name)
        if p is None or depth > 16:
            return None
        if p.op_type == "MatMul" and ge.init_of(p.input[1]) is not None:
            return ge.init_of(p.input[1]).dims[-1]
        if p.op_type == "Split" and last_axis(p):
            sizes = sizes_of(p)
            return sizes[list(p.output).index(name)] if sizes else None
        if p.op_type in ("Mul", "Add", "Sub", "Div", "Tanh", "Cast", "FastGelu", "Pow"):
            for i in p.input:
                if ge.const(i) is None and ge.init_of(i) is None:
                    return width(i, depth + 1)
        return None

    insert, drop, split, joined = {}, set(), 0, 0
    for sp in [n for n in g.node if n.op_type == "Split"]:
        add = prod.get(sp.input[0])
        if add is None or add.op_type != "Add" or not only_user(add.output[0], sp) or not last_axis(sp):
            continue
        bias = next((i for i in add.input if ge.init_of(i) is not None and len(ge.init_of(i).dims) == 1), None)
        mm = prod.get(next((i for i in add.input if i != bias), ""))
        w = ge.init_of(mm.input[1]) if mm is not None and mm.op_type == "MatMul" else None
        if bias is None or w is None or len(w.dims) != 2 or not only_user(mm.output[0], add):
            continue
        sizes = sizes_of(sp)
        if sizes is None or sum(sizes) != w.dims[1] or len(sizes) != len(sp.output):
            continue
        insert[sp.output[0]] = ge.linear_parts(mm.input[0], w, bias, sizes, sp.output)
        drop.update((mm.output[0], add.output[0]))
        split += 1
    for mm in [n for n in g.node if n.op_type == "MatMul"]:
        cat = prod.get(mm.input[0])
        w = ge.init_of(mm.input[1])
        if cat is None or cat.op_type != "Concat" or w is None or len(w.dims) != 2 \
                or not only_user(cat.output[0], mm) or not last_axis(cat) or len(cat.input) < 2:
            continue
        widths = [width(i) for i in cat.input]
        if widths.count(None) == 1:  # the one the others leave
            widths[widths.index(None)] = w.dims[0] - sum(v for v in widths if v is not None)
        if None in widths or sum(widths) != w.dims[0] or min(widths) <= 0:
            continue
        W, nodes, o, acc = ge.raw(w), [], 0, None
        for j, (a, n) in enumerate(zip(cat.input, widths)):
            wj = ge.add_init(f"{w.name}_rows{o}", w, W[o:o + n].copy())
            p = f"{mm.output[0]}_part{j}"
            nodes.append(helper.make_node("MatMul", [a, wj], [p]))
            if acc is not None:
                s = mm.output[0] if j == len(widths) - 1 else f"{mm.output[0]}_sum{j}"
                nodes.append(helper.make_node("Add", [acc, p], [s]))
                p = s
            acc, o = p, o + n
        insert[mm.output[0]] = nodes
        drop.add(cat.output[0])
        joined += 1
    if split or joined:
        ge.save(insert, drop)
    return split, joined


def fuse_groupnorm(path, emulate=False):
    """Rewrite every GroupNorm of the model at path as the exporter writes
    nn.GroupNorm (Reshape to [N, G, -1], InstanceNormalization with unit
    scale and zero bias, Reshape back, Mul by the per-channel weight, Add the
    per-channel bias), with the SiLU right after it where there is one
    (Sigmoid(y) and Mul(y, Sigmoid(y))), as ONNX Runtime's com.microsoft
    GroupNorm between two Transposes: the op is NHWC, and activation=1 holds
    the SiLU. The CUDA provider runs the exported chain's InstanceNormalization
    as cuDNN's one-channel batch norm, 42 % of the VAE decoder's GPU time at
    512² (session 12, Nsight Compute); GroupNorm is one kernel. Only the CUDA
    provider has the op, so the CPU cannot run the rewrite. With emulate the
    op is written out in standard operators instead, on the same NHWC tensor
    between the same Transposes (the contrib op's definition: channels
    grouped in order, per-channel gamma and beta, SiLU when activation is 1):
    what a CPU can check of the rewrite, all but ONNX Runtime's kernel.
    Returns (fused, InstanceNormalization nodes)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    ge = GraphEdit(path)
    g, prod, users = ge.m.graph, ge.prod, ge.users

    def only(v, op):
        us = users.get(v, [])
        return us[0] if len(us) == 1 and us[0].op_type == op else None

    def per_channel(n, x):
        """The values of n's constant operand beside x, [C] or [C,1,1], flat; or None."""
        other = [i for i in n.input if i != x]
        a = ge.const(other[0], scalar=False) if len(other) == 1 else None
        if a is None or not (a.ndim == 1 or a.ndim == 3 and a.shape[1:] == (1, 1)):
            return None
        return a.reshape(-1)

    norms = [n for n in g.node if n.op_type == "InstanceNormalization"]
    insert, drop, fused = {}, set(), 0
    for n in norms:
        r1, r2 = prod.get(n.input[0]), only(n.output[0], "Reshape")
        if r1 is None or r1.op_type != "Reshape" or r2 is None or len(users.get(r1.output[0], [])) != 1:
            continue
        x = r1.input[0]
        back = prod.get(r2.input[1])
        if back is not None and back.op_type == "Shape" and back.input[0] != x:
            continue
        scale, bias = ge.const(n.input[1], scalar=False), ge.const(n.input[2], scalar=False)
        if scale is None or bias is None or not (np.all(scale == 1) and np.all(bias == 0)):
            continue
        mul = only(r2.output[0], "Mul")
        add = only(mul.output[0], "Add") if mul is not None else None
        if add is None:
            continue
        gamma, beta = per_channel(mul, r2.output[0]), per_channel(add, mul.output[0])
        if gamma is None or beta is None or gamma.size != beta.size or gamma.size % scale.size:
            continue
        chain = [r1, n, r2, mul, add]
        out, act = add.output[0], 0
        us = users.get(out, [])
        sig = next((u for u in us if u.op_type == "Sigmoid"), None)
        if len(us) == 2 and sig is not None:
            silu = only(sig.output[0], "Mul")
            if silu is not None and sorted(silu.input) == sorted([out, sig.output[0]]) and silu in us:
                chain += [sig, silu]
                out, act = silu.output[0], 1
        eps = next((a.f for a in n.attribute if a.name == "epsilon"), 1e-5)
        k = f"groupnorm_{fused}"
        # The CUDA kernel takes float32 gamma and beta; the emulation computes in x's type.
        dt = np.float16 if ge.types.get(x) == onnx.TensorProto.FLOAT16 and emulate else np.float32
        for name, v in (("gamma", gamma), ("beta", beta)):
            g.initializer.append(numpy_helper.from_array(v.astype(dt), f"{k}/{name}"))
        if emulate:
            norm = groupnorm_nodes(g, k, int(scale.size), gamma.size, eps, act, dt)
        else:
            norm = [helper.make_node("GroupNorm", [k + "/nhwc", k + "/gamma", k + "/beta"], [k + "/y"], domain="com.microsoft",
                                     name=k, epsilon=eps, groups=int(scale.size), activation=act, channels_last=1)]
        insert[out] = [
            helper.make_node("Transpose", [x], [k + "/nhwc"], perm=[0, 2, 3, 1], name=k + "/to_nhwc"),
            *norm,
            helper.make_node("Transpose", [k + "/y"], [out], perm=[0, 3, 1, 2], name=k + "/to_nchw"),
        ]
        drop.update(c.output[0] for c in chain)
        fused += 1
    if fused:
        ge.save(insert, drop)
    return fused, len(norms)


def groupnorm_nodes(g, k, groups, channels, eps, act, dt):
    """com.microsoft GroupNorm of k/nhwc (N, H, W, C) into k/y in opset-17
    operators: the channels split into groups in order, each group's mean
    and variance over its pixels and channels, per-channel k/gamma and
    k/beta, then SiLU when act. Its constants are added to graph g."""
    import numpy as np
    from onnx import helper, numpy_helper
    g.initializer.extend([
        numpy_helper.from_array(np.array([0, -1, groups, channels // groups], np.int64), k + "/groups"),
        numpy_helper.from_array(np.array(eps, dt), k + "/eps"),
    ])
    n = lambda op, ins, out, **kw: helper.make_node(op, ins, [k + "/" + out], name=k + "/" + out, **kw)  # noqa: E731
    p = lambda v: k + "/" + v  # noqa: E731
    nodes = [
        n("Reshape", [p("nhwc"), p("groups")], "g"),
        n("ReduceMean", [p("g")], "mean", axes=[1, 3], keepdims=1),
        n("Sub", [p("g"), p("mean")], "d"),
        n("Mul", [p("d"), p("d")], "d2"),
        n("ReduceMean", [p("d2")], "var", axes=[1, 3], keepdims=1),
        n("Add", [p("var"), p("eps")], "ve"),
        n("Sqrt", [p("ve")], "sd"),
        n("Div", [p("d"), p("sd")], "z"),
        n("Shape", [p("nhwc")], "shape"),
        n("Reshape", [p("z"), p("shape")], "zn"),
        n("Mul", [p("zn"), p("gamma")], "zg"),
        n("Add", [p("zg"), p("beta")], "y" if not act else "a"),
    ]
    if act:
        nodes += [n("Sigmoid", [p("a")], "s"), n("Mul", [p("a"), p("s")], "y")]
    return nodes


def fuse_norms(path):
    """Rewrite every modulated LayerNorm of the model at path, LN(x) *
    (1 + scale) + shift with LN a LayerNorm over the last axis without an
    affine of its own (a LayerNormalization node with unit Scale and zero B,
    torch 2's opset-17 export, or the ReduceMean-Sub-Pow-ReduceMean-Add-Sqrt-
    Div chain torch 1.13 writes at opset 16) and scale, shift run-time values
    (the DiT modulation's [B,1,d] chunks of a Linear of the timestep vector),
    as one LayerNormalization(x, Reshape(1 + scale, [-1]), Reshape(shift,
    [-1]), axis=-1) with the LN's epsilon: the op's Scale and B may be
    run-time tensors, and three kernels over the whole [B,N,d] activation
    (the norm, a Mul, an Add) become one. The same arithmetic only at batch
    1, which is what the stage runs: at batch B the reshaped scale has B·d
    values, and ONNX Runtime refuses the run (Scale must have X's last
    dimension) rather than compute something else.

    Where x is Add(a, b) of two full-size tensors and is read elsewhere too
    (the residual stream goes on), the Add goes into the norm as well: one
    com.microsoft SkipLayerNormalization(a, b, 1 + scale, shift), whose 4th
    output (input_skip_bias_sum, a + b) takes x's place for its other
    readers. Shape inference loses the ranks in these graphs, so the shapes
    are decided by structure: one of a, b is a gated branch, Mul of a
    run-time gate with a Linear's output (a MatMul with a 2-d weight, its
    bias Add, or fuse_linears's sum of parts: the tokens kept, [B,N,d]), the
    other the residual stream, a value another LayerNorm of the graph
    normalizes (never a bias or a broadcast vector). ONNX Runtime also checks
    that skip has input's shape.

    Casts are looked through between the norm and the Mul and Add (the new
    norm computes in the LN's element type, its result cast to the old
    one's) and on 1 + scale and shift (cast to the LN's type); the residual
    Add is taken only where it feeds the norm directly, in its type. An
    opset-16 model is marked opset 17 (LayerNormalization's; no operator it
    uses changed). A norm of another form (an affine of its own, another
    axis, its values read elsewhere, no run-time 1 + scale and shift after
    it) is left alone. Returns (fused, with_residual, norms)."""
    import numpy as np
    from onnx import helper, numpy_helper

    ge = GraphEdit(path)
    g, prod, users, types, const = ge.m.graph, ge.prod, ge.users, ge.types, ge.const
    outputs = {o.name for o in g.output}

    up = ge.uncast  # the value before any Casts

    def only(name):  # the one reader of name, or None
        us = users.get(name, [])
        return us[0] if len(us) == 1 and name not in outputs else None

    def down(name):
        """(the one reader of name past any Casts, the value it reads, the
        Casts), or (None, ...)."""
        casts = []
        while only(name) is not None and only(name).op_type == "Cast":
            casts.append(only(name))
            name = casts[-1].output[0]
        return only(name), name, casts

    def values(name):
        """A constant's values as float64, a weight's read from disk where
        it is (torch 2's unit Scale may be one), or None."""
        c, t = const(name, False), ge.init_of(up(name))
        if c is not None or t is None or t.data_type not in (1, 10, 16):
            return c
        a = ge.raw(t)
        return (a.view("<f4") if t.data_type == 1 else a.view("<f2") if t.data_type == 10
                else (a.astype("<u4") << 16).view("<f4")).astype("float64")

    def runtime(name):  # neither a constant nor a weight
        return const(name, False) is None and ge.init_of(up(name)) is None

    def layernorm(n):
        """(x, epsilon, nodes) of a LayerNorm over the last axis without an
        affine that ends in node n, or None."""
        if n.op_type == "LayerNormalization":
            w = values(n.input[1]) if len(n.input) > 1 and n.input[1] else None
            b = values(n.input[2]) if len(n.input) > 2 and n.input[2] else np.zeros(1)
            if next((a.i for a in n.attribute if a.name == "axis"), -1) != -1 or w is None or b is None \
                    or not (np.all(w == 1) and np.all(b == 0)) or any(o for o in n.output[1:]):
                return None
            return n.input[0], next((a.f for a in n.attribute if a.name == "epsilon"), 1e-5), [n]
        if n.op_type != "Div":  # (x - mean(x)) / sqrt(mean((x - mean(x))²) + eps)
            return None
        sub, sq = prod.get(n.input[0]), prod.get(n.input[1])
        if sub is None or sub.op_type != "Sub" or sq is None or sq.op_type != "Sqrt":
            return None
        x, m1, add = sub.input[0], prod.get(sub.input[1]), prod.get(sq.input[0])
        m2 = prod.get(add.input[0]) if add is not None and add.op_type == "Add" else None
        pw = prod.get(m2.input[0]) if m2 is not None and m2.op_type == "ReduceMean" else None
        if m1 is None or m1.op_type != "ReduceMean" or m1.input[0] != x or pw is None or pw.op_type != "Pow" \
                or pw.input[0] != sub.output[0] or const(pw.input[1]) != 2 or const(add.input[1]) is None \
                or not (ge.reduces_last_axis(m1) and ge.reduces_last_axis(m2)):
            return None
        chain = [m1, sub, pw, m2, add, sq, n]
        if sorted(u.op_type for u in users[sub.output[0]]) != ["Div", "Pow"] or \
                any(only(c.output[0]) is None for c in chain if c not in (sub, n)):
            return None  # a value of the chain is read outside it
        return x, float(const(add.input[1])), chain

    def linear(name, depth=0):  # a Linear's output: a MatMul by a 2-d weight, its bias Add, a sum of parts
        p = prod.get(up(name))
        if p is None or depth > 8:
            return False
        if p.op_type == "MatMul":
            w = ge.init_of(p.input[1])
            return w is not None and len(w.dims) == 2
        if p.op_type == "Add":
            ws = [ge.init_of(i) for i in p.input]
            if any(w is not None and len(w.dims) == 1 for w in ws):
                return any(w is None and linear(i, depth + 1) for w, i in zip(ws, p.input))
            return all(linear(i, depth + 1) for i in p.input)
        return False

    def branch(name):  # a gated branch: Mul(run-time gate, a Linear's output)
        p = prod.get(name)
        return p is not None and p.op_type == "Mul" and any(
            linear(y) and runtime(gate) for y, gate in (p.input, p.input[::-1]))

    found = [(n, f) for n in g.node for f in [layernorm(n)] if f is not None]
    normalized = {up(f[0]) for _, f in found}
    flat = "fused_norms_flat"
    insert, drop, fused, residual = {}, set(), 0, 0
    for ln, (x, eps, chain) in found:
        mul, y, casts = down(ln.output[0])
        if mul is None or mul.op_type != "Mul" or y not in mul.input:
            continue
        s = mul.input[1] if mul.input[0] == y else mul.input[0]
        one = prod.get(up(s))
        if one is None or one.op_type != "Add" or not any(
                const(c) == 1 and runtime(v) for c, v in (one.input, one.input[::-1])):
            continue  # not 1 + scale
        add, y, more = down(mul.output[0])
        if add is None or add.op_type != "Add" or y not in add.input:
            continue
        t = add.input[1] if add.input[0] == y else add.input[0]
        out, dt = add.output[0], types.get(x)
        if not runtime(t) or None in (dt, types.get(s), types.get(t), types.get(out)):
            continue
        k, ab, nodes = f"fused_norm_{fused}", [], []
        for name, v in (("scale", s), ("shift", t)):
            r = f"{k}/{name}"
            nodes.append(helper.make_node("Reshape", [v, flat], [r], name=r))
            if types[v] != dt:
                nodes.append(helper.make_node("Cast", [r], [r + "_cast"], to=dt))
                r += "_cast"
            ab.append(r)
        res, inside = prod.get(x), {id(c) for c in chain}
        pair = None
        if res is not None and res.op_type == "Add" and x not in outputs and x not in drop \
                and any(id(u) not in inside for u in users[x]) and all(types.get(i) == dt for i in res.input):
            pair = next(((a, b) for a, b in (res.input, res.input[::-1])
                         if branch(b) and runtime(a) and up(a) in normalized), None)
        y = out if types[out] == dt else f"{k}/y"
        if pair:
            nodes.append(helper.make_node("SkipLayerNormalization", [*pair, *ab], [y, "", "", x],
                                          domain="com.microsoft", name=k, epsilon=eps))
            drop.add(x)
            residual += 1
        else:
            nodes.append(helper.make_node("LayerNormalization", [x, *ab], [y], name=k, axis=-1, epsilon=eps))
        if y != out:
            nodes.append(helper.make_node("Cast", [y], [out], to=types[out]))
        insert[out] = nodes
        drop.update(c.output[0] for c in chain + casts + more + [mul])
        fused += 1
    if fused:
        g.initializer.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), flat))
        for op in ge.m.opset_import:
            if op.domain in ("", "ai.onnx") and op.version < 17:
                op.version = 17
        ge.save(insert, drop)
    return fused, residual, len(found)


def fuse_skip_bias(path):
    """Move the Linear's bias of each gated branch that a com.microsoft
    SkipLayerNormalization adds to the residual stream (fuse_norms's) into
    the op's own bias input: SkipLN(a, gate·(Y + b), γ, β) = SkipLN(a,
    gate·Y, γ, β, gate·b), since the op computes LN(input + skip + bias) and
    its 4th output, the residual stream, is input + skip + bias. The bias
    Add over the whole [1,N,d] branch (one of ONNX Runtime's per-channel
    broadcast kernels) becomes a product of two d-vectors: a full-depth
    step 1.01x faster on an H100 (session 17). Batch 1 only, as
    fuse_norms: gate·b is reshaped to [d].

    Matched: a SkipLayerNormalization with 4 inputs whose first or second
    input is Mul(gate, Add(Y, b)) (either order in both), b a 1-d weight,
    gate a run-time value, each of the Mul and the Add read only there;
    the same element type throughout (no Casts between). Returns (moved,
    skips): the number rewritten and the number of SkipLayerNormalization
    nodes."""
    import numpy as np
    from onnx import helper, numpy_helper

    ge = GraphEdit(path)
    g, prod, types = ge.m.graph, ge.prod, ge.types

    def bias_of(add):  # (Y, b) of Add(Y, b) with b a 1-d weight, or None
        for y, b in (add.input, add.input[::-1]):
            t = ge.init_of(b)
            if t is not None and len(t.dims) == 1 and ge.init_of(y) is None:
                return y, b
        return None

    skips = [n for n in g.node if n.op_type == "SkipLayerNormalization" and n.domain == "com.microsoft"]
    flat = "fused_norms_flat"  # fuse_norms's [-1], in the graph when its norms were fused
    insert, moved = {}, 0
    for sk in skips:
        if len(sk.input) != 4:
            continue
        for j in (0, 1):
            mul = prod.get(sk.input[j])
            if mul is None or mul.op_type != "Mul" or not ge.only_reader(mul.output[0], sk):
                continue
            hit = None
            for gate, v in (mul.input, mul.input[::-1]):
                add = prod.get(v)
                if add is not None and add.op_type == "Add" and ge.only_reader(v, mul) and ge.init_of(gate) is None \
                        and ge.const(gate, False) is None and bias_of(add):
                    hit = gate, add
                    break
            if hit is None:
                continue
            gate, add = hit
            y, b = bias_of(add)
            dt = types.get(b)
            if any(types.get(v) not in (None, dt) for v in (gate, y, mul.output[0])):
                continue
            k = f"{sk.name or 'skip'}_bias"
            gb, gy = f"{k}/gate_bias", f"{k}/gate_y"
            inputs = list(sk.input)
            inputs[j] = gy
            # The rewritten Mul keeps the old one's place (its output name
            # changes); the SkipLN is replaced by one with the bias input.
            insert[mul.output[0]] = [helper.make_node("Mul", [gate, y], [gy], name=f"{k}/Mul")]
            insert[sk.output[0]] = [
                helper.make_node("Mul", [gate, b], [gb + "_2d"], name=f"{k}/gate_bias"),
                helper.make_node("Reshape", [gb + "_2d", flat], [gb], name=f"{k}/flat"),
                helper.make_node("SkipLayerNormalization", inputs + [gb], list(sk.output), domain="com.microsoft",
                                 name=sk.name, **{a.name: helper.get_attribute_value(a) for a in sk.attribute})]
            moved += 1
            break
    if moved:
        if flat not in ge.consts:
            g.initializer.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), flat))
        ge.save(insert, set())
    return moved, len(skips)


def fuse_rmsnorm(path):
    """Rewrite every RMSNorm of the model at path (the q and k norms over
    each head's D values) as one SimplifiedLayerNormalization(x, w, axis=-1,
    stash_type=1): as exported, x · rsqrt(mean(x², last axis) + eps) · w is
    seven elementwise and reduction kernels over the whole q or k (Pow,
    ReduceMean, Add, Sqrt, Div(1, ·) or Reciprocal, Mul, Mul; in bf16 with
    a Cast to float32 before and one back before the last Mul), each
    reading and writing the tensor: one kernel reads it once and writes it
    once, computing in float32. ONNX Runtime's optimiser finds this pattern
    by itself: on an H100 a full-depth step was no faster with the rewrite
    (session 17). It is kept for graphs the optimiser does not fuse, and
    for bf16 (ONNX Runtime has no bf16 ReduceMean kernel).

    Matched from each Pow(x, 2) that one ReduceMean over the last axis
    (kept) reads, through Add(eps constant), Sqrt and Div(1, ·) or
    Reciprocal, to Mul(x, ·) (x as the Pow read it, or the value those
    Casts came from), optional Casts, and Mul(·, w) with w a weight or
    constant that is not a scalar; no value of the chain read outside it;
    the value before the Casts of w's element type. The new node reads that
    value and writes the last Mul's output. Returns
    (fused, pows): the number rewritten and the number of Pow nodes."""
    from onnx import helper

    ge = GraphEdit(path)
    g, users, types, const = ge.m.graph, ge.users, ge.types, ge.const

    def one(name, op):  # the one reader of name if it is an op node, else None
        us = users.get(name, [])
        return us[0] if us and us[0].op_type == op and ge.only_reader(name, us[0]) else None

    pows = [n for n in g.node if n.op_type == "Pow" and const(n.input[1]) == 2]
    insert, drop, fused = {}, set(), 0
    for pw in pows:
        x = pw.input[0]
        rm = one(pw.output[0], "ReduceMean")
        add = rm and ge.reduces_last_axis(rm) and one(rm.output[0], "Add")
        eps = add and next((const(i) for i in add.input if i != rm.output[0]), None)
        sq = eps is not None and one(add.output[0], "Sqrt")
        inv = sq and (one(sq.output[0], "Reciprocal") or one(sq.output[0], "Div"))
        if not inv or inv.op_type == "Div" and (inv.input[1] != sq.output[0] or const(inv.input[0]) != 1):
            continue
        mul = one(inv.output[0], "Mul")
        if not mul or ge.uncast(next(i for i in mul.input if i != inv.output[0])) != ge.uncast(x):
            continue
        name, casts = mul.output[0], []
        while one(name, "Cast"):
            casts.append(one(name, "Cast"))
            name = casts[-1].output[0]
        last = one(name, "Mul")
        w = last and next(i for i in last.input if i != name)
        if not last or const(w) is not None or (ge.init_of(w) is None and const(w, False) is None):
            continue
        src, out, k = ge.uncast(x), last.output[0], f"fused_rmsnorm_{fused}"
        # Mul's inputs and output share a type, so out is w's; without Casts
        # x is too (shape inference loses types in some of these graphs).
        if not (src == x and not casts) and (types.get(src) is None or types.get(src) != types.get(w)):
            continue  # the norm reads and writes one type here (fp16, fp32; bf16 with its Casts)
        insert[out] = [helper.make_node("SimplifiedLayerNormalization", [src, w], [out], name=k,
                                        axis=-1, epsilon=float(eps), stash_type=1)]
        drop.update(c.output[0] for c in [pw, rm, add, sq, inv, mul, *casts])
        fused += 1
    if fused:
        ge.save(insert, drop)
    return fused, len(pows)


def layout_bsnh(path):
    """Rewrite the neighbourhood of every com.microsoft MultiHeadAttention
    of the model at path that fuse_attention and fuse_rope wrote, so that
    q, k and v stay in the token-major layout [B,N,H*D] the Linears write and
    nothing copies them into heads and back. As exported (Black Forest Labs'
    layout), a stream's q, k, v are one Linear's output X [B,N,3·H·D],
    Reshape [B,N,3,H,D], Transpose [2,0,3,1,4] and a Gather each (copies to
    [B,H,N,D]); q and k go through the RMSNorm over D, the double block's
    Concat of the text and image streams along N (axis 2), RotaryEmbedding
    on the 4-d tensor, fuse_attention's Transpose back to [B,N,H,D] (another
    copy) and Reshape [B,N,H·D] into the op; its result goes Reshape,
    Transpose to [B,H,N,D] and the exporter's merge, Transpose and Reshape
    to [B,N,H·D]. On an H100 (Nsight, 2+4 blocks, 512²) those copies were
    about 10 % of a step, and RotaryEmbedding on the 4-d input ran at a
    quarter of the memory bandwidth. Rewritten:

      X's parts: a Linear (MatMul by a 2-d weight, a 1-d bias Add) becomes
        one per part, q, k, v [B,N,H·D] (the weight's columns sliced, as
        fuse_linears does; written beside the model when its weights are on
        disk); a Split along the last axis (the single block's first Linear
        without --linears split) splits into the parts instead of into X
      q, k: Reshape [B,N,H,D] (free) -> the nodes between the Gather and the
        Concat or RoPE as they were (the RMSNorm: elementwise nodes with
        constants that broadcast along the last axis, reductions over the
        last axis: the same on [B,N,H,D]) -> Reshape [B,N,H·D] -> Concat of
        the streams along axis 1 -> RotaryEmbedding in its 3-d form (input
        [B,S,H·D], num_heads H; the same interleaving, position offset and
        cos/sin caches [S, D/2]; ONNX Runtime takes the head size as
        H·D / num_heads and refuses caches of another width) -> the op
      v: the part (the streams' Concat along axis 1) -> the op
      the result: the op's [B,N,H·D] is the merged value the exporter's
        Reshape made (what reads it, the double block's split into text and
        image along axis 1 included, reads it unchanged)

    An attention is left alone unless all of that matches: the Reshape's
    shape has 3 (the Gathers' count) parts of the op's num_heads heads,
    each Gather's index one part, the merge's first two dimensions the batch
    and the tokens, and no value of the rewritten chains (the Shape nodes
    that size the Reshapes aside) read elsewhere. The nodes between a Gather
    and the Concat keep their names; a graph's value_info entries for them
    (their layout changed) go. Returns (rewritten, attentions, why): the
    number rewritten, the number of MultiHeadAttention nodes, and for the
    first one left alone the reason."""
    import numpy as np
    from onnx import helper, numpy_helper

    ge = GraphEdit(path)
    g, prod, users, const = ge.m.graph, ge.prod, ge.users, ge.const
    outputs = {o.name for o in g.output}
    local_ops = {"Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "Neg", "Abs", "Exp", "Log", "Cast",
                 "Identity", "Sigmoid", "Tanh", "Erf"}
    reduce_ops = {"ReduceMean", "ReduceSum", "ReduceSumSquare", "ReduceL2"}
    norm_ops = {"LayerNormalization", "SimplifiedLayerNormalization", "RMSNormalization"}

    def attr(n, name, default=None):
        return next((helper.get_attribute_value(a) for a in n.attribute if a.name == name), default)

    def made_by(name, op):  # the producer of name if it is an op node, else None
        p = prod.get(name)
        return p if p is not None and p.op_type == op else None

    only_to = ge.only_reader  # node is name's one reader

    def ints(name):
        c = const(name, False)
        return None if c is None else [int(v) for v in c.reshape(-1)]

    def pieces(name):
        """A shape's elements: an int where constant, else (v, i) for
        Unsqueeze(Gather(Shape(v), i)), else None; or None if name is
        neither a constant nor a Concat of such pieces."""
        if ints(name) is not None:
            return ints(name)
        cat = made_by(name, "Concat")
        if cat is None:
            return None
        out = []
        for i in cat.input:
            if ints(i) is not None:
                out += ints(i)
                continue
            un = made_by(i, "Unsqueeze")
            ga = made_by(un.input[0], "Gather") if un is not None else None
            sh = made_by(ga.input[0], "Shape") if ga is not None else None
            idx = ints(ga.input[1]) if ga is not None else None
            ok = sh is not None and idx is not None and len(idx) == 1 and len(sh.input) == 1 and not sh.attribute
            out.append((sh.input[0], idx[0]) if ok else None)
        return out

    def shape_only(name, target, also=None):
        """Every reader of name but target (and also) is a Shape whose values
        go only into target's shape input: the rewrite may let name go."""
        cone, todo = set(), [target.input[1]]
        while todo:
            p = prod.get(todo.pop())
            if p is not None and id(p) not in cone:
                cone.add(id(p))
                todo.extend(p.input)
        todo, seen = [name], set()
        while todo:
            v = todo.pop()
            if v in outputs:
                return False
            for u in users.get(v, []):
                if u is target or u is also or id(u) in seen:
                    continue
                if id(u) not in cone:
                    return False
                seen.add(id(u))
                todo.extend(u.output)
        return True

    def along_last(name):  # a constant or weight that broadcasts along the last axis only
        c = const(name, False)
        t = ge.init_of(name)
        dims = list(c.shape) if c is not None else list(t.dims) if t is not None else None
        return dims is not None and all(d == 1 for d in dims[:-1])

    def local(n):  # a node that computes each row over the last axis from that row alone
        if n.op_type in local_ops:
            return True
        if n.op_type in reduce_ops:
            axes = attr(n, "axes")
            if axes is None and len(n.input) > 1 and n.input[1]:
                axes = ints(n.input[1])
            return axes is not None and list(axes) in ([-1], [3]) and attr(n, "keepdims", 1) == 1
        return n.op_type in norm_ops and attr(n, "axis", -1) in (-1, 3) and not any(n.output[1:])

    def heads(name):
        """The Gather that takes name's heads out of a Linear's output
        through last-axis-local nodes, and those nodes; or a reason."""
        region, todo, seen, found = [], [name], set(), []
        while todo:
            v = todo.pop()
            if v in seen:
                continue
            seen.add(v)
            p = prod.get(v)
            if p is not None and p.op_type == "Gather":
                found.append(p)
                continue
            if p is None or not local(p):
                return f"{v} comes from {p.op_type if p is not None else 'a graph input'}, not the heads' Gather " \
                       "through nodes local to the last axis"
            region.append(p)
            todo.extend(i for i in p.input if i and not along_last(i))
        if len(found) != 1:
            return f"{name} comes from {len(found)} Gathers"
        inside = {id(n) for n in region}
        for v in [found[0].output[0]] + [o for n in region for o in n.output if o != name]:
            if v in outputs or any(id(u) not in inside for u in users.get(v, [])):
                return f"{v} is read outside the chain to {name}"
        return found[0], region

    def source(ga, hn):
        """(X, Reshape, Transpose, part, parts) of a heads' Gather: X
        [B,N,parts·H·D] Reshape [B,N,parts,H,D] Transpose [2,0,3,1,4]
        Gather(axis 0, part); or a reason."""
        tr = made_by(ga.input[0], "Transpose")
        rs = made_by(tr.input[0], "Reshape") if tr is not None else None
        idx = ints(ga.input[1])
        if rs is None or list(attr(tr, "perm", [])) != [2, 0, 3, 1, 4] or attr(ga, "axis", 0) != 0 \
                or idx is None or len(idx) != 1 or const(ga.input[1], False).ndim != 0:
            return f"{ga.output[0]} is not Gather(Transpose(Reshape(X), [2,0,3,1,4]), part)"
        dims, readers = pieces(rs.input[1]), users.get(tr.output[0], [])
        if dims is None or len(dims) != 5 or dims[3] != hn or dims[2] != len(readers) \
                or not only_to(rs.output[0], tr) or any(u.op_type != "Gather" for u in readers):
            return f"{rs.output[0]} is not X's {len(readers)} parts of {hn} heads, each Gathered"
        return rs.input[0], rs, tr, idx[0], dims[2]

    def parts_of(x, rs, n):
        """(write, the parts' names, the node (by first output) write's
        nodes replace, the nodes to drop) for X's n parts, or a reason:
        write(name) returns the nodes (named name...), X's Linear per part or its Split into the
        parts (new weights are written only once an attention matches)."""
        if not shape_only(x, rs):
            return f"{x} is read elsewhere"
        names = [f"{x}/bsnh{i}" for i in range(n)]
        sp = prod.get(x)
        if sp is not None and sp.op_type == "Split":
            sizes = ints(sp.input[1]) if len(sp.input) > 1 and sp.input[1] else attr(sp, "split")
            j = list(sp.output).index(x)
            if attr(sp, "axis", 0) != -1 or sizes is None or len(sizes) != len(sp.output) or sizes[j] % n:
                return f"{x} is a Split's part not along the last axis, or not of known width"
            sizes = [*sizes[:j], *[sizes[j] // n] * n, *sizes[j + 1:]]

            def write(p):
                new = helper.make_node("Split", [sp.input[0]], [*sp.output[:j], *names, *sp.output[j + 1:]],
                                       name=sp.name, axis=-1)
                if len(sp.input) > 1 and sp.input[1]:
                    new.input.append(f"{sp.output[0]}/bsnh_sizes")
                    g.initializer.append(numpy_helper.from_array(np.array(sizes, dtype=np.int64), new.input[1]))
                else:
                    new.attribute.extend([helper.make_attribute("split", sizes)])
                return [new]
            return write, names, sp.output[0], []
        add, mm, bias = made_by(x, "Add"), None, None
        if add is not None:
            bias = next((i for i in add.input if ge.init_of(i) is not None and len(ge.init_of(i).dims) == 1), None)
            mm = made_by(next((i for i in add.input if i != bias), ""), "MatMul")
            if bias is None or mm is None or not only_to(mm.output[0], add):
                return f"{x} is an Add, not a Linear's bias Add"
        else:
            mm = made_by(x, "MatMul")
        w = ge.init_of(mm.input[1]) if mm is not None else None
        if w is None or len(w.dims) != 2 or w.dims[1] % n or (bias and ge.init_of(bias).dims[0] != w.dims[1]):
            return f"{x} is neither a Linear's output nor a Split's part"

        def write(p):
            return ge.linear_parts(mm.input[0], w, bias, [w.dims[1] // n] * n, names, p)
        return write, names, x, [mm.output[0]] if bias else []

    def match(mha, k):
        """The rewrite of attention mha, the k-th (its nodes by the first
        output of the node they replace, the nodes to drop, the values whose
        layout changed), or a reason it is left alone. The new nodes are
        named in the scope of the merge's Reshape ("/doubles.3/"): profiles
        count them for their block (TestTransformerRoofline)."""
        hn = attr(mha, "num_heads")
        if len(mha.input) != 3 or any(mha.output[1:]) or not hn:
            return "not q, k, v in and one output"
        # The result: Reshape [0,0,H,-1], Transpose [0,2,1,3] (a Cast), the
        # exporter's merge Transpose [0,2,1,3] and Reshape [B,N,H*D].
        rs = next(iter(users.get(mha.output[0], [])), None)
        tr = next(iter(users.get(rs.output[0], [])), None) if rs is not None else None
        if rs is None or rs.op_type != "Reshape" or ints(rs.input[1]) != [0, 0, hn, -1] \
                or tr is None or tr.op_type != "Transpose" or list(attr(tr, "perm", [])) != [0, 2, 1, 3] \
                or not only_to(mha.output[0], rs) or not only_to(rs.output[0], tr):
            return "its result is not Reshape [0,0,H,-1] and Transpose [0,2,1,3] (fuse_attention's)"
        out4, cast = tr.output[0], None
        if len(users.get(out4, [])) == 1 and users[out4][0].op_type == "Cast":
            cast = users[out4][0]
            out4 = cast.output[0]
        mt = [u for u in users.get(out4, []) if u.op_type != "Shape"]
        mr = [u for u in users.get(mt[0].output[0], []) if u.op_type != "Shape"] if len(mt) == 1 else []
        if len(mt) != 1 or mt[0].op_type != "Transpose" or list(attr(mt[0], "perm", [])) != [0, 2, 1, 3] \
                or len(mr) != 1 or mr[0].op_type != "Reshape":
            return f"{out4} is not merged by Transpose [0,2,1,3] and Reshape"
        dims, bn = pieces(mr[0].input[1]), mt[0].output[0]
        if dims is None or len(dims) != 3 or dims[0] not in (0, (out4, 0), (bn, 0)) \
                or dims[1] not in (0, (out4, 2), (bn, 1)) \
                or not (shape_only(out4, mr[0], mt[0]) and shape_only(bn, mr[0])):
            return f"{mr[0].output[0]} is not [B,N,H*D] of {out4}, or a value on the way is read elsewhere"
        merged = mr[0].output[0]
        p = f"{mr[0].name.rsplit('/', 1)[0]}/layout_bsnh_{k}" if "/" in mr[0].name else f"layout_bsnh_{k}"
        nodes, drop, changed, made, writes = {}, set(), set(), {}, []
        new, flat = [], []
        for qkv, v3 in zip("qkv", mha.input):
            rs = made_by(v3, "Reshape")
            tr = made_by(rs.input[0], "Transpose") if rs is not None else None
            if tr is None or list(attr(tr, "perm", [])) != [0, 2, 1, 3] or ints(rs.input[1]) != [0, 0, -1] \
                    or not only_to(v3, mha) or not only_to(tr.output[0], rs):
                return f"its {qkv} is not Reshape(Transpose(., [0,2,1,3]), [0,0,-1]) (fuse_attention's)"
            x4, reader, rope = tr.input[0], tr, None
            if qkv != "v":
                rope = made_by(x4, "RotaryEmbedding")
                if rope is None or rope.domain != "com.microsoft" or not only_to(x4, tr):
                    return f"its {qkv} is not a com.microsoft RotaryEmbedding's output (--rope fused)"
                x4, reader = rope.input[0], rope
                drop.add(rope.output[0])
            cat = made_by(x4, "Concat")
            if cat is not None and attr(cat, "axis") in (2, -2) and only_to(x4, reader):
                streams = list(cat.input)
                drop.add(cat.output[0])
            else:
                streams = [x4]
            ins = []
            for s in streams:
                h = heads(s) if qkv != "v" else (made_by(s, "Gather"), [])
                if isinstance(h, str) or h[0] is None:
                    return h if isinstance(h, str) else f"its v {s} is not a Gather of the heads"
                ga, region = h
                if not only_to(s, cat if len(streams) > 1 else reader):
                    return f"its {qkv} {s} is read elsewhere"
                src = source(ga, hn)
                if isinstance(src, str):
                    return src
                x, rs5, tr5, part, n = src
                if x not in made:
                    got = parts_of(x, rs5, n)
                    if isinstance(got, str):
                        return got
                    if got[2] in insert or got[2] in nodes:
                        return f"{x} is shared with another attention"
                    made[x] = (got[1], tr5, set())
                    writes.append(got[:3:2])
                    drop.update(got[3])
                names, _, used = made[x]
                if part in used or not 0 <= part < n:
                    return f"{x}'s part {part} is taken twice"
                used.add(part)
                if qkv == "v":
                    ins.append(names[part])
                    continue
                # The Gather becomes a Reshape of the part to [B,N,H,D], under
                # the Gather's name: the norm's nodes read it as they are.
                nodes[ga.output[0]] = [helper.make_node("Reshape", [names[part], f"layout_bsnh_heads{hn}"],
                                                         [ga.output[0]], name=f"{p}/{qkv}{len(ins)}_heads")]
                changed.update([ga.output[0], *(o for n in region for o in n.output)])
                new.append(helper.make_node("Reshape", [s, "layout_bsnh_flat"], [f"{p}/{qkv}{len(ins)}"],
                                            name=f"{p}/{qkv}{len(ins)}_flat"))
                ins.append(new[-1].output[0])
            if len(ins) > 1:
                new.append(helper.make_node("Concat", ins, [f"{p}/{qkv}"], name=f"{p}/{qkv}_concat", axis=1))
                ins = [new[-1].output[0]]
            if rope is not None:
                r = helper.make_node("RotaryEmbedding", [ins[0], *rope.input[1:]], [f"{p}/{qkv}_rope"],
                                     domain="com.microsoft", name=f"{p}/{qkv}_rope")
                r.attribute.extend(a for a in rope.attribute if a.name != "num_heads")
                r.attribute.append(helper.make_attribute("num_heads", hn))
                new.append(r)
                ins = [r.output[0]]
            flat.append(ins[0])
        for x, (names, tr5, used) in made.items():
            if len(used) != len(names) or len(users.get(tr5.output[0], [])) != len(names):
                return f"not all of {x}'s parts go into this attention"
        op = helper.make_node("MultiHeadAttention", flat, [merged if cast is None else f"{p}/o"],
                              domain="com.microsoft", name=p)
        op.attribute.extend(mha.attribute)
        new.append(op)
        if cast is not None:
            new.append(helper.make_node("Cast", [f"{p}/o"], [merged], to=attr(cast, "to"), name=f"{p}/o_cast"))
        nodes[merged] = new
        drop.add(mha.output[0])
        for j, (write, key) in enumerate(writes):
            nodes[key] = write(f"{p}/x{j}")
        return nodes, drop, changed

    mhas = [n for n in g.node if n.op_type == "MultiHeadAttention" and n.domain == "com.microsoft"]
    insert, drop, changed, kept, why = {}, set(), set(), 0, ""
    for mha in mhas:
        m = match(mha, kept)
        if isinstance(m, str):
            why = why or f"{mha.name}: {m}"
            continue
        insert.update(m[0])
        drop.update(m[1])
        changed.update(m[2])
        kept += 1
    if not kept:
        return 0, len(mhas), why
    for hn in {attr(n, "num_heads") for v in insert.values() for n in v if n.op_type == "MultiHeadAttention"}:
        g.initializer.append(numpy_helper.from_array(np.array([0, 0, hn, -1], dtype=np.int64),
                                                     f"layout_bsnh_heads{hn}"))
    g.initializer.append(numpy_helper.from_array(np.array([0, 0, -1], dtype=np.int64), "layout_bsnh_flat"))
    keep = [v for v in g.value_info if v.name not in changed]
    del g.value_info[:]
    g.value_info.extend(keep)
    ge.save(insert, drop)
    return kept, len(mhas), why


def rewrites(o):
    """The rewrites the options ask for: a subset of linears, attention,
    gelu, rope, norms, skip-bias, rmsnorm, layout (the transformer's) and groupnorm or
    groupnorm-emulated (the VAE decoder's)."""
    return {k for k, on in (("linears", o.linears == "split"), ("attention", o.attention == "mha"),
                            ("gelu", o.gelu == "fast"), ("rope", o.rope == "fused"), ("norms", o.norms == "fused"),
                            ("rmsnorm", o.rmsnorm == "fused"),
                            ("skip-bias", o.skip_bias == "fused"), ("layout", o.layout == "bsnh"),
                            ("groupnorm", o.groupnorm == "fused"),
                            ("groupnorm-emulated", o.groupnorm == "emulated")) if on}


VAE_REWRITES = {"groupnorm", "groupnorm-emulated"}


def fuse_and_check(path, heads, args, check, which):
    """The rewrites which names (rewrites()): fuse_linears (first: its MLP
    bias Add is then FastGelu's), fuse_attention, fuse_gelu, fuse_rope,
    fuse_norms (the gated branch it recognises may be fuse_linears's sum of
    parts), fuse_skip_bias (on fuse_norms's SkipLayerNormalizations),
    fuse_rmsnorm and layout_bsnh (last: it rewrites what fuse_attention and
    fuse_rope wrote) on the exported model at path. With check (--smoke,
    --check-fused), the plain and the fused model run on args through the
    onnxruntime python package, where present, and must agree."""
    plain = None
    if check:
        plain = os.path.dirname(path) + ".plain"
        shutil.rmtree(plain, ignore_errors=True)
        shutil.copytree(os.path.dirname(path), plain)
    if "linears" in which:
        n, m = fuse_linears(path)
        log(f"  {path}: {n} Linears read through a Split and {m} through a Concat written per part")
        if n + m == 0:
            raise RuntimeError(f"--linears split: no Linear of {path} matched")
    if "attention" in which:
        n, total, why = fuse_attention(path, heads)
        log(f"  {path}: {n} of {total} attentions (Softmax nodes) fused into com.microsoft MultiHeadAttention")
        if why:
            log(f"  not fused: {why}")
        if n == 0:
            # Session 6's fp16 exports matched none (fp32 smoke ones did): say
            # so, with the chain that did not match, rather than write a plain
            # model as a fused one.
            raise RuntimeError(f"--attention mha: no attention of {path} matched the fused pattern")
    def simple(key, flag, fn, said, what):  # a rewrite that returns (rewritten, candidates)
        if key in which:
            n, total = fn(path)
            log(f"  {path}: " + said.format(n=n, total=total))
            if n == 0:
                raise RuntimeError(f"{flag}: no {what} of {path} matched")

    simple("gelu", "--gelu fast", fuse_gelu, "{n} tanh GELUs (of {total} Tanh nodes) fused into com.microsoft FastGelu",
           "GELU")
    simple("rope", "--rope fused", fuse_rope, "{n} of {total} RoPE modules fused into com.microsoft RotaryEmbedding",
           "RoPE")
    if "norms" in which:
        n, k, total = fuse_norms(path)
        log(f"  {path}: {n} of {total} modulated norms fused ({k} with their residual) into LayerNormalization "
            "and com.microsoft SkipLayerNormalization")
        if n == 0:
            raise RuntimeError(f"--norms fused: no modulated norm of {path} matched")
    simple("skip-bias", "--skip-bias fused (after --norms fused)", fuse_skip_bias,
           "{n} of {total} SkipLayerNormalizations take their branch's Linear bias (gate·b) as their own",
           "SkipLayerNormalization")
    simple("rmsnorm", "--rmsnorm fused", fuse_rmsnorm,
           "{n} RMSNorms (of {total} Pow(x, 2) nodes) fused into SimplifiedLayerNormalization", "RMSNorm")
    if "layout" in which:
        if not {"attention", "rope"} <= which:
            raise RuntimeError("--layout bsnh needs --attention mha and --rope fused")
        n, total, why = layout_bsnh(path)
        log(f"  {path}: {n} of {total} attentions kept in [B,N,H*D] (--layout bsnh)")
        if why:
            log(f"  left alone: {why}")
        if n == 0:
            raise RuntimeError(f"--layout bsnh: no attention of {path} matched")
    if which & VAE_REWRITES:
        n, total = fuse_groupnorm(path, emulate="groupnorm-emulated" in which)
        log(f"  {path}: {n} of {total} GroupNorms (InstanceNormalization nodes) fused into com.microsoft GroupNorm")
        if n == 0:
            raise RuntimeError(f"--groupnorm fused: no GroupNorm of {path} matched")
    if plain is None:
        return
    try:
        check_fused(plain, path, args)
    finally:
        shutil.rmtree(plain, ignore_errors=True)


def check_fused(plain, path, args):
    """Run the plain copy (folder plain) and the fused model at path on args
    through the onnxruntime python package, where present; raise if they
    differ by 1e-2 of the plain output's largest value or more."""
    try:
        import onnxruntime as ort
    except ImportError:
        log("  fuse check skipped: no onnxruntime python package")
        return
    import numpy as np
    # The CPU provider's MultiHeadAttention is float32 only: fp16/bf16
    # models are checked on the CUDA provider where this package has it.
    providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
    sess = [ort.InferenceSession(os.path.join(d, os.path.basename(path)), providers=providers)
            for d in (plain, os.path.dirname(path))]
    feed = {i.name: a.detach().cpu().numpy() for i, a in zip(sess[0].get_inputs(), args)}
    try:
        a, b = (x.run(None, feed)[0].astype(np.float64) for x in sess)
    except Exception as e:  # noqa: BLE001 - the CPU provider may lack a type
        log(f"  fuse check could not run on {providers}: {str(e)[:300]}")
        return
    err = float(np.abs(a - b).max() / (np.abs(a).max() + 1e-12))
    log(f"  fuse check on {providers[0]}: fused vs plain max |diff| / max |plain| = {err:.2e}")
    if not err < 1e-2:
        raise RuntimeError(f"fused attention changed the output of {path} by {err:.2e}")


def fuse_copy(src, dst, heads, which):
    """The fused variant of the exported model folder src in dst: model.onnx
    copied and rewritten (fuse_and_check's which), every other file (the weights)
    hard-linked, so a full-depth transformer is exported once for both
    variants. Not symlinked: ONNX Runtime refuses external data whose
    resolved path leaves the model's folder. Across file systems the
    weights are copied."""
    os.makedirs(dst, exist_ok=True)
    for f in os.listdir(src):
        a, b = os.path.join(src, f), os.path.join(dst, f)
        if f == "model.onnx" or os.path.lexists(b):
            continue
        try:
            os.link(a, b)
        except OSError as e:
            log(f"  {b}: no hard link ({e}); copying")
            shutil.copyfile(a, b)
    shutil.copyfile(os.path.join(src, "model.onnx"), os.path.join(dst, "model.onnx"))
    fuse_and_check(os.path.join(dst, "model.onnx"), heads, None, False, which)


def deepen(src, dst, want, sources):
    """The plain exported transformer (or T5) of the folder src, made deeper
    in dst by repeating its last block of each kind: want maps a ModuleList's
    name ("doubles", "singles"; T5's "layers") to the number of blocks dst
    has; sources names the graph inputs the blocks' activations come from. Each repeat is the
    last block's nodes (the TorchScript exporter names them /doubles.K/...),
    reading the previous repeat's outputs where the last block read the block
    before it, with its own copy of the weights that only that block reads
    (bytes copied in the data file, so each repeat has its own weights on the
    device, as a full export has); constants it shares with other blocks stay
    shared. A full-depth export takes about 8 minutes and 22 GB of writing
    through the exporter; this takes the time of copying the weights. The
    graph is the exported block's, so ONNX Runtime runs what a full export
    would give it; the repeated weights are random either way.
    --tie-after exports what it must compute: the extra blocks run the last
    one's module again."""
    import onnx
    sm = os.path.join(src, "model.onnx")
    m = onnx.load(sm, load_external_data=False)
    g = m.graph
    files = {kv.value for t in g.initializer for kv in t.external_data if kv.key == "location"}
    if len(files) > 1:
        raise RuntimeError(f"{sm}: weights in {len(files)} files; deepen reads one (an export of this script)")
    os.makedirs(dst, exist_ok=True)
    data = files.pop() if files else None
    files = contextlib.ExitStack()
    if data:
        shutil.copyfile(os.path.join(src, data), os.path.join(dst, data))
        fi = files.enter_context(open(os.path.join(src, data), "rb"))
        fo = files.enter_context(open(os.path.join(dst, data), "r+b"))
    nodes = list(g.node)
    readers = {}
    for n in nodes:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    prod = {o: n for n in nodes for o in n.output}
    inits = {t.name: t for t in g.initializer}
    outputs = {o.name for o in g.output}
    act = set(sources)  # and what depends on them
    for n in nodes:
        if any(i in act for i in n.input):
            act.update(n.output)
    for kind, total in want.items():
        have = 1 + max((int(n.name.split("/")[1].split(".")[1]) for n in nodes
                        if n.name.startswith(f"/{kind}.")), default=-1)
        if total <= have:
            log(f"  {kind}: {have} blocks, {total} asked: left as they are")
            continue
        if have < 2:
            raise RuntimeError(f"{sm}: {have} {kind} blocks; deepen needs 2 (the stream between two blocks)")
        last, prev = f"/{kind}.{have - 1}/", f"/{kind}.{have - 2}/"
        block = [n for n in nodes if n.name.startswith(last)]
        inside = {o for n in block for o in n.output}
        ids = {id(n) for n in block}
        # What the block hands on (read after it) and what it reads of the
        # block before: the same activations one block apart, paired by name.
        # Values that do not depend on the activations (silu(vec), the RoPE
        # tables' casts) the exporter computes once and shares between
        # blocks: the repeats share them too.
        out = sorted(v for v in inside if v in act and
                     (v in outputs or any(id(r) not in ids for r in readers.get(v, []))))
        by_name = {(n.name, k): o for n in block for k, o in enumerate(n.output)}
        stream = {}
        for n in block:
            for i in n.input:
                p = prod.get(i)
                if p is not None and i in act and p.name.startswith(prev):
                    twin = by_name.get((last + p.name[len(prev):], list(p.output).index(i)))
                    if twin is None:
                        raise RuntimeError(f"{sm}: {i} (read by {n.name}) has no twin in {last}")
                    stream[i] = twin
        if sorted(set(stream.values())) != out:
            raise RuntimeError(f"{sm}: {last} hands on {out} but reads {sorted(stream)} of {prev}")
        own = sorted({i for n in block for i in n.input if i in inits
                      and all(id(r) in ids for r in readers[i])})

        def name_in(v, j):
            return v.replace(last, f"/{kind}.{have - 1 + j}/", 1) if v.startswith(last) else f"{v}.deep{j}"
        made = []
        for j in range(1, total - have + 1):
            for t in own:
                c = onnx.TensorProto()
                c.CopyFrom(inits[t])
                c.name = name_in(t, j)
                if c.data_location == onnx.TensorProto.EXTERNAL:
                    kv = {e.key: e for e in c.external_data}
                    if "offset" not in kv:  # offset 0 may go unwritten
                        kv["offset"] = c.external_data.add(key="offset", value="0")
                    chunks = read_range(fi, int(kv["offset"].value), int(kv["length"].value))
                    kv["offset"].value = str(append_aligned(fo, chunks))
                g.initializer.append(c)
            for n in block:
                c = onnx.NodeProto()
                c.CopyFrom(n)
                c.name = name_in(n.name, j)
                for k, i in enumerate(c.input):
                    if i in inside or i in own:
                        c.input[k] = name_in(i, j)
                    elif i in stream:
                        c.input[k] = stream[i] if j == 1 else name_in(stream[i], j - 1)
                for k, o in enumerate(c.output):
                    c.output[k] = name_in(o, j)
                made.append(c)
        k = total - have
        for n in nodes:  # what read the last block's outputs reads the last repeat's
            if id(n) not in ids:
                for q, i in enumerate(n.input):
                    if i in out:
                        n.input[q] = name_in(i, k)
        for o in g.output:
            if o.name in out:
                raise RuntimeError(f"{sm}: graph output {o.name} is made in {last}")
        at = max(q for q, n in enumerate(nodes) if id(n) in ids) + 1
        nodes[at:at] = made
        log(f"  {kind}: {have} blocks repeated to {total} (the last one {total - have} times: "
            f"{len(block)} nodes, {len(own)} weights each)")
    files.close()
    keep = [onnx.NodeProto() for _ in nodes]  # copies: the old ones go with the field's clearing
    for c, n in zip(keep, nodes):
        c.CopyFrom(n)
    del g.node[:]
    g.node.extend(keep)
    m.metadata_props.add(key="splatbench.deepened", value=",".join(f"{k}={v}" for k, v in want.items()))
    if data:
        onnx.save(m, os.path.join(dst, "model.onnx"))
    else:
        # Weights inside the source (an export under 2 GB, as T5 with 2
        # layers): repeated, they pass protobuf's 2 GB, so they go to one file.
        onnx.save_model(m, os.path.join(dst, "model.onnx"), save_as_external_data=True,
                        all_tensors_to_one_file=True, location="model.onnx_data", size_threshold=1024)
    check_by_path(os.path.join(dst, "model.onnx"))


def lin(i, o, bias=True):
    m = nn.Linear(i, o, bias=bias)
    nn.init.normal_(m.weight, std=0.02)
    if bias:
        # Not zeros: a check of a rewrite that drops a bias must see it.
        nn.init.normal_(m.bias, std=0.02)
    return m


class RMS(nn.Module):
    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.w = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        if x.dtype == torch.bfloat16:
            # In float32, as Black Forest Labs' RMSNorm computes it for
            # every dtype; ONNX Runtime 1.29 has no bf16 ReduceMean kernel on
            # any provider, so a bf16 norm opens no session. fp16 keeps the
            # graph that session 9's timings were taken on.
            y = x.float()
            return (y * torch.rsqrt(y.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype) * self.w
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w


def attention(q, k, v, bias=None, scale=None):
    """Attention of q, k, v [B,H,N,D] with the heads merged: [B,N,H*D]."""
    return merge(plain_attention(q, k, v, bias, scale))


def plain_attention(q, k, v, bias=None, scale=None):
    """Plain attention [B,H,N,D]: MatMul, Softmax, MatMul, as exporters write it.
    scale is a Python float: one computed from q.shape (session 6's exports)
    is traced as shape arithmetic in float32, and the TorchScript exporter then
    casts the fp16 scores to float32 for it, so the plain graph ran its
    softmax over [24, N, N] float32 scores."""
    s = q @ k.transpose(-1, -2)
    if scale is not None:
        s = s * scale
    if bias is not None:
        s = s + bias
    return torch.softmax(s, dim=-1) @ v


def merge(x):  # [B,H,N,D] -> [B,N,H*D]
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


# ---------------------------------------------------------------- FLUX ----


def rope(ids, axes, theta=10000.0):
    """cos, sin [N, sum(axes)/2] from position ids [N, len(axes)] (float32)."""
    angles = []
    for i, d in enumerate(axes):
        omega = 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float32, device=ids.device) / d)
        angles.append(ids[:, i:i + 1] * omega[None])
    a = torch.cat(angles, dim=-1)
    return torch.cos(a), torch.sin(a)


class Rope(nn.Module):
    """x [B,H,N,D] rotated pairwise by cos/sin [N,D/2]. A module so that the
    exporter names its nodes .../rope_q/..., which fuse_rope finds."""

    def forward(self, x, cos, sin):
        b, h, n, d = x.shape
        x = x.reshape(b, h, n, d // 2, 2)
        x0, x1 = x[..., 0], x[..., 1]
        c, s = cos.to(x.dtype), sin.to(x.dtype)
        return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1).reshape(b, h, n, d)


def heads(x, n, h):
    """[B,N,n*H*D] -> n tensors [B,H,N,D]."""
    b, t, c = x.shape
    x = x.reshape(b, t, n, h, c // (n * h)).permute(2, 0, 3, 1, 4)
    return [x[i] for i in range(n)]


class DoubleBlock(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        for s in ("img", "txt"):
            setattr(self, s + "_mod", lin(d, 6 * d))
            setattr(self, s + "_qkv", lin(d, 3 * d))
            setattr(self, s + "_qn", RMS(d // h))
            setattr(self, s + "_kn", RMS(d // h))
            setattr(self, s + "_proj", lin(d, d))
            setattr(self, s + "_mlp", nn.Sequential(lin(d, 4 * d), nn.GELU(approximate="tanh"), lin(4 * d, d)))
        self.ln = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.rope_q, self.rope_k = Rope(), Rope()
        self.scale = (d // h) ** -0.5

    def forward(self, img, txt, vec, cos, sin):
        sv = F.silu(vec)
        im = self.img_mod(sv)[:, None].chunk(6, dim=-1)
        tm = self.txt_mod(sv)[:, None].chunk(6, dim=-1)
        iq, ik, iv = heads(self.img_qkv(self.ln(img) * (1 + im[1]) + im[0]), 3, self.h)
        tq, tk, tv = heads(self.txt_qkv(self.ln(txt) * (1 + tm[1]) + tm[0]), 3, self.h)
        q = torch.cat([self.txt_qn(tq), self.img_qn(iq)], dim=2)
        k = torch.cat([self.txt_kn(tk), self.img_kn(ik)], dim=2)
        v = torch.cat([tv, iv], dim=2)
        q, k = self.rope_q(q, cos, sin), self.rope_k(k, cos, sin)
        a = attention(q, k, v, scale=self.scale)
        s = txt.shape[1]
        ta, ia = a[:, :s], a[:, s:]
        img = img + im[2] * self.img_proj(ia)
        img = img + im[5] * self.img_mlp(self.ln(img) * (1 + im[4]) + im[3])
        txt = txt + tm[2] * self.txt_proj(ta)
        txt = txt + tm[5] * self.txt_mlp(self.ln(txt) * (1 + tm[4]) + tm[3])
        return img, txt


class SingleBlock(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h, self.d = h, d
        self.mod = lin(d, 3 * d)
        self.lin1 = lin(d, 3 * d + 4 * d)
        self.lin2 = lin(d + 4 * d, d)
        self.qn, self.kn = RMS(d // h), RMS(d // h)
        self.ln = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.act = nn.GELU(approximate="tanh")
        self.rope_q, self.rope_k = Rope(), Rope()
        self.scale = (d // h) ** -0.5

    def forward(self, x, vec, cos, sin):
        shift, scale, gate = self.mod(F.silu(vec))[:, None].chunk(3, dim=-1)
        qkv, mlp = torch.split(self.lin1(self.ln(x) * (1 + scale) + shift), [3 * self.d, 4 * self.d], dim=-1)
        q, k, v = heads(qkv, 3, self.h)
        q, k = self.rope_q(self.qn(q), cos, sin), self.rope_k(self.kn(k), cos, sin)
        a = attention(q, k, v, scale=self.scale)
        return x + gate * self.lin2(torch.cat([a, self.act(mlp)], dim=-1))


class FluxTransformer(nn.Module):
    def __init__(self, d=3072, h=24, n_double=19, n_single=38, axes=(16, 56, 56)):
        super().__init__()
        self.axes = axes
        self.img_in = lin(64, d)
        self.txt_in = lin(4096, d)
        self.time_in = nn.Sequential(lin(256, d), nn.SiLU(), lin(d, d))
        self.vector_in = nn.Sequential(lin(768, d), nn.SiLU(), lin(d, d))
        self.doubles = nn.ModuleList(DoubleBlock(d, h) for _ in range(n_double))
        self.singles = nn.ModuleList(SingleBlock(d, h) for _ in range(n_single))
        self.final_mod = lin(d, 2 * d)
        self.final_ln = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.final = lin(d, 64)

    def forward(self, hidden_states, encoder_hidden_states, pooled_projections, timestep, img_ids, txt_ids):
        dt = hidden_states.dtype
        img = self.img_in(hidden_states)
        txt = self.txt_in(encoder_hidden_states)
        half = 128
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=img.device) / half)
        ang = timestep.float()[:, None] * 1000.0 * freqs[None]
        temb = torch.cat([torch.cos(ang), torch.sin(ang)], dim=-1).to(dt)
        vec = self.time_in(temb) + self.vector_in(pooled_projections)
        cos, sin = rope(torch.cat([txt_ids, img_ids], dim=0), self.axes)
        for b in self.doubles:
            img, txt = b(img, txt, vec, cos, sin)
        x = torch.cat([txt, img], dim=1)
        for b in self.singles:
            x = b(x, vec, cos, sin)
        x = x[:, txt.shape[1]:]
        shift, scale = self.final_mod(F.silu(vec))[:, None].chunk(2, dim=-1)
        return self.final(self.final_ln(x) * (1 + scale) + shift)


class Block(nn.Module):
    """Pre-LN transformer layer (CLIP): attention with biases, MLP with quick-GELU."""

    def __init__(self, d, h, mlp):
        super().__init__()
        self.h = h
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.out = lin(d, 3 * d), lin(d, d)
        self.fc1, self.fc2 = lin(d, mlp), lin(mlp, d)
        self.scale = (d // h) ** -0.5

    def forward(self, x, mask=None):
        q, k, v = heads(self.qkv(self.ln1(x)), 3, self.h)
        x = x + self.out(attention(q, k, v, bias=mask, scale=self.scale))
        y = self.fc1(self.ln2(x))
        return x + self.fc2(y * torch.sigmoid(1.702 * y))


class CLIPText(nn.Module):
    """CLIP-L text tower. flux=True: (last_hidden_state, pooled) as BFL's
    clip.opt; else (text_embeds = projection of pooled) as Optimum's."""

    def __init__(self, d=768, h=12, layers=12, flux=True):
        super().__init__()
        self.flux = flux
        self.tok = nn.Embedding(49408, d)
        self.pos = nn.Parameter(torch.randn(77, d) * 0.01)
        self.blocks = nn.ModuleList(Block(d, h, 4 * d) for _ in range(layers))
        self.ln = nn.LayerNorm(d)
        self.register_buffer("mask", torch.full((77, 77), -1e4).triu(1), persistent=False)
        if not flux:
            self.proj = lin(d, 768, bias=False)

    def forward(self, input_ids):
        s = input_ids.shape[1]
        x = self.tok(input_ids) + self.pos[:s]
        m = self.mask[:s, :s].to(x.dtype)
        for b in self.blocks:
            x = b(x, m)
        x = self.ln(x)
        pooled = x[torch.arange(x.shape[0], device=x.device), input_ids.argmax(dim=-1)]
        if self.flux:
            return x, pooled
        return self.proj(pooled)


class CLIPVision(nn.Module):
    """CLIP ViT-L/14 image tower at 224 px: image_embeds [B,768]."""

    def __init__(self, d=1024, h=16, layers=24, patch=14, size=224):
        super().__init__()
        self.patch = nn.Conv2d(3, d, patch, patch, bias=False)
        n = (size // patch) ** 2 + 1
        self.cls = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, n, d) * 0.02)
        self.pre, self.post = nn.LayerNorm(d), nn.LayerNorm(d)
        self.blocks = nn.ModuleList(Block(d, h, 4 * d) for _ in range(layers))
        self.proj = lin(d, 768, bias=False)

    def forward(self, pixel_values):
        x = self.patch(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = self.pre(x)
        for b in self.blocks:
            x = b(x)
        return self.proj(self.post(x[:, 0]))


class T5Layer(nn.Module):
    def __init__(self, d, h, ff):
        super().__init__()
        self.h = h
        self.n1, self.n2 = RMS(d), RMS(d)
        self.q, self.k, self.v, self.o = (lin(d, d, bias=False) for _ in range(4))
        self.wi0, self.wi1, self.wo = lin(d, ff, False), lin(d, ff, False), lin(ff, d, False)

    def forward(self, x, bias):
        y = self.n1(x)
        q, k, v = (heads(f(y), 1, self.h)[0] for f in (self.q, self.k, self.v))
        x = x + self.o(attention(q, k, v, bias=bias))
        y = self.n2(x)
        return x + self.wo(F.gelu(self.wi0(y), approximate="tanh") * self.wi1(y))


class T5Encoder(nn.Module):
    def __init__(self, d=4096, h=64, ff=10240, layers=24, seq=256):
        super().__init__()
        self.emb = nn.Embedding(32128, d)
        self.bias = nn.Parameter(torch.randn(1, h, seq, seq) * 0.1)
        self.layers = nn.ModuleList(T5Layer(d, h, ff) for _ in range(layers))
        self.norm = RMS(d)

    def forward(self, input_ids):
        x = self.emb(input_ids)
        for l in self.layers:
            x = l(x, self.bias)
        return self.norm(x)


class ResBlock(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(32, i, eps=1e-6), nn.Conv2d(i, o, 3, padding=1)
        self.n2, self.c2 = nn.GroupNorm(32, o, eps=1e-6), nn.Conv2d(o, o, 3, padding=1)
        self.skip = nn.Conv2d(i, o, 1) if i != o else nn.Identity()

    def forward(self, x):
        y = self.c1(F.silu(self.n1(x)))
        return self.skip(x) + self.c2(F.silu(self.n2(y)))


class AttnBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n = nn.GroupNorm(32, c, eps=1e-6)
        self.qkv, self.out = lin(c, 3 * c), lin(c, c)

    def forward(self, x):
        b, c, h, w = x.shape
        y = self.n(x).flatten(2).transpose(1, 2)
        q, k, v = heads(self.qkv(y), 3, 1)
        y = self.out(attention(q, k, v, scale=c ** -0.5))
        return x + y.transpose(1, 2).reshape(b, c, h, w)


class VAEDecoder(nn.Module):
    def __init__(self, ch=(128, 256, 512, 512), per=3, z=16):
        super().__init__()
        top = ch[-1]
        self.conv_in = nn.Conv2d(z, top, 3, padding=1)
        self.mid = nn.Sequential(ResBlock(top, top), AttnBlock(top), ResBlock(top, top))
        ups, c = [], top
        for i, o in enumerate(reversed(ch)):
            blocks = []
            for _ in range(per):
                blocks.append(ResBlock(c, o))
                c = o
            if i < len(ch) - 1:
                blocks.append(nn.Upsample(scale_factor=2, mode="nearest"))
                blocks.append(nn.Conv2d(c, c, 3, padding=1))
            ups.append(nn.Sequential(*blocks))
        self.up = nn.Sequential(*ups)
        self.norm = nn.GroupNorm(32, c, eps=1e-6)
        self.conv_out = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, latent):
        x = self.conv_in(latent / 0.3611 + 0.1159)
        x = self.up(self.mid(x))
        return self.conv_out(F.silu(self.norm(x)))


# -------------------------------------------------------------- writers ----


def copy_tokenizers(dst, clip_name, t5_name=None):
    shutil.copytree(os.path.join(TOKENIZERS, "clip"), os.path.join(dst, clip_name), dirs_exist_ok=True)
    if t5_name:
        shutil.copytree(os.path.join(TOKENIZERS, "t5"), os.path.join(dst, t5_name), dirs_exist_ok=True)


def build(cls, dt, *a, **kw):
    torch.manual_seed(0)
    if hasattr(torch.device, "__enter__"):  # torch 2: weights made on the device
        with torch.device(dev()):
            m = cls(*a, **kw)
    else:  # torch 1.13 (Debian's, for CPU checks)
        m = cls(*a, **kw).to(dev())
    return m.to(dt).eval()


def dev():
    return "cuda" if torch.cuda.is_available() else "cpu"


# ------------------------------------------------------------- BiRefNet ----


class SwinBlock(nn.Module):
    """Swin Transformer block: windowed attention (window w, shifted by w/2
    in odd blocks, a learned bias per head over the window's token pairs in
    place of the gathered relative-position table), MLP x4."""

    def __init__(self, d, h, w, shift):
        super().__init__()
        self.h, self.w, self.shift = h, w, shift
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = lin(d, 3 * d), lin(d, d)
        self.bias = nn.Parameter(torch.randn(1, h, w * w, w * w) * 0.02)
        self.mlp = nn.Sequential(lin(d, 4 * d), nn.GELU(), lin(4 * d, d))
        self.scale = (d // h) ** -0.5

    def forward(self, x, H, W):
        b, n, c = x.shape
        w, s = self.w, self.w // 2 if self.shift else 0
        y = self.ln1(x).reshape(b, H, W, c)
        if s:
            y = torch.roll(y, (-s, -s), (1, 2))
        y = y.reshape(b, H // w, w, W // w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, w * w, c)
        q, k, v = heads(self.qkv(y), 3, self.h)
        y = self.proj(attention(q, k, v, bias=self.bias, scale=self.scale))
        y = y.reshape(b, H // w, W // w, w, w, c).permute(0, 1, 3, 2, 4, 5).reshape(b, H, W, c)
        if s:
            y = torch.roll(y, (s, s), (1, 2))
        x = x + y.reshape(b, n, c)
        return x + self.mlp(self.ln2(x))


class SwinL(nn.Module):
    """Swin-L (patch 4, dims 192/384/768/1536, depths 2/2/18/2, heads
    6/12/24/48): the four stages' feature maps [B,C,H/4..H/32]. Windows of
    16 where Swin-L has 12, so that they tile 1024² and 512² inputs without
    padding (the attention's share of the time grows by the window area,
    16²/12² on its score matrices)."""

    def __init__(self, d=192, depths=(2, 2, 18, 2), heads=(6, 12, 24, 48), w=16):
        super().__init__()
        self.patch = nn.Conv2d(3, d, 4, 4)
        self.stages, self.merges, self.norms = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i, (n, h) in enumerate(zip(depths, heads)):
            c = d * 2 ** i
            self.stages.append(nn.ModuleList(SwinBlock(c, h, w, j % 2 == 1) for j in range(n)))
            self.norms.append(nn.LayerNorm(c))
            self.merges.append(nn.Sequential(nn.LayerNorm(4 * c), lin(4 * c, 2 * c, bias=False)) if i < 3 else nn.Identity())

    def forward(self, x):
        x = self.patch(x)
        b, c, H, W = x.shape
        x = x.flatten(2).transpose(1, 2)
        feats = []
        for i, blocks in enumerate(self.stages):
            for blk in blocks:
                x = blk(x, H, W)
            feats.append(self.norms[i](x).transpose(1, 2).reshape(b, -1, H, W))
            if i < 3:
                g = x.reshape(b, H, W, -1)
                g = torch.cat([g[:, 0::2, 0::2], g[:, 1::2, 0::2], g[:, 0::2, 1::2], g[:, 1::2, 1::2]], dim=-1)
                H, W = H // 2, W // 2
                x = self.merges[i](g.reshape(b, H * W, -1))
        return feats


def conv_bn(i, o, k=3):
    return nn.Sequential(nn.Conv2d(i, o, k, padding=k // 2), nn.BatchNorm2d(o), nn.ReLU())


class BiRefNetLike(nn.Module):
    """BiRefNet's shape (its Swin-L configuration, as BRIA's RMBG-2.0 ONNX
    export): the backbone on the 1024² image and again on its 512² copy,
    the two feature pyramids concatenated per level, and a top-down decoder
    of 3x3 conv blocks with lateral connections to a sigmoid alpha at full
    size. pixel_values [B,3,1024,1024] -> alphas [B,1,1024,1024]. Its
    decoder is simpler than BiRefNet's (no deformable ASPP, no gradient
    attention): the backbone holds most of the parameters and time."""

    def __init__(self, d=192, depths=(2, 2, 18, 2), heads=(6, 12, 24, 48), dec=(768, 384, 192, 96), w=16):
        super().__init__()
        self.enc = SwinL(d, depths, heads, w)
        chans = [2 * d * 2 ** i for i in range(4)]  # both scales concatenated
        self.lat = nn.ModuleList(nn.Conv2d(c, o, 1) for c, o in zip(reversed(chans), dec))
        self.blocks = nn.ModuleList(nn.Sequential(conv_bn(o, o), conv_bn(o, o)) for o in dec)
        self.up = nn.ModuleList(nn.Conv2d(i, o, 1) for i, o in zip(dec[:-1], dec[1:]))
        self.head = nn.Sequential(conv_bn(dec[-1], 32), nn.Conv2d(32, 1, 1))

    def forward(self, pixel_values):
        f1 = self.enc(pixel_values)
        half = F.interpolate(pixel_values, scale_factor=0.5, mode="bilinear", align_corners=False)
        f2 = self.enc(half)
        feats = [torch.cat([a, F.interpolate(b, size=a.shape[-2:], mode="bilinear", align_corners=False)], dim=1)
                 for a, b in zip(f1, f2)]
        x = None
        for i, f in enumerate(reversed(feats)):
            y = self.lat[i](f)
            if x is not None:
                y = y + F.interpolate(self.up[i - 1](x), size=y.shape[-2:], mode="bilinear", align_corners=False)
            x = self.blocks[i](y)
        x = F.interpolate(x, size=pixel_values.shape[-2:], mode="bilinear", align_corners=False)
        return torch.sigmoid(self.head(x))


def write_birefnet(out, dt, o):
    small = o.smoke
    m = build(BiRefNetLike, dt, **(dict(d=32, depths=(1, 1, 1, 1), heads=(2, 2, 2, 2), dec=(32, 32, 32, 32), w=4)
                                    if small else {}))
    export(m, (torch.randn(1, 3, 1024, 1024, device=dev(), dtype=dt),), os.path.join(out, "matte", "birefnet", "model.onnx"),
           ["pixel_values"], ["alphas"], {"pixel_values": {0: "B"}, "alphas": {0: "B"}})


def write_flux(out, dt, o, parts):
    root = os.path.join(out, "flux")
    S = 256
    small = o.smoke
    if "clip-l" in parts:
        write_clip_l(root, dt, small)
    if "t5" in parts:
        write_t5(root, dt, o, S)
    if "transformer" in parts:
        write_transformer(root, dt, o, S)
    if "vae" in parts:
        m = build(VAEDecoder, dt, **(dict(ch=(32, 32, 32, 32), per=1) if small else {}))
        args = (torch.randn(1, 16, 32, 32, device=dev(), dtype=dt),)
        path = os.path.join(root, "vae.opt", "model.onnx")
        export(m, args, path, ["latent"], ["images"], {"latent": {0: "B", 2: "H", 3: "W"}, "images": {0: "B", 2: "8H", 3: "8W"}})
        if rewrites(o) & VAE_REWRITES:
            fuse_and_check(path, 0, args, small or o.check_fused, rewrites(o) & VAE_REWRITES)
        del m
    copy_tokenizers(root, "tokenizer", "tokenizer_2")


def write_clip_l(root, dt, small):
    # Smoke: one layer at full width, so that the smoke flux/ folder has the
    # stage's signature (pooled [B,768]) and loads in pipeline/flux.
    m = build(CLIPText, dt, **(dict(layers=1) if small else {}))
    export(m, (torch.randint(0, 49408, (1, 77), device=dev()),), os.path.join(root, "clip.opt", "model.onnx"),
           ["input_ids"], ["text_embeddings", "pooled_embeddings"],
           {"input_ids": {0: "B"}, "text_embeddings": {0: "B"}, "pooled_embeddings": {0: "B"}})


def write_t5(root, dt, o, S):
    small = o.smoke
    t = int(o.tie_after.split(",")[2]) if o.tie_after and o.tie_after.count(",") == 2 else o.t5_layers
    m = build(T5Encoder, dt, **(dict(d=64, h=2, ff=128, layers=t) if small else dict(layers=t)))
    m.layers.extend([m.layers[-1]] * (o.t5_layers - t))  # --tie-after
    if small:
        m.out = lin(64, 4096).to(dev(), dt)
        m.norm = nn.Sequential(m.norm, m.out)
    args, path = (torch.randint(0, 32128, (1, S), device=dev()),), os.path.join(root, "t5.opt", "model.onnx")
    export(m, args, path, ["input_ids"], ["text_embeddings"], {"input_ids": {0: "B"}, "text_embeddings": {0: "B"}})
    if o.gelu == "fast":
        fuse_and_check(path, 0, args, small or o.check_fused, {"gelu"})
    log(f"  t5: {o.t5_layers} of 24 layers: scale the layer time by {24 / o.t5_layers:.2f}")
    del m
    torch.cuda.empty_cache()


def transformer_inputs(side, S, dt):
    """One step's inputs for a side×side latent grid (L = side² tokens) and
    S text tokens: random latents, text and pooled vectors, timestep 0.75,
    the grid's image ids."""
    L = side * side
    ids = torch.zeros(L, 3, device=dev())
    ids[:, 1] = torch.arange(L, device=dev()).div(side, rounding_mode="floor").float()
    ids[:, 2] = torch.arange(L, device=dev()).remainder(side).float()
    return (torch.randn(1, L, 64, device=dev(), dtype=dt), torch.randn(1, S, 4096, device=dev(), dtype=dt),
            torch.randn(1, 768, device=dev(), dtype=dt), torch.full((1,), 0.75, device=dev(), dtype=dt),
            ids, torch.zeros(S, 3, device=dev()))


def write_transformer(root, dt, o, S):
    small = o.smoke
    args = transformer_inputs(8 if small else 32, S, dt)
    d, s = (int(v) for v in o.tie_after.split(",")[:2]) if o.tie_after else (o.double, o.single)
    m = build(FluxTransformer, dt, n_double=d, n_single=s, **(dict(d=96, h=2, axes=(16, 16, 16)) if small else {}))
    # --tie-after: the D + S model (its weights those of a D + S export),
    # its last blocks run again up to --double/--single.
    m.doubles.extend([m.doubles[-1]] * (o.double - len(m.doubles)))
    m.singles.extend([m.singles[-1]] * (o.single - len(m.singles)))
    path = os.path.join(root, "transformer.opt", "model.onnx")
    export(m, args, path,
           ["hidden_states", "encoder_hidden_states", "pooled_projections", "timestep", "img_ids", "txt_ids"],
           ["latent"],
           {"hidden_states": {0: "B", 1: "L"}, "encoder_hidden_states": {0: "B"},
            "pooled_projections": {0: "B"}, "timestep": {0: "B"}, "img_ids": {0: "L"},
            "latent": {0: "B", 1: "L"}})
    if rewrites(o) - VAE_REWRITES:
        fuse_and_check(path, 2 if small else 24, args, small or o.check_fused, rewrites(o) - VAE_REWRITES)
    if o.fp32_ops:
        k = fp32_islands(path, set(o.fp32_ops.split(",")))
        log(f"  {path}: {k} nodes of {o.fp32_ops} run in float32 (--fp32-ops)")
    scale = (19 * 339.8 + 38 * 141.6) / (o.double * 339.8 + o.single * 141.6)  # block parameters, millions
    log(f"  transformer: {o.double} of 19 double + {o.single} of 38 single blocks; "
        f"the blocks' time scales by {scale:.2f} to full depth")
    del m
    torch.cuda.empty_cache()


def write_clip(out, dt, o):
    root = os.path.join(out, "clip")
    small = o.smoke
    m = build(CLIPText, dt, flux=False, **(dict(d=64, h=2, layers=1) if small else {}))
    export(m, (torch.randint(0, 49408, (1, 77), device=dev()),), os.path.join(root, "text", "text_model.onnx"),
           ["input_ids"], ["text_embeds"], {"input_ids": {0: "B", 1: "S"}, "text_embeds": {0: "B"}})
    m = build(CLIPVision, dt, **(dict(d=64, h=2, layers=1) if small else {}))
    args = (torch.randn(2, 3, 224, 224, device=dev(), dtype=dt),)
    path = os.path.join(root, "vision", "vision_model.onnx")
    export(m, args, path, ["pixel_values"], ["image_embeds"], {"pixel_values": {0: "B"}, "image_embeds": {0: "B"}})
    if o.attention == "mha":
        fuse_and_check(path, 2 if small else 16, args, small or o.check_fused, {"attention"})
    # The towers were written to their own folders (external data files of
    # one must not clash with the other's); the stage wants them side by side.
    for sub in ("text", "vision"):
        for f in os.listdir(os.path.join(root, sub)):
            os.replace(os.path.join(root, sub, f), os.path.join(root, f))
        os.rmdir(os.path.join(root, sub))
    copy_tokenizers(root, "tokenizer")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--dtype", choices=["fp16", "bf16", "fp32"], default="fp16",
                    help="fp32 only for checks (--smoke): the CPU provider's fused attention is fp32")
    ap.add_argument("--double", type=int, help="double-stream blocks (19; 1 with --smoke)")
    ap.add_argument("--single", type=int, help="single-stream blocks (38; 1 with --smoke)")
    ap.add_argument("--t5-layers", type=int, help="T5 layers (24; 1 with --smoke)")
    ap.add_argument("--only", default="clip-l,t5,transformer,vae,clip",
                    help="comma-separated parts: clip-l, t5, transformer, vae (the flux/ folder), clip (the scoring towers), "
                         "birefnet (matte/birefnet/, not in the default)")
    ap.add_argument("--attention", choices=["plain", "mha"], default="plain",
                    help="plain: MatMul-Softmax-MatMul; mha: the transformer's and CLIP vision's attentions "
                         "rewritten as ONNX Runtime's fused com.microsoft MultiHeadAttention after the export")
    ap.add_argument("--gelu", choices=["plain", "fast"], default="plain",
                    help="plain: the exporter's elementwise chain; fast: the transformer's and T5's tanh GELUs "
                         "rewritten as ONNX Runtime's com.microsoft FastGelu (one kernel, the bias before it included)")
    ap.add_argument("--rope", choices=["plain", "fused"], default="plain",
                    help="plain: the exporter's elementwise RoPE; fused: the transformer's RoPEs rewritten as "
                         "ONNX Runtime's com.microsoft RotaryEmbedding")
    ap.add_argument("--linears", choices=["plain", "split"], default="plain",
                    help="plain: the single block's Linears as exported; split: each written per part, no Split "
                         "after the first nor Concat before the second (the weights sliced)")
    ap.add_argument("--norms", choices=["plain", "fused"], default="plain",
                    help="plain: the exporter's LayerNorm, then Mul by 1 + scale and Add of shift; fused: the transformer's "
                         "modulated norms rewritten as one LayerNormalization with the run-time scale and shift (batch 1 "
                         "only: ONNX Runtime refuses batch > 1), with the residual Add before it as com.microsoft "
                         "SkipLayerNormalization")
    ap.add_argument("--skip-bias", choices=["plain", "fused"], default="plain",
                    help="plain: the gated branch's Linear bias added over the whole branch; fused: as the bias input of "
                         "the SkipLayerNormalization --norms fused writes (gate·b, batch 1 only)")
    ap.add_argument("--rmsnorm", choices=["plain", "fused"], default="plain",
                    help="plain: the exporter's Pow-ReduceMean-Add-Sqrt-Div-Mul-Mul; fused: the transformer's q/k RMSNorms "
                         "rewritten as one SimplifiedLayerNormalization each (float32 inside)")
    ap.add_argument("--layout", choices=["plain", "bsnh"], default="plain",
                    help="plain: q, k, v brought to [B,H,N,D] for the norm and RoPE and back for the attention; bsnh: "
                         "kept in the Linears' [B,N,H*D] (each part of the qkv Linear its own, the norm on [B,N,H,D], "
                         "RotaryEmbedding's 3-d form, the attention's result merged as it comes): no Transpose copies "
                         "(needs --attention mha and --rope fused)")
    ap.add_argument("--groupnorm", choices=["plain", "fused", "emulated"], default="plain",
                    help="plain: the exporter's Reshape-InstanceNormalization-Reshape-Mul-Add; fused: the VAE decoder's "
                         "GroupNorms (and the SiLU after) rewritten as ONNX Runtime's com.microsoft GroupNorm, NHWC "
                         "between two Transposes (CUDA provider only); emulated: the same rewrite with the op written "
                         "out in standard operators, to check it on a CPU (TestVAEsAgree)")
    ap.add_argument("--fp32-ops", metavar="OP,OP", default="",
                    help="the transformer's nodes of these types that read bf16 values run in float32, cast around "
                         "(for operators ONNX Runtime has no bf16 kernel for; `splatbench models check --provider cuda` names them)")
    ap.add_argument("--check-fused", action="store_true",
                    help="with a rewrite (--attention, --gelu, --rope, --linears, --norms, --skip-bias, --rmsnorm, --layout): run the plain and the rewritten model on the onnxruntime python "
                         "package (CUDA provider where it has one) and fail if they differ by 1e-2 or more")
    ap.add_argument("--fuse-from", metavar="DIR",
                    help="with rewrites (--attention, --gelu, --rope, --linears, --norms, --skip-bias, --rmsnorm, --layout): rewrite the transformer already written under DIR/flux into "
                         "OUT/flux (its graph copied, its weights hard-linked) instead of exporting it again")
    ap.add_argument("--deepen-from", metavar="DIR",
                    help="write OUT/flux/transformer.opt with --double/--single blocks (and t5.opt with --t5-layers, "
                         "for the parts --only names) by repeating the last block of each kind of the plain model under "
                         "DIR/flux (at least 2 of each), each repeat with its own copy of the weights: a full-depth "
                         "graph in the time of copying 22 GB, not an 8-minute export")
    ap.add_argument("--tie-after", metavar="D,S[,T]",
                    help="(checks) the transformer of D + S blocks (and T5 of T layers), its last double and last single "
                         "block (and T5 layer) run again up to --double/--single (--t5-layers), weights shared: what "
                         "--deepen-from of its D + S (T) export must compute")
    ap.add_argument("--smoke", action="store_true")
    o = ap.parse_args()
    if o.layout == "bsnh" and not (o.attention == "mha" and o.rope == "fused"):
        ap.error("--layout bsnh needs --attention mha and --rope fused")
    full = (1, 1, 1) if o.smoke else (19, 38, 24)
    o.double, o.single, o.t5_layers = (v if v is not None else d for v, d in zip((o.double, o.single, o.t5_layers), full))
    if o.deepen_from:
        done = 0
        for name, want, sources in (("transformer", {"doubles": o.double, "singles": o.single},
                                     ("hidden_states", "encoder_hidden_states")),
                                    ("t5", {"layers": o.t5_layers}, ("input_ids",))):
            src = os.path.join(o.deepen_from, "flux", name + ".opt")
            if name in o.only.split(",") and os.path.exists(src):
                dst = os.path.join(o.out, "flux", name + ".opt")
                t0 = time.time()
                deepen(src, dst, want, sources)
                log(f"{dst}: {want} from {src} in {time.time() - t0:.0f} s")
                done += 1
        if not done:
            ap.error(f"--deepen-from {o.deepen_from}: no flux/transformer.opt or flux/t5.opt there of the parts --only names")
        return 0
    if o.fuse_from:
        if not rewrites(o):
            ap.error("--fuse-from needs --attention mha, --gelu fast, --rope fused, --linears split, --norms fused, --skip-bias fused, --rmsnorm fused, --layout bsnh "
                     "or --groupnorm fused|emulated")
        for part, which in (("transformer", rewrites(o) - VAE_REWRITES), ("vae", rewrites(o) & VAE_REWRITES)):
            if which:
                fuse_copy(os.path.join(o.fuse_from, "flux", part + ".opt"), os.path.join(o.out, "flux", part + ".opt"),
                          2 if o.smoke else 24, which)
        return 0
    dt = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[o.dtype]
    global EXPORTERS
    if o.dtype == "bf16":
        EXPORTERS = (True, False)
    log(f"torch {torch.__version__}, device {dev()}, {o.dtype}")
    parts = o.only.split(",")
    if {"clip-l", "t5", "transformer", "vae"} & set(parts):
        write_flux(o.out, dt, o, parts)
    if "clip" in parts:
        write_clip(o.out, dt, o)
    if "birefnet" in parts:
        write_birefnet(o.out, dt, o)


if __name__ == "__main__":
    sys.exit(main())
