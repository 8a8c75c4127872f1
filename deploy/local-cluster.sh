#!/usr/bin/env bash
# Starts an OrleansQuant cluster of N silos on this machine, each with its own CPU devices, its membership in Redis
# (no primary silo: any silo may die or restart and the others go on), and stops them all on Ctrl+C.
# Talk to it with `orleansquant cluster ... --redis 127.0.0.1:6379` (or the default --gateway 30000).
# usage: deploy/local-cluster.sh [SILOS=3] [DEVICES=cpu:2]
#   REDIS=HOST:PORT   the Redis to use (default 127.0.0.1:6379; started here, daemonized, if nothing answers on loopback)
#   CLUSTER_ID=ID     the cluster's id in that Redis (default: default, what cluster commands assume)
#   LOCALHOST=1       localhost clustering instead (the first silo is the primary: killing it stops the cluster)
# With a published bundle (deploy/pack-gpu-node.sh), set ORLEANSQUANT="path/run.sh".
set -euo pipefail
silos=${1:-3}; devices=${2:-cpu:2}
redis=${REDIS:-127.0.0.1:6379}; cluster_id=${CLUSTER_ID:-default}
root=$(cd "$(dirname "$0")/.." && pwd)
run=${ORLEANSQUANT:-"dotnet run -c Release --no-build --project $root/src/Silo --"}
[ -n "${ORLEANSQUANT:-}" ] || dotnet build -c Release "$root/src/Silo" --nologo -v quiet

if [ -z "${LOCALHOST:-}" ]; then
  host=${redis%:*}; port=${redis##*:}
  if ! redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG; then
    case "$host" in 127.*|localhost) ;; *) echo "no Redis answers at $redis (REDIS): start it there" >&2; exit 1 ;; esac
    command -v redis-server >/dev/null || { echo "redis-server is not installed: apt-get install -y redis-server" >&2; exit 1; }
    redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --save '' --appendonly no >/dev/null
    for _ in $(seq 50); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
    echo "redis-server started on $redis (daemonized; stop it with: redis-cli -p $port shutdown)"
  fi
  membership=(--redis "$redis" --cluster-id "$cluster_id")
else
  membership=(--primary-port 11111)
fi

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
for i in $(seq 0 $((silos - 1))); do
  $run serve --silo-port $((11111 + i)) --gateway-port $((30000 + i)) --devices "$devices" "${membership[@]}" &
  pids+=($!)
  # Localhost clustering: the primary first, the others join through it. Redis needs no order.
  [ -n "${LOCALHOST:-}" ] && [ "$i" -eq 0 ] && sleep 5
done
echo "cluster of $silos silos up: gateways 30000..$((30000 + silos - 1)), membership ${membership[*]}"
wait
