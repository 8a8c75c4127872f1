#!/usr/bin/env bash
# Regenerates every golden file under tests/golden on a GPU machine with torch + transformers + safetensors.
# usage: tests/golden/make_golden.sh REFERENCE_DIR CHECKPOINTS_DIR OUT_DIR
#   REFERENCE_DIR   ../shared/reference (hf_reference.py, gptq_ref.py)
#   CHECKPOINTS_DIR holds tiny/, tiny-sharded/, tiny-qwen2/ written by
#                   `orleansquant export-demo --variant NAME --out CHECKPOINTS_DIR/NAME`
# Logits: the prompt is BOS + the bytes of "The quick brown fox jumps" (ids = byte + 2), greedy 16 tokens.
set -euo pipefail
ref=$1; ckpt=$2; out=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
ids=0,$(printf 'The quick brown fox jumps' | od -An -tu1 -v | tr -s ' \n' ' ' | sed 's/^ //; s/ $//' | awk '{for(i=1;i<=NF;i++) printf "%s%d", (i>1?",":""), $i+2}')
for m in tiny tiny-sharded tiny-qwen2; do
  python3 "$ref/hf_reference.py" "$ckpt/$m" "$out/hf-$m.safetensors" --ids "$ids" --generate 16
done
python3 "$here/make_gptq_inputs.py" "$out"
python3 "$ref/gptq_ref.py" "$out/plain.in.safetensors" "$out/plain.out.safetensors"
python3 "$ref/gptq_ref.py" "$out/actorder.in.safetensors" "$out/actorder.out.safetensors" --act-order
python3 "$ref/gptq_ref.py" "$out/outliers.in.safetensors" "$out/outliers.out.safetensors"
python3 "$ref/gptq_ref.py" "$out/outliers.in.safetensors" "$out/outliers-nosmooth.out.safetensors" --alpha 0
