#!/usr/bin/env bash
# gpu_sweep.sh MODELS LOGS: the ONNX Runtime-on-GPU measurements of
# docs/perf/ort-gpu.md, through splatbench's own commands. Run it on a machine
# with an NVIDIA GPU after
#
#   make setup && make setup-gpu            # ISNet + <cache>/ort-gpu (CUDA provider)
#   tools/gpu_models.sh G                  # MODELS=G/m, and the optional folders below
#   export LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/lib/x86_64-linux-gnu:$LD_LIBRARY_PATH
#
# MODELS holds flux/, clip/ and optionally matte/birefnet/ as make_gpu_models.py writes them (random
# weights: latencies are real, images and CLIP scores are not). Optional:
# MODELS_DEEP (the transformer at another depth, for the per-block slope),
# MODELS_BF16 (the bf16 transformer), MODELS_VAE (the VAE decoder with its
# GroupNorms fused: make_gpu_models.py --groupnorm fused), MODELS_MHA and MODELS_PLAIN (the
# transformer with and without ORT's fused operators: make_gpu_models.py
# --attention mha --gelu fast --rope fused --linears split), MODELS_PARTIAL
# (one with only some of those rewrites, e.g. --attention mha --gelu fast:
# which of them pays, and a fallback should one not run), each a folder with
# flux/transformer.opt, compared per model; MODELS_FULL (a folder with the
# full-depth flux/transformer.opt and, if written, flux/t5.opt) gets the
# text2img and whole-job runs at full depth and the small tune;
# MODELS_FULL_REF (the same full-depth transformer, plain, when MODELS_FULL
# is its fused copy from make_gpu_models.py --fuse-from) gets its step time
# and the agreement test; MODELS_FULL_B (other fused copies of it,
# space-separated) are timed in turn with MODELS_FULL, twice. roofline and roofline-mha count what the plain
# and the fused transformer's graphs allow on the CUDA provider
# (TestTransformerRoofline). A fused transformer (MODELS_MHA, MODELS_FULL with
# MODELS_FULL_REF) is checked against the plain one by TestTransformersAgree.
# eager and eager-reduced time the module the transformer graphs are exported
# from in PyTorch eager on the same card (tools/flux_eager.py), the baseline.
# MATTE (default isnet-medium) is the matting model of the image-to-3D runs
# (tune-image, lift, fit-lifted, all-image). ONLY (a regular expression) picks runs by name; TIMEOUT (s, default 180)
# bounds each, TUNE_TIMEOUT (default 600) the tunes; GRAPH=true runs the full-depth tune with cuda_graph. Each command's output goes to LOGS/<name>.txt, the GPU memory sampled every
# 100 ms to LOGS/<name>.mem (MiB), the last lines to standard output.
#
# A command that prints "run directory: DIR" (bench) has DIR's records
# (run.json, trials.jsonl) copied to LOGS/<name>.run/.
#
# BASELINE (an older splatbench binary) adds the ab-* runs: the host-bound
# stages (matte, score, the picture job) with BASELINE and with SPLATBENCH in
# turn, twice (A B A B), on the same card in the same call: a host speed-up's
# gain on the GPU host against its own baseline (ONLY='^ab-' runs them alone);
# with MODELS_FULL, the ab-t2i-1024-* and ab-all-1024-* runs set the two
# binaries' FLUX steps and whole jobs side by side (ROUNDS rounds).
#
# SPLATBENCH (default bin/splatbench) and FLUX_TEST (default
# bin/flux.test, from `go test -c ./pipeline/flux`) name the binaries.
set -uo pipefail
M=${1:?usage: gpu_sweep.sh MODELS LOGS}
L=${2:?usage: gpu_sweep.sh MODELS LOGS}
SB=$(realpath "${SPLATBENCH:-bin/splatbench}")
FT=$(realpath "${FLUX_TEST:-bin/flux.test}")
RUNS=${RUNS:-$L/runs}
N=${N:-10}
mkdir -p "$L" "$RUNS"
ROOT=$(pwd)

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$L/card.txt"

