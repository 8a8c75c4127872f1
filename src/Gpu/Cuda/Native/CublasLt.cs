using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>The cuBLASLt calls for one matmul: descriptors, layouts, a heuristic's algorithm, and the launch.</summary>
internal static unsafe partial class CublasLt
{
    // cublasComputeType_t
    public const int Compute32F = 68;
    public const int Compute64F = 70;
    public const int Compute32I = 72;

    // cudaDataType_t
    public const int R32F = 0;
    public const int R64F = 1;
    public const int R8I = 3;
    public const int R32I = 10;
    public const int R16BF = 14;

    // cublasLtMatmulDescAttributes_t
    public const int DescTransA = 3;
    public const int DescTransB = 4;

    // cublasOperation_t
    public const int OpN = 0;
    public const int OpT = 1;

    // cublasLtMatmulPreferenceAttributes_t
    public const int PreferenceMaxWorkspaceBytes = 1;
    public const int PreferenceMinAlignmentA = 5;
    public const int PreferenceMinAlignmentB = 6;
    public const int PreferenceMinAlignmentC = 7;
    public const int PreferenceMinAlignmentD = 8;

    // cublasLtMatrixLayoutAttribute_t, cublasLtOrder_t
    public const int LayoutOrder = 1;
    public const int OrderRow = 1;

    // cublasLtMatmulAlgoConfigAttributes_t (read back for reports)
    public const int AlgoConfigId = 0;
    public const int AlgoConfigTileId = 1;
    public const int AlgoConfigSplitKNum = 2;
    public const int AlgoConfigStagesId = 6;

    static CublasLt() => CudaLibraries.EnsureResolver();

    public static void Check(int status, string call)
    {
        if (status != 0)
        {
            throw new CudaException(call, StatusName(status));
        }
    }

    // cublasStatus_t has no name lookup in every cuBLASLt version this binds, so the names are spelled here.
    public static string StatusName(int status) => status switch
    {
        0 => "CUBLAS_STATUS_SUCCESS",
        1 => "CUBLAS_STATUS_NOT_INITIALIZED",
        3 => "CUBLAS_STATUS_ALLOC_FAILED",
        7 => "CUBLAS_STATUS_INVALID_VALUE",
        8 => "CUBLAS_STATUS_ARCH_MISMATCH",
        11 => "CUBLAS_STATUS_MAPPING_ERROR",
        13 => "CUBLAS_STATUS_EXECUTION_FAILED",
        14 => "CUBLAS_STATUS_INTERNAL_ERROR",
        15 => "CUBLAS_STATUS_NOT_SUPPORTED",
        16 => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => $"cublasStatus_t {status}",
    };

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtCreate(nint* handle);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtDestroy(nint handle);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial nuint cublasLtGetVersion();

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatmulDescCreate(nint* desc, int computeType, int scaleType);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatmulDescDestroy(nint desc);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatmulDescSetAttribute(nint desc, int attribute, void* value, nuint size);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatrixLayoutCreate(nint* layout, int type, ulong rows, ulong columns, long leadingDimension);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatrixLayoutDestroy(nint layout);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatrixLayoutSetAttribute(nint layout, int attribute, void* value, nuint size);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatmulPreferenceCreate(nint* preference);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatmulPreferenceDestroy(nint preference);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatmulPreferenceSetAttribute(nint preference, int attribute, void* value, nuint size);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatmulAlgoGetHeuristic(nint handle, nint desc, nint a, nint b, nint c, nint d,
        nint preference, int requested, HeuristicResult* results, int* returned);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatmulAlgoCheck(nint handle, nint desc, nint a, nint b, nint c, nint d,
        Algorithm* algorithm, HeuristicResult* result);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatmulAlgoConfigGetAttribute(Algorithm* algorithm, int attribute, void* value, nuint size, nuint* written);

    [LibraryImport(CudaLibraries.CublasLt)]
    public static partial int cublasLtMatmul(nint handle, nint desc, void* alpha, ulong a, nint aLayout, ulong b, nint bLayout,
        void* beta, ulong c, nint cLayout, ulong d, nint dLayout, Algorithm* algorithm, ulong workspace, nuint workspaceBytes,
        nint stream);

    /// <summary>cublasLtMatmulAlgo_t: opaque, 8 × uint64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Algorithm
    {
        public fixed ulong Data[8];
    }

    /// <summary>cublasLtMatmulHeuristicResult_t.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct HeuristicResult
    {
        public Algorithm Algo;
        public nuint WorkspaceSize;
        public int State;
        public float WavesCount;
        public fixed int Reserved[4];
    }
}
