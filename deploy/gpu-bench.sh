#!/usr/bin/env bash
# On a GPU node: PyTorch's peer figures and `orleansquant bench --devices cuda` in the same run, on the same card,
# then the comparison as markdown rows ready for docs/BENCHMARKS.md (card, date and command included).
# usage: deploy/gpu-bench.sh BENCH_TORCH_PY [OUT_DIR]
#   BENCH_TORCH_PY  path to shared/reference/bench_torch.py; gptq_ref.py beside it is timed too when present
#   OUT_DIR         default bench-results/<UTC time>; gets torch.json, ours.json, gptq_torch.json, *.txt, compare.md
# Settings (environment):
#   ORLEANSQUANT  how to run orleansquant; default .gpu/run.sh (deploy/pack-gpu-node.sh's bundle: no .NET needed on
#                 the node), else `dotnet run` of src/Silo
#   DEVICES=cuda  SHAPES=llama3-8b  TOKENS=1,16,64,512,2048,4096  BATCH=1,8,16,64  CONTEXT=1024  ITERATIONS=20
#   BENCH_ARGS    more arguments for `orleansquant bench` (e.g. "--parts gemm,layer")
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] && [ -f "$1" ] || { echo "usage: $0 BENCH_TORCH_PY [OUT_DIR]  (BENCH_TORCH_PY: path to bench_torch.py)" >&2; exit 2; }
torch_py=$(readlink -f "$1")
out=${2:-$root/bench-results/$(date -u +%Y%m%dT%H%M%SZ)}
devices=${DEVICES:-cuda} shapes=${SHAPES:-llama3-8b} tokens=${TOKENS:-1,16,64,512,2048,4096} batch=${BATCH:-1,8,16,64}
context=${CONTEXT:-1024} iterations=${ITERATIONS:-20}
gptq_ref=${GPTQ_REF:-$(dirname "$torch_py")/gptq_ref.py}
mkdir -p "$out"

if [ -n "${ORLEANSQUANT:-}" ]; then read -r -a oq <<< "$ORLEANSQUANT"
elif [ -x "$root/.gpu/run.sh" ]; then oq=("$root/.gpu/run.sh")
elif command -v dotnet > /dev/null; then oq=(dotnet run -c Release --project "$root/src/Silo" --)
else echo "no orleansquant: run deploy/pack-gpu-node.sh (and carry .gpu), or set ORLEANSQUANT" >&2; exit 2
fi

card=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=index,name,driver_version,memory.total,clocks.max.sm --format=csv > "$out/gpu.txt"
day=$(date -u +%F)
echo "== $card, $day → $out"

echo "== PyTorch peer: $torch_py"
python3 "$torch_py" "$out/torch.json" --tokens "$tokens" --batch "$batch" --context "$context" | tee "$out/torch.txt"

echo "== orleansquant bench --devices $devices"
# shellcheck disable=SC2086  # BENCH_ARGS is a list of arguments
"${oq[@]}" bench --devices "$devices" --shapes "$shapes" --tokens "$tokens" --batch "$batch" --context "$context" \
  --iterations "$iterations" --out "$out/ours.json" ${BENCH_ARGS:-} | tee "$out/ours.txt"

gptq_args=()
if [ -f "$gptq_ref" ] && python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["gptq"] else 1)' "$out/ours.json"; then
  echo "== PyTorch reference GPTQ: $gptq_ref"
  python3 "$root/deploy/gptq_torch_time.py" "$gptq_ref" "$out/gptq_torch.json" --like "$out/ours.json" | tee "$out/gptq_torch.txt"
  gptq_args=(--gptq "$out/gptq_torch.json")
fi

python3 "$root/deploy/bench_compare.py" "$out/torch.json" "$out/ours.json" "${gptq_args[@]}" \
  --card "$card" --date "$day" --command "deploy/gpu-bench.sh $*" > "$out/compare.md"
echo
cat "$out/compare.md"
