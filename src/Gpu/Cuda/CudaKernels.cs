using System.Reflection;
using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// The kernel files embedded in this assembly (Cuda/Kernels/*.cu, with the shared common.cuh as their one header),
/// compiled for one device's architecture and loaded as one module per file into the device's context.
/// Kernels are <c>extern "C"</c>, so a function is found by its plain name.
/// </summary>
internal sealed unsafe class CudaKernels : IDisposable
{
    private const string ResourcePrefix = "OrleansQuant.Gpu.Cuda.Kernels.";

    private readonly List<CudaModuleHandle> _modules = [];
    private readonly Dictionary<string, nint> _functions = new(StringComparer.Ordinal);

    /// <summary>Loads every kernel file; the device's context must be current.</summary>
    public CudaKernels(int major, int minor)
    {
        var assembly = typeof(CudaKernels).Assembly;
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        var sources = new List<(string Name, string Source)>();
        foreach (string resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            string file = resource[ResourcePrefix.Length..];
            string text = Read(assembly, resource);
            if (file.EndsWith(".cuh", StringComparison.Ordinal))
            {
                headers[file] = text;
            }
            else if (file.EndsWith(".cu", StringComparison.Ordinal))
            {
                sources.Add((file, text));
            }
        }

        try
        {
            // NVRTC compiles distinct programs on as many threads as asked: a first start (an empty CUBIN cache) then
            // takes as long as the largest file (the attention kernels, with their float and bf16 instances), not the sum.
            var cubins = new byte[sources.Count][];
            Parallel.For(0, sources.Count, i => cubins[i] = CudaKernelCompiler.Compile(sources[i].Name, sources[i].Source, headers, major, minor));
            for (int i = 0; i < sources.Count; i++)
            {
                var (name, source) = sources[i];
                byte[] cubin = cubins[i];
                nint module;
                fixed (byte* image = cubin)
                {
                    Driver.Check(Driver.cuModuleLoadData(&module, image), $"{nameof(Driver.cuModuleLoadData)}({name})");
                }

                _modules.Add(new CudaModuleHandle(module));
                foreach (string kernel in KernelNames(source))
                {
                    nint function;
                    Driver.Check(Driver.cuModuleGetFunction(&function, module, kernel), $"{nameof(Driver.cuModuleGetFunction)}({name}: {kernel})");
                    _functions[kernel] = function;
                }
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public nint this[string kernel] =>
        _functions.TryGetValue(kernel, out nint function)
            ? function
            : throw new InvalidOperationException($"no kernel '{kernel}' among the embedded .cu files; found {string.Join(", ", _functions.Keys)}");

    // Every kernel is declared on one line as: extern "C" __global__ void [ATTRIBUTE(...) ...] name(, where the
    // attributes are __launch_bounds__ or a macro for __cluster_dims__.
    private static readonly System.Text.RegularExpressions.Regex s_kernelDeclaration =
        new(@"extern ""C"" __global__ void (?:\w+\([^)]*\)\s+)*(\w+)\s*\(", System.Text.RegularExpressions.RegexOptions.Compiled);

    private static IEnumerable<string> KernelNames(string source) =>
        s_kernelDeclaration.Matches(source).Select(match => match.Groups[1].Value);

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"embedded kernel {resource} is missing from {assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public void Dispose()
    {
        foreach (var module in _modules)
        {
            module.Dispose();
        }

        _modules.Clear();
        _functions.Clear();
    }
}
