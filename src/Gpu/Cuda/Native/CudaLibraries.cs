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
    public const string CuSolver = "cusolver";

    private static readonly Dictionary<string, string[]> s_sonames = new()
    {
        [Driver] = ["libcuda.so.1"],
        [Nvrtc] = ["libnvrtc.so.13", "libnvrtc.so.12"],
        [CublasLt] = ["libcublasLt.so.13", "libcublasLt.so.12"],
        // CUDA 13 ships cuSOLVER 12, CUDA 12 cuSOLVER 11; a toolkit folder may hold only the unversioned name.
        [CuSolver] = ["libcusolver.so.12", "libcusolver.so.11", "libcusolver.so"],
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

    private static readonly Dictionary<string, string> s_loadedFrom = new();

    /// <summary>Where each loaded library was found (a soname, or a full path in a toolkit folder), for logs.</summary>
    public static string DescribeLoaded()
    {
        lock (s_gate)
        {
            return string.Join(", ", s_loadedFrom.Select(l => $"{l.Key}: {l.Value}"));
        }
    }

    private static IEnumerable<string> ToolkitFolders()
    {
        foreach (string variable in (string[])["CUDA_HOME", "CUDA_PATH"])
        {
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } root)
            {
                yield return Path.Combine(root, "lib64");
            }
        }

        yield return "/usr/local/cuda/lib64";
        yield return "/usr/local/cuda/targets/x86_64-linux/lib";
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

            // By soname through the loader's path first, then in the toolkit's usual folders: a node whose CUDA
            // libraries were installed without an ldconfig entry or LD_LIBRARY_PATH still has them there.
            foreach (string path in s_sonames[library].SelectMany(soname => ToolkitFolders().Select(folder => Path.Combine(folder, soname)).Prepend(soname)))
            {
                if (NativeLibrary.TryLoad(path, out nint handle))
                {
                    s_loaded[library] = handle;
                    s_loadedFrom[library] = path;
                    return null;
                }
            }

            return $"{Describe(library)} not found (looked on the loader's path and in {string.Join(", ", ToolkitFolders())})";
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
