#!/usr/bin/env bash
# gpu_models.sh OUT: every model tools/gpu_sweep.sh measures, made with
# tools/make_gpu_models.py on a GPU machine (random weights; docs/perf/ort-gpu.md):
#
#   OUT/m      the reduced set: FLUX's CLIP-L, T5 (2 of 24 layers), the
#              transformer (2 of 19 double + 4 of 38 single blocks), the VAE
#              decoder, and CLIP ViT-L/14 (gpu_sweep.sh's MODELS)
#   OUT/mf     the reduced transformer with ORT's fused operators (MODELS_MHA)
#   OUT/vf     OUT/m's VAE decoder with its GroupNorms fused (MODELS_VAE)
#   OUT/fullp  the transformer at full depth and T5 at 24 layers, deepened from
#              OUT/m (--deepen-from: seconds of copying, not an 8-minute export)
#              (MODELS_FULL_REF)
#   OUT/full   OUT/fullp's transformer with the fused operators, its T5, and
#              OUT/vf's VAE decoder (MODELS_FULL)
#   OUT/fulln  OUT/full with the modulated norms fused too (--norms fused: one
#              LayerNormalization, or SkipLayerNormalization with the residual
#              Add before it; batch 1 only), its T5 and VAE decoder as OUT/full's
#              (a step 1.05x OUT/full's at 1024² on an H100)
#   OUT/fullt  OUT/fulln with q, k and v kept in the Linears' [B,N,H*D] layout
#              (--layout bsnh: each qkv Linear one MatMul per part, the q/k
#              RMSNorm on [B,N,H,D], RotaryEmbedding's 3-d form: no Transpose
#              copies around the attentions), its T5 and VAE decoder as
#              OUT/full's; its qkv columns written again (4.3 GB on top of
#              fulln's 8.6 GB of split weights): a step 1.07x fulln's at 512²,
#              1.04x at 1024² (H100, session 17)
#   OUT/fullr  OUT/fullt with the q/k RMSNorms as one SimplifiedLayerNormalization
#              each (--rmsnorm fused; the graph only, fullt's weights hard-linked):
#              no faster than fullt (ONNX Runtime fuses them itself), kept to
#              say so
#   OUT/fulls  OUT/fullr with each gated branch's Linear bias moved into the
#              SkipLayerNormalization after it (--skip-bias fused; graph only):
#              the fastest full-depth set, 1.01x fullr's (MODELS_FULL for the
#              whole job)
#   OUT/mr     OUT/m's transformer with every rewrite of fullr (2 + 4 blocks:
#              its kernels counted one by one in seconds, MODELS_MHA)
#   OUT/ms     the same with --skip-bias fused too (fulls's rewrites)
#   OUT/bir    BiRefNet's size (link OUT/bir/matte into OUT/m for gpu_sweep.sh)
#   OUT/bf16   the reduced transformer in bf16 (MODELS_BF16)
#
# Each folder is written under a .tmp name and renamed when complete, so a
# measuring script can wait for it (gpu_sweep.sh's WAIT) while the next is
# made. About 50 GB of disk at the end, 13 more with fullt; ONLY (a regular
# expression over the folder names) picks some. Exits 1 if any failed.
set -uo pipefail
O=${1:?usage: gpu_models.sh OUT}
G=(${PYTHON:-python3} "$(dirname "$0")/make_gpu_models.py")
R=(--attention mha --gelu fast --rope fused --linears split)
T0=$SECONDS
rc=0
mkdir -p "$O"
# one NAME ARGS...: OUT/NAME from make_gpu_models.py OUT/NAME.tmp ARGS $EXTRA
# (EXTRA="--smoke --dtype fp32" checks the script on a CPU in seconds).
one() {
	local name=$1
	shift
	[[ -z ${ONLY:-} || $name =~ $ONLY ]] || return 0
	[[ -d $O/$name ]] && { echo "== $name: there"; return 0; }
	rm -rf "$O/$name.tmp"
	# A failure is reported and the next model made (what needs this one fails too).
	"${G[@]}" "$O/$name.tmp" "$@" ${EXTRA:-} || { echo "== $name FAILED at $((SECONDS - T0)) s"; return 1; }
	# The fused full transformer reads the deepened T5 and the fused VAE
	# (the folders' own files are hard links or copies: ONNX Runtime
	# refuses weights outside a model's folder).
	if [[ $name =~ ^full[ntrs]?$ ]]; then
		ln -sfn "$O/fullp/flux/t5.opt" "$O/$name.tmp/flux/t5.opt"
		[[ -d $O/vf/flux/vae.opt ]] && ln -sfn "$O/vf/flux/vae.opt" "$O/$name.tmp/flux/vae.opt"
	fi
	mv "$O/$name.tmp" "$O/$name"
	echo "== $name made at $((SECONDS - T0)) s; $(df -h "$O" | tail -1)"
}
one m --double 2 --single 4 --t5-layers 2 --only clip-l,t5,transformer,vae,clip || rc=1
one mf "${R[@]}" --fuse-from "$O/m" || rc=1
one vf --groupnorm fused --fuse-from "$O/m" || rc=1
one fullp --deepen-from "$O/m" --only transformer,t5 --double 19 --single 38 --t5-layers 24 || rc=1
one full "${R[@]}" --fuse-from "$O/fullp" || rc=1
one fulln "${R[@]}" --norms fused --fuse-from "$O/fullp" || rc=1
one fullt "${R[@]}" --norms fused --layout bsnh --fuse-from "$O/fullp" || rc=1
one fullr --rmsnorm fused --fuse-from "$O/fullt" || rc=1
one fulls --skip-bias fused --fuse-from "$O/fullr" || rc=1
one mr "${R[@]}" --norms fused --rmsnorm fused --layout bsnh --fuse-from "$O/m" || rc=1
one ms "${R[@]}" --norms fused --skip-bias fused --rmsnorm fused --layout bsnh --fuse-from "$O/m" || rc=1
one bir --only birefnet || rc=1
one bf16 --double 2 --single 4 --only transformer --dtype bf16 || rc=1
exit $rc
