using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>The NVRTC calls that turn a kernel source into a CUBIN for one architecture.</summary>
internal static unsafe partial class Nvrtc
{
    public const int CompilationError = 6;

    static Nvrtc() => CudaLibraries.EnsureResolver();

    public static void Check(int status, string call, string? log = null)
    {
        if (status != 0)
        {
            throw new CudaException(call, ErrorString(status), log);
        }
    }

    public static string ErrorString(int status) => Marshal.PtrToStringUTF8(nvrtcGetErrorString(status)) ?? $"nvrtcResult {status}";

    [LibraryImport(CudaLibraries.Nvrtc)]
    public static partial nint nvrtcGetErrorString(int result);

    [LibraryImport(CudaLibraries.Nvrtc)]
    public static partial int nvrtcVersion(int* major, int* minor);

    [LibraryImport(CudaLibraries.Nvrtc, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nvrtcCreateProgram(nint* program, string source, string name, int headerCount, nint* headers, nint* includeNames);

    [LibraryImport(CudaLibraries.Nvrtc)]
    public static partial int nvrtcDestroyProgram(nint* program);

    [LibraryImport(CudaLibraries.Nvrtc)]
    public static partial int nvrtcCompileProgram(nint program, int optionCount, nint* options);

    [LibraryImport(CudaLibraries.Nvrtc)]
    public static partial int nvrtcGetProgramLogSize(nint program, nuint* size);

    [LibraryImport(CudaLibraries.Nvrtc)]
    public static partial int nvrtcGetProgramLog(nint program, byte* log);

    [LibraryImport(CudaLibraries.Nvrtc)]
    public static partial int nvrtcGetCUBINSize(nint program, nuint* size);

    [LibraryImport(CudaLibraries.Nvrtc)]
    public static partial int nvrtcGetCUBIN(nint program, byte* cubin);
}
