#!/bin/bash
# The GPU tests on a node without .NET (GPU.md). Here, with an SDK:   tests/Gpu.Tests/Cuda/run-gpu-tests.sh pack DIR
# then copy DIR to the node and there:                                 DIR/run-gpu-tests.sh run [OUT]
# pack: the published tests (assemblies they load, no test-platform ones), the xunit v2 console runner
# (xunit.runner.console 2.4.1, tools/netcoreapp2.0, run with --roll-forward Major) and the .NET runtime (~30 MB in all).
set -euo pipefail
case "${1:-}" in
pack)
    dir=$(realpath -m "$2"); repo=$(cd "$(dirname "$0")/../../.." && pwd)
    mkdir -p "$dir/app" "$dir/runner" /tmp/gpu-tests-publish
    dotnet publish "$repo/tests/Gpu.Tests" -c Release -o /tmp/gpu-tests-publish
    (cd /tmp/gpu-tests-publish && cp OrleansQuant.* Microsoft.ML.Tokenizers*.dll Google.Protobuf.dll System.Numerics.Tensors.dll \
        System.Memory.dll System.Text.Json.dll YamlDotNet.dll xunit.abstractions.dll xunit.assert.dll xunit.core.dll \
        xunit.execution.dotnet.dll "$dir/app/")
    nupkg=/tmp/xunit.runner.console.2.4.1.nupkg
    [ -f $nupkg ] || curl -sSfL -o $nupkg https://api.nuget.org/v3-flatcontainer/xunit.runner.console/2.4.1/xunit.runner.console.2.4.1.nupkg
    unzip -q -o -j $nupkg 'tools/netcoreapp2.0/*' -d "$dir/runner"
    tar -C /usr/share/dotnet -cJf "$dir/dotnet.tar.xz" dotnet host shared/Microsoft.NETCore.App
    cp "$0" "$dir/"
    ;;
run)
    cd "$(dirname "$0")"; out=${2:-.}
    mkdir -p /tmp/dotnet && tar -xJf dotnet.tar.xz -C /tmp/dotnet
    export DOTNET_ROOT=/tmp/dotnet PATH=/tmp/dotnet:$PATH
    dotnet exec --roll-forward Major runner/xunit.console.dll app/OrleansQuant.Gpu.Tests.dll -nocolor -parallel none \
        -trait Category=Gpu -xml "$out/gpu-tests.xml"
    ;;
*) echo "usage: $0 pack DIR | run [OUT]" >&2; exit 2 ;;
esac
