#!/usr/bin/env bash
# Starts an OrleansQuant cluster of N silos on this machine (localhost clustering), each with its own CPU devices,
# and stops them all on Ctrl+C. Talk to it with `orleansquant cluster ... --gateway 30000`.
# usage: deploy/local-cluster.sh [SILOS=3] [DEVICES=cpu:2]
# With a published bundle (deploy/pack-gpu-node.sh), set ORLEANSQUANT="path/run.sh".
set -euo pipefail
silos=${1:-3}; devices=${2:-cpu:2}
root=$(cd "$(dirname "$0")/.." && pwd)
run=${ORLEANSQUANT:-"dotnet run -c Release --no-build --project $root/src/Silo --"}
[ -n "${ORLEANSQUANT:-}" ] || dotnet build -c Release "$root/src/Silo" --nologo -v quiet
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
for i in $(seq 0 $((silos - 1))); do
  $run serve --silo-port $((11111 + i)) --gateway-port $((30000 + i)) --primary-port 11111 --devices "$devices" &
  pids+=($!)
  [ "$i" -eq 0 ] && sleep 5   # the primary silo first: the others join through it
done
echo "cluster of $silos silos up: gateways 30000..$((30000 + silos - 1))"
wait
