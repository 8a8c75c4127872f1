#!/usr/bin/env bash
# Packs what a GPU node without .NET needs into one folder: the .NET runtime and the published orleansquant app.
# usage: deploy/pack-gpu-node.sh [OUT_DIR=.gpu]
# On the node:  OUT_DIR/run.sh <orleansquant arguments>
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/.gpu}
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
mkdir -p "$out"
dotnet publish "$root/src/Silo" -c Release -o "$out/app" --nologo -v quiet
runtime=$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/* | sort -V | tail -1)
tar -C "$dotnet_root" -cJf "$out/dotnet.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$(basename "$runtime")"
cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# Unpacks the bundled .NET runtime once into /tmp and runs orleansquant with the given arguments.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DOTNET_ROOT=/tmp/orleansquant-dotnet DOTNET_CLI_TELEMETRY_OPTOUT=1
[ -x "$DOTNET_ROOT/dotnet" ] || { mkdir -p "$DOTNET_ROOT" && tar -xJf "$here/dotnet.tar.xz" -C "$DOTNET_ROOT"; }
exec "$DOTNET_ROOT/dotnet" "$here/app/orleansquant.dll" "$@"
RUN
chmod +x "$out/run.sh"
du -sh "$out/app" "$out/dotnet.tar.xz"
