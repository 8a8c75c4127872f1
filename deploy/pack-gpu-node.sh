#!/usr/bin/env bash
# Packs what a GPU node without .NET needs into one folder: the .NET runtime and the published orleansquant app.
# usage: deploy/pack-gpu-node.sh [OUT_DIR=.gpu]
# On the node:  OUT_DIR/run.sh <orleansquant arguments>
# Fails if the app carries build-time assemblies (Roslyn, Humanizer, MEF, MSBuild): they only ever ran inside the
# compiler, and once made up most of the bundle (see src/Silo's csproj).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/.gpu}
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
mkdir -p "$out"
rm -rf "$out/app"   # publish -o adds to a folder; files of an older publish would stay and ship
dotnet publish "$root/src/Silo" -c Release -o "$out/app" --nologo -v quiet
build_time=$(cd "$out/app" && find . \( -name 'Microsoft.CodeAnalysis*' -o -name 'Humanizer*' -o -name 'System.Composition*' \
  -o -name 'Microsoft.Build*' \) -print | sort)
if [ -n "$build_time" ]; then
  echo "error: the published app carries build-time assemblies:" >&2
  echo "$build_time" | sed 's/^/  /' >&2
  echo "keep them out with ExcludeAssets=\"runtime\" in src/Silo/OrleansQuant.Silo.csproj" >&2
  exit 1
fi
runtime=$(ls -d "$dotnet_root"/shared/Microsoft.NETCore.App/* | sort -V | tail -1)
# The app references ASP.NET Core's shared framework (the HTTP API's Kestrel): bundle the one of the same version.
aspnet="shared/Microsoft.AspNetCore.App/$(basename "$runtime")"
[ -d "$dotnet_root/$aspnet" ] || { echo "error: $dotnet_root/$aspnet is missing; the app needs ASP.NET Core's runtime of the same version" >&2; exit 1; }
tar -C "$dotnet_root" -cJf "$out/dotnet.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$(basename "$runtime")" "$aspnet"
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
echo "bundle $out (runtime $(basename "$runtime")):"
du -sh "$out/app" "$out/dotnet.tar.xz"
echo "total: $(du -sh "$out" | cut -f1)"
echo "largest assemblies:"
(cd "$out/app" && ls -S ./*.dll | head -5 | xargs du -h)
