using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// Compiles a kernel source with NVRTC for one GPU architecture into a CUBIN, and keeps CUBINs on disk keyed by
/// source, headers, options and NVRTC version, so a silo's start after the first one skips the compiler.
/// Kernels include only the headers passed in here (no toolkit headers: a GPU node may have only the driver and
/// runtime libraries).
/// </summary>
internal static unsafe class CudaKernelCompiler
{
    /// <summary>~/.cache/orleansquant/cubin, or under $XDG_CACHE_HOME when that is set.</summary>
    public static string CacheDirectory { get; } = Path.Combine(
        Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"),
        "orleansquant", "cubin");

    public static string NvrtcVersion
    {
        get
        {
            int major, minor;
            Nvrtc.Check(Nvrtc.nvrtcVersion(&major, &minor), nameof(Nvrtc.nvrtcVersion));
            return $"{major}.{minor}";
        }
    }

    /// <summary>
    /// The CUBIN of <paramref name="source"/> for <c>sm_{major}{minor}</c> (<c>sm_90a</c> on Hopper, whose wgmma only the
    /// architecture-specific target has), from the disk cache when it is there.
    /// </summary>
    /// <exception cref="CudaException">the program does not compile; the message holds NVRTC's log.</exception>
    public static byte[] Compile(string name, string source, IReadOnlyDictionary<string, string> headers, int major, int minor)
    {
        string architecture = Architecture(major, minor);
        string[] options = [$"--gpu-architecture={architecture}", "-default-device", "--std=c++17"];
        string path = Path.Combine(CacheDirectory, $"{Key(source, headers, options)}-{architecture}.cubin");
        if (TryRead(path) is { } cached)
        {
            return cached;
        }

        byte[] cubin = Build(name, source, headers, options);
        TryWrite(path, cubin);
        return cubin;
    }

    /// <summary>The NVRTC target for a compute capability: sm_90a on 9.0 (kernels guard its features with __CUDA_ARCH_FEAT_SM90_ALL).</summary>
    public static string Architecture(int major, int minor) => (major, minor) == (9, 0) ? "sm_90a" : $"sm_{major}{minor}";

    private static byte[] Build(string name, string source, IReadOnlyDictionary<string, string> headers, string[] options)
    {
        var native = new List<nint>();
        try
        {
            nint Utf8(string text)
            {
                nint pointer = Marshal.StringToCoTaskMemUTF8(text);
                native.Add(pointer);
                return pointer;
            }

            var headerNames = headers.Keys.ToArray();
            nint* headerSources = stackalloc nint[Math.Max(1, headerNames.Length)];
            nint* includeNames = stackalloc nint[Math.Max(1, headerNames.Length)];
            for (int i = 0; i < headerNames.Length; i++)
            {
                headerSources[i] = Utf8(headers[headerNames[i]]);
                includeNames[i] = Utf8(headerNames[i]);
            }

            nint* optionPointers = stackalloc nint[options.Length];
            for (int i = 0; i < options.Length; i++)
            {
                optionPointers[i] = Utf8(options[i]);
            }

            nint program;
            Nvrtc.Check(Nvrtc.nvrtcCreateProgram(&program, source, name, headerNames.Length, headerSources, includeNames),
                $"{nameof(Nvrtc.nvrtcCreateProgram)}({name})");
            try
            {
                int status = Nvrtc.nvrtcCompileProgram(program, options.Length, optionPointers);
                if (status != 0)
                {
                    Nvrtc.Check(status, $"{nameof(Nvrtc.nvrtcCompileProgram)}({name}, {string.Join(' ', options)})", Log(program));
                }

                nuint size;
                Nvrtc.Check(Nvrtc.nvrtcGetCUBINSize(program, &size), nameof(Nvrtc.nvrtcGetCUBINSize));
                var cubin = new byte[(int)size];
                fixed (byte* target = cubin)
                {
                    Nvrtc.Check(Nvrtc.nvrtcGetCUBIN(program, target), nameof(Nvrtc.nvrtcGetCUBIN));
                }

                return cubin;
            }
            finally
            {
                Nvrtc.nvrtcDestroyProgram(&program);
            }
        }
        finally
        {
            foreach (nint pointer in native)
            {
                Marshal.FreeCoTaskMem(pointer);
            }
        }
    }

    private static string Log(nint program)
    {
        nuint size;
        if (Nvrtc.nvrtcGetProgramLogSize(program, &size) != 0 || size <= 1)
        {
            return "(NVRTC gave no log)";
        }

        var log = new byte[(int)size];
        fixed (byte* target = log)
        {
            return Nvrtc.nvrtcGetProgramLog(program, target) == 0
                ? Encoding.UTF8.GetString(log, 0, log.Length - 1)
                : "(NVRTC's log could not be read)";
        }
    }

    private static string Key(string source, IReadOnlyDictionary<string, string> headers, string[] options)
    {
        var text = new StringBuilder(source);
        foreach (var header in headers.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            text.Append('\0').Append(header.Key).Append('\0').Append(header.Value);
        }

        text.Append('\0').AppendJoin(' ', options).Append('\0').Append(NvrtcVersion);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    // The cache is an optimisation: an unreadable or unwritable cache directory only costs a compile.
    private static byte[]? TryRead(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllBytes(path) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void TryWrite(string path, byte[] cubin)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // Written beside and renamed, so a process reading the cache never sees half a CUBIN.
            string temporary = $"{path}.{Environment.ProcessId}.tmp";
            File.WriteAllBytes(temporary, cubin);
            File.Move(temporary, path, overwrite: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