# run NAME CMD...: the command with GPU memory sampled beside it.
run() {
	local name=$1 smi
	shift
	if [[ -n ${ONLY:-} && ! $name =~ $ONLY ]]; then
		return 3 # not asked for
	fi
	echo "== $name: $*"
	nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$L/$name.mem" 2>/dev/null &
	smi=$!
	local t0=$SECONDS
	timeout "${TIMEOUT:-180}" "$@" >"$L/$name.txt" 2>&1
	local rc=$?
	kill "$smi" 2>/dev/null
	wait "$smi" 2>/dev/null
	# A bench's records (each run's stage times and scores) go with its log.
	local rd
	rd=$(sed -n 's/^run directory: //p' "$L/$name.txt" | tail -1)
	if [[ -n $rd && -d $rd ]]; then
		mkdir -p "$L/$name.run"
		cp "$rd"/*.json "$rd"/*.jsonl "$L/$name.run/" 2>/dev/null
	fi
	echo "rc=$rc wall=$((SECONDS - t0))s peak_gpu_mem=$(sort -n "$L/$name.mem" | tail -1) MiB"
	grep -E '^\| |GPU memory|ORT placement|WARNING|Benchmark|providers|error|RMS|^(--- |ok|FAIL)' "$L/$name.txt" | grep -v -- '---|' | tail -n 14
	return $rc
}

# link_parts DIR FROM: link into DIR/flux each FLUX part of FROM/flux that DIR
# lacks (a folder with one model rewritten runs with the others of FROM).
link_parts() {
	local f
	for f in clip.opt t5.opt transformer.opt vae.opt tokenizer tokenizer_2; do
		[[ -e $1/flux/$f ]] || ln -sfn "$(realpath "$2/flux/$f")" "$1/flux/$f"
	done
}

flux=(--set text2img.source=flux --set "text2img.model=$M/flux")
gpu=(--set device=cuda --out "$RUNS")

"$SB" doctor >"$L/doctor.txt" 2>&1
grep -E 'onnx|provider|gpu' "$L/doctor.txt"

for res in 512 1024; do
	run "t2i-$res" "$SB" bench --stage text2img "${flux[@]}" --set "text2img.resolution=$res" --set matte.enabled=false "${gpu[@]}" -n "$N" --warmup 2
done
(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$M/flux" && run flux-models "$FT" -test.run '^$' -test.bench GenerateDir -test.benchtime 5x)
# The same models with the transformer as a CUDA graph (the profile's cuda_graph), and their images
# against the plain run's, seed by seed (TestCUDAGraphAgrees).
(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$M/flux" SPLATBENCH_FLUX_CUDA_GRAPH=1 &&
	run flux-models-graph "$FT" -test.run '^$' -test.bench GenerateDir -test.benchtime 5x &&
	run agree-graph "$FT" -test.run '^TestCUDAGraphAgrees$' -test.v)
(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$M/flux" SPLATBENCH_CUDA_OPTIONS=prefer_nhwc=1 &&
	run flux-models-nhwc "$FT" -test.run '^$' -test.bench GenerateDir -test.benchtime 5x)
run matte-isnet-medium "$SB" bench --stage matte --set matte.model=isnet-medium "${gpu[@]}" -n 20 --cpuprofile "$L/matte-isnet-medium.prof"
# BiRefNet's size (make_gpu_models.py --only ...,birefnet; random weights).
if [[ -e $M/matte/birefnet/model.onnx ]]; then
	run matte-birefnet "$SB" bench --stage matte --set "matte.model=$M/matte/birefnet/model.onnx" "${gpu[@]}" -n 20
	SPLATBENCH_CUDA_OPTIONS=prefer_nhwc=1 run matte-birefnet-nhwc "$SB" bench --stage matte --set "matte.model=$M/matte/birefnet/model.onnx" "${gpu[@]}" -n 20
fi
# The image-to-3D sweep with real weights and real fidelity scores: ISNet
# medium on the CUDA provider, the lift, the fit on the device. It writes
# the scene pictures into the cache; the lift (CPU) and the lifted,
# shape-keeping fit (the profile's device) are then timed on one of them.
TIMEOUT=${TUNE_TIMEOUT:-600} run tune-image "$SB" tune --sweep image --set "matte.model=${MATTE:-isnet-medium}" "${gpu[@]}"
pic=${SPLATBENCH_CACHE:-$HOME/.cache/splatbench}/scene-images/box-stack.png
if [[ -n ${BASELINE:-} ]]; then
	base=$(realpath "$BASELINE")
	for round in 1 2; do
		for v in base new; do
			bin=$SB
			[[ $v == base ]] && bin=$base
			run "ab-matte-$v-$round" "$bin" bench --stage matte --set "matte.model=${MATTE:-isnet-medium}" "${gpu[@]}" -n 20
			run "ab-score-$v-$round" "$bin" bench --stage score --set "score.clip_model=$M/clip" --set matte.enabled=false "${gpu[@]}" -n 20
			if [[ -e $pic ]]; then
				run "ab-image-$v-$round" "$bin" bench --stage all --image "$pic" --set "matte.model=${MATTE:-isnet-medium}" "${gpu[@]}" -n 20
			fi
		done
	done
fi
run lift "$SB" bench --stage lift --image "$pic" --set "matte.model=${MATTE:-isnet-medium}" "${gpu[@]}" -n 20
run fit-lifted "$SB" bench --stage fit --image "$pic" --set "matte.model=${MATTE:-isnet-medium}" "${gpu[@]}" -n 20
# The whole image job, with a CPU profile of its host work (go tool pprof).
run all-image "$SB" bench --stage all --image "$pic" --set "matte.model=${MATTE:-isnet-medium}" "${gpu[@]}" -n 10 --cpuprofile "$L/all-image.prof"
SPLATBENCH_CUDA_OPTIONS=prefer_nhwc=1 run matte-isnet-medium-nhwc "$SB" bench --stage matte --set matte.model=isnet-medium "${gpu[@]}" -n 20
run score-clip "$SB" bench --stage score --set "score.clip_model=$M/clip" --set matte.model=isnet-medium "${gpu[@]}" -n "$N" --cpuprofile "$L/score-clip.prof"
# The whole job. Random FLUX weights make a random image, in which ISNet may
# find no foreground (the job then fails, as a miner's would): then again
# without the matte stage (its time is matte-isnet-medium's).
for res in 1024 512; do
	run "all-$res" "$SB" bench --stage all "${flux[@]}" --set "text2img.resolution=$res" --set matte.model=isnet-medium \
		--set "score.clip_model=$M/clip" "${gpu[@]}" -n 5 --warmup 1 ||
		run "all-$res-nomatte" "$SB" bench --stage all "${flux[@]}" --set "text2img.resolution=$res" --set matte.enabled=false \
			--set "score.clip_model=$M/clip" "${gpu[@]}" -n 5 --warmup 1
done
run placement "$SB" models check --provider cuda "$M"
# Where each model's GPU time goes, kernel by kernel: Nsight Compute's
# per-kernel summary of one model check (session creation, a run and the
# placement probe's run at the probe's shapes: FLUX parts at 512², the
# matte at its size), at the card's own clocks and warm caches. ORT's
# profile cannot say this: on the CUDA provider it times launches on the host.
# ncu_run NAME CMD...: run NAME, CMD under Nsight Compute's per-kernel summary.
ncu_run() {
	command -v ncu >/dev/null || { echo "== $1: no ncu"; return; }
	local name=$1
	shift
	run "$name" ncu --target-processes all --clock-control none --cache-control none --metrics gpu__time_duration.sum \
		--print-summary per-kernel "$@"
}
kernels() {
	[[ -e $2 ]] || { echo "== $1: $2 missing"; return; }
	ncu_run "$1" "$SB" models check --provider cuda "$2"
}
kernels kernels-vae "$M/flux/vae.opt/model.onnx"
kernels kernels-t5 "${MODELS_FULL:-$M}/flux/t5.opt/model.onnx" # the text encoders run in every job: 23-38x their floor
kernels kernels-clip-l "$M/flux/clip.opt/model.onnx"
kernels kernels-transformer "${MODELS_MHA:-$M}/flux/transformer.opt/model.onnx"
kernels kernels-birefnet "$M/matte/birefnet/model.onnx"
[[ -n ${SPLATBENCH_CACHE:-} ]] && kernels kernels-isnet "$SPLATBENCH_CACHE/models/isnet-medium.onnx"
# The fused transformer at 1024², where the probe's 512² says little about
# attention's share: one whole generation of flux.test's GenerateDir (the
# encoders, 4 steps, the VAE; the steps' kernels are 4 x the transformer's).
# With MODELS_VAE, its fused VAE: the plain one's batch-norm, layout and SiLU
# kernels (a third of session 17's count) share classes with the transformer's.
if [[ -n ${MODELS_MHA:-} && -d $MODELS_MHA/flux/transformer.opt ]]; then
	[[ -n ${MODELS_VAE:-} && -d $MODELS_VAE/flux/vae.opt && ! -e $MODELS_MHA/flux/vae.opt ]] &&
		ln -sfn "$(realpath "$MODELS_VAE/flux/vae.opt")" "$MODELS_MHA/flux/vae.opt"
	link_parts "$MODELS_MHA" "$M"
	(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$MODELS_MHA/flux" SPLATBENCH_FLUX_RES=1024 &&
		ncu_run kernels-transformer-1024 "$FT" -test.run '^$' -test.bench GenerateDir -test.benchtime 1x)
fi
# MODELS_VAE: M's VAE decoder with its GroupNorms fused (make_gpu_models.py
# --groupnorm fused --fuse-from M; the rest of M linked in): checked against
# M's (TestVAEsAgree), timed (decode-ms) and counted kernel by kernel.
d=${MODELS_VAE:-}
if [[ -n $d && -d $d/flux/vae.opt ]]; then
	link_parts "$d" "$M"
	(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$d/flux" SPLATBENCH_FLUX_REF_DIR="$M/flux" &&
		run agree-vae "$FT" -test.run '^TestVAEsAgree$' -test.v)
	(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$d/flux" && run flux-models-vae "$FT" -test.run '^$' -test.bench GenerateDir -test.benchtime 5x)
	(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$d/flux" SPLATBENCH_CUDA_OPTIONS=prefer_nhwc=1 &&
		run flux-models-vae-nhwc "$FT" -test.run '^$' -test.bench GenerateDir -test.benchtime 5x)
	kernels kernels-vae-fused "$d/flux/vae.opt/model.onnx"
fi
[[ -n ${SPLATBENCH_CACHE:-} ]] && run placement-isnet "$SB" models check --provider cuda "$SPLATBENCH_CACHE/models"

# A small GPU sweep: FLUX steps x the lifted fit's steps on 4 prompts, one
# repeat (matte off: random FLUX images may hold no foreground). A text job
# lifts its picture (lift.mode auto), so lift.iterations, not
# fit.iterations, sets its fit's length.
cat >"$L/sweep-gpu-small.yaml" <<'EOF'
name: gpu-small
profile: default
knobs:
  - name: text2img.steps
    values: [1, 2, 4]
  - name: lift.iterations
    values: [1, 20]
sampling: grid
prompts:
  corpus: default
  count: 4
  seed: 1
repeats: 1
warmup: 1
trial_timeout: 5m
workers: 1
validators: 1
objectives: [latency_p50, score]
EOF
TIMEOUT=${TUNE_TIMEOUT:-600} run tune "$SB" tune --sweep "$L/sweep-gpu-small.yaml" "${flux[@]}" --set text2img.resolution=1024 --set matte.enabled=false \
	--set "score.clip_model=$M/clip" "${gpu[@]}"

# The other transformers last; a folder that is not there yet (still being
# written elsewhere, then renamed into place) is waited for up to WAIT s.
wait_for() {
	local d=$1 i=0
	while [[ ! -d $d && $i -lt ${WAIT:-0} ]]; do
		sleep 5
		i=$((i + 5))
	done
	[[ -d $d/flux/transformer.opt ]]
}
for v in MODELS_MHA MODELS_PARTIAL MODELS_PLAIN MODELS_BF16 MODELS_DEEP; do
	d=${!v:-}
	[[ -n $d ]] || continue
	wait_for "$d" || { echo "== $v: $d/flux/transformer.opt missing, skipped"; continue; }
	link_parts "$d" "$M"
	(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$d/flux" && run "flux-models-$v" "$FT" -test.run '^$' -test.bench GenerateDir -test.benchtime 5x)
	run "placement-$v" "$SB" models check --provider cuda "$d/flux/transformer.opt/model.onnx"
done
# agree NAME DIR REF: the transformers of DIR and REF on one step's inputs.
agree() {
	(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$2/flux" SPLATBENCH_FLUX_REF_DIR="$3/flux" &&
		run "$1" "$FT" -test.run '^TestTransformersAgree$' -test.v)
}
[[ -n ${MODELS_MHA:-} && -d $MODELS_MHA/flux/transformer.opt ]] && agree agree-mha "$MODELS_MHA" "${MODELS_PLAIN:-$M}"
# roofline NAME DIR: the floors of DIR's transformer as the CUDA provider
# runs its graph, block by block, scaled to full depth.
roofline() {
	(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$2/flux" SPLATBENCH_FLUX_PROVIDERS=cuda &&
		run "$1" "$FT" -test.run '^TestTransformerRoofline$' -test.v)
}
roofline roofline "${MODELS_PLAIN:-$M}"
[[ -n ${MODELS_MHA:-} && -d $MODELS_MHA/flux/transformer.opt ]] && roofline roofline-mha "$MODELS_MHA"
# The baseline the ONNX Runtime transformer is held to, on this card: the same
# module in PyTorch eager (flux_eager.py; SDPA attention), full depth, bf16 and
# fp16, and at 2 + 4 blocks with its kernels by class beside kernels-transformer's.
run eager "${PYTHON:-python3}" "$ROOT/tools/flux_eager.py"
run eager-reduced "${PYTHON:-python3}" "$ROOT/tools/flux_eager.py" --double 2 --single 4 --dtype fp16 --kernels
d=${MODELS_FULL:-}
if [[ -n $d ]] && wait_for "$d"; then
	link_parts "$d" "$M"
	full=(--set text2img.source=flux --set "text2img.model=$d/flux")
	(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$d/flux" && run flux-models-full "$FT" -test.run '^$' -test.bench GenerateDir -test.benchtime 5x)
	(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$d/flux" SPLATBENCH_FLUX_CUDA_GRAPH=1 &&
		run flux-models-full-graph "$FT" -test.run '^$' -test.bench GenerateDir -test.benchtime 5x &&
		run agree-graph-full "$FT" -test.run '^TestCUDAGraphAgrees$' -test.v)
	r=${MODELS_FULL_REF:-}
	if [[ -n $r && -d $r/flux/transformer.opt ]]; then
		link_parts "$r" "$d"
		agree agree-full "$d" "$r"
		(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$r/flux" && run flux-models-full-ref "$FT" -test.run '^$' -test.bench GenerateDir -test.benchtime 5x)
	fi
	for res in 512 1024; do
		for g in false true; do
			sfx=${g/true/-graph}
			sfx=${sfx/false/}
			run "t2i-full-$res$sfx" "$SB" bench --stage text2img "${full[@]}" --set "text2img.resolution=$res" --set "cuda_graph=$g" \
				--set matte.enabled=false "${gpu[@]}" -n "$N" --warmup 2
			run "all-full-$res$sfx" "$SB" bench --stage all "${full[@]}" --set "text2img.resolution=$res" --set "cuda_graph=$g" \
				--set matte.enabled=false --set "score.clip_model=$M/clip" "${gpu[@]}" -n 10 --warmup 1 --cpuprofile "$L/all-full-$res$sfx.prof"
		done
	done
	# One step of four is slow in some runs (session 17: 515-576 ms against
	# 148-157 under cuda_graph, 190-250 without): ONNX Runtime's profile of a
	# plain 1024² text2img, every session's (SPLATBENCH_ORT_PROFILE), and the
	# transformer's runs side by side (tools/ort_profile_runs.py).
	SPLATBENCH_ORT_PROFILE="$L/ortprof" run t2i-full-1024-profile "$SB" bench --stage text2img "${full[@]}" \
		--set text2img.resolution=1024 --set matte.enabled=false "${gpu[@]}" -n "$N" --warmup 2 --log-level debug &&
		run t2i-full-1024-profile-runs "${PYTHON:-python3}" "$ROOT/tools/ort_profile_runs.py" \
			"$(ls -S "$L"/ortprof/transformer.opt-*.json | head -1)" 5 # the largest: the session that ran
	# The two binaries in turn (BASELINE, then SPLATBENCH; ROUNDS times) at
	# 1024², under cuda_graph and without: text2img with every step logged
	# and counted by tools/flux_steps.py (ab-t2i-*: session 18's one thread
	# a session), and the whole job with each binary's CPU profile (ab-all-*:
	# host work).
	if [[ -n ${BASELINE:-} ]]; then
		for round in $(seq "${ROUNDS:-1}"); do
			for g in true false; do
				for v in base new; do
					bin=$SB
					[[ $v == base ]] && bin=$(realpath "$BASELINE")
					name=ab-t2i-1024-graph-$g-$v-$round
					run "$name" "$bin" bench --stage text2img "${full[@]}" --set text2img.resolution=1024 \
						--set "cuda_graph=$g" --set matte.enabled=false "${gpu[@]}" -n "$N" --warmup 2 --log-level debug &&
						"${PYTHON:-python3}" "$ROOT/tools/flux_steps.py" "$L/$name.txt" | tee "$L/$name.steps"
					name=ab-all-1024-graph-$g-$v-$round
					run "$name" "$bin" bench --stage all "${full[@]}" --set text2img.resolution=1024 --set "cuda_graph=$g" \
						--set matte.enabled=false --set "score.clip_model=$M/clip" "${gpu[@]}" -n 10 --warmup 1 --cpuprofile "$L/$name.prof"
				done
			done
		done
	fi
	TIMEOUT=${TUNE_TIMEOUT:-600} run tune-full "$SB" tune --sweep "$L/sweep-gpu-small.yaml" "${full[@]}" --set text2img.resolution=1024 --set "cuda_graph=${GRAPH:-false}" --set matte.enabled=false \
		--set "score.clip_model=$M/clip" "${gpu[@]}"
fi
# MODELS_FULL_B: other full-depth transformer folders (space-separated:
# gpu_models.sh's fullt and fullr against MODELS_FULL=fulln, say) against
# MODELS_FULL's: their step times in turn, twice, in one call
# (flux-full-ab-<folder>-<round>; SPLATBENCH_FLUX_RES=1024 times one size,
# half the ~60 s session loads), and each one's agreement with
# MODELS_FULL_REF (agree-full-<folder>).
bs=()
for d in ${MODELS_FULL_B:-}; do
	[[ -n ${MODELS_FULL:-} ]] && wait_for "$d" && link_parts "$d" "$MODELS_FULL" && bs+=("$d")
done
if ((${#bs[@]})); then
	for round in 1 2; do
		for x in "$MODELS_FULL" "${bs[@]}"; do
			(cd "$ROOT/pipeline/flux" && export SPLATBENCH_FLUX_DIR="$x/flux" &&
				run "flux-full-ab-$(basename "$x")-$round" "$FT" -test.run '^$' -test.bench GenerateDir -test.benchtime 5x)
		done
	done
	for d in "${bs[@]}"; do
		[[ -n ${MODELS_FULL_REF:-} ]] && agree "agree-full-$(basename "$d")" "$d" "$MODELS_FULL_REF"
	done
fi
