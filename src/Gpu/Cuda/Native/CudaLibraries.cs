using System.Reflection;
using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>
/// Finds the CUDA libraries by soname, newest major first, so the same build runs on CUDA 12 and 13 nodes and a machine
/// without CUDA gets a sentence naming the library that is missing instead of a DllNotFoundException at first use.
/// The bindings name libraries by these logical names; the resolver maps them to what this machine has.
/// </summary>
internal static class CudaLibraries
{
    public const string Driver = "cuda";
    public const string Nvrtc = "nvrtc";
    public const string CublasLt = "cublasLt";

    private static readonly Dictionary<string, string[]> s_sonames = new()
    {
        [Driver] = ["libcuda.so.1"],
        [Nvrtc] = ["libnvrtc.so.13", "libnvrtc.so.12"],
        [CublasLt] = ["libcublasLt.so.13", "libcublasLt.so.12"],
    };

    private static readonly Lock s_gate = new();
    private static readonly Dictionary<string, nint> s_loaded = new();
    private static bool s_resolverSet;

    /// <summary>Registers the resolver once; every binding class calls this from its static constructor.</summary>
    public static void EnsureResolver()
    {
        lock (s_gate)
        {
            if (s_resolverSet)
            {
                return;
            }

            NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
            s_resolverSet = true;
        }
    }

    /// <summary>The sonames tried for a logical library, in order, for messages.</summary>
    public static string Describe(string library) => string.Join(" or ", s_sonames[library]);

    /// <summary>Loads a library now; null with the reason when none of its sonames loads.</summary>
    public static string? TryLoad(string library)
    {
        lock (s_gate)
        {
            if (s_loaded.ContainsKey(library))
            {
                return null;
            }

            foreach (string soname in s_sonames[library])
            {
                if (NativeLibrary.TryLoad(soname, out nint handle))
                {
                    s_loaded[library] = handle;
                    return null;
                }
            }

            return $"{Describe(library)} not found";
        }
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!s_sonames.ContainsKey(name))
        {
            return 0;
        }

        string? missing = TryLoad(name);
        if (missing is not null)
        {
            throw new DllNotFoundException(missing);
        }

        lock (s_gate)
        {
            return s_loaded[name];
        }
    }
}
