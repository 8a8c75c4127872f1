using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>
/// The cuSOLVER dense calls GPTQ's inverse-Hessian factor needs, in double: a handle on a stream, Cholesky (potrf), the
/// inverse of a triangle (the 64-bit API's Xtrtri) and, where that is missing, the inverse from a Cholesky factor (potri).
/// </summary>
internal static unsafe partial class CuSolver
{
    // cublasFillMode_t
    public const int FillLower = 0;
    public const int FillUpper = 1;

    // cublasDiagType_t
    public const int DiagNonUnit = 0;

    // cudaDataType_t
    public const int R64F = 1;

    static CuSolver() => CudaLibraries.EnsureResolver();

    public static void Check(int status, string call)
    {
        if (status != 0)
        {
            throw new CudaException(call, StatusName(status));
        }
    }

    // cusolverStatus_t, spelled here as cuSOLVER has no name lookup.
    public static string StatusName(int status) => status switch
    {
        0 => "CUSOLVER_STATUS_SUCCESS",
        1 => "CUSOLVER_STATUS_NOT_INITIALIZED",
        2 => "CUSOLVER_STATUS_ALLOC_FAILED",
        3 => "CUSOLVER_STATUS_INVALID_VALUE",
        4 => "CUSOLVER_STATUS_ARCH_MISMATCH",
        5 => "CUSOLVER_STATUS_MAPPING_ERROR",
        6 => "CUSOLVER_STATUS_EXECUTION_FAILED",
        7 => "CUSOLVER_STATUS_INTERNAL_ERROR",
        8 => "CUSOLVER_STATUS_MATRIX_TYPE_NOT_SUPPORTED",
        9 => "CUSOLVER_STATUS_NOT_SUPPORTED",
        _ => $"cusolverStatus_t {status}",
    };

    [LibraryImport(CudaLibraries.CuSolver)]
    public static partial int cusolverDnCreate(nint* handle);

    [LibraryImport(CudaLibraries.CuSolver)]
    public static partial int cusolverDnDestroy(nint handle);

    [LibraryImport(CudaLibraries.CuSolver)]
    public static partial int cusolverDnSetStream(nint handle, nint stream);

    [LibraryImport(CudaLibraries.CuSolver)]
    public static partial int cusolverDnDpotrf_bufferSize(nint handle, int uplo, int n, ulong a, int lda, int* lwork);

    [LibraryImport(CudaLibraries.CuSolver)]
    public static partial int cusolverDnDpotrf(nint handle, int uplo, int n, ulong a, int lda, ulong workspace, int lwork, ulong devInfo);

    [LibraryImport(CudaLibraries.CuSolver)]
    public static partial int cusolverDnXtrtri_bufferSize(nint handle, int uplo, int diag, long n, int dataType, ulong a, long lda,
        nuint* deviceBytes, nuint* hostBytes);

    [LibraryImport(CudaLibraries.CuSolver)]
    public static partial int cusolverDnXtrtri(nint handle, int uplo, int diag, long n, int dataType, ulong a, long lda,
        ulong deviceWorkspace, nuint deviceBytes, void* hostWorkspace, nuint hostBytes, ulong devInfo);

    [LibraryImport(CudaLibraries.CuSolver)]
    public static partial int cusolverDnDpotri_bufferSize(nint handle, int uplo, int n, ulong a, int lda, int* lwork);

    [LibraryImport(CudaLibraries.CuSolver)]
    public static partial int cusolverDnDpotri(nint handle, int uplo, int n, ulong a, int lda, ulong workspace, int lwork, ulong devInfo);
}
