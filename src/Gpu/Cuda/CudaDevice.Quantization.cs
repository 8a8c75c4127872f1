using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

// SmoothQuant (Xiao et al. 2023) and GPTQ (Frantar et al. 2023, Algorithm 1) steps on the GPU, in double for GPTQ:
// element-wise kernels in quantization.cu, the two products through cuBLASLt fp64, the inverse-Hessian factor
// through cuSOLVER.
public sealed unsafe partial class CudaDevice
{
    // Rows per GPTQ block kernel's thread block (one warp each); shared memory above which the block's triangle of the
    // factor is read from global memory instead of staged (a 128-wide block stages 64.5 KiB + 8 KiB of row values).
    private const int GptqWarps = 8;
    private const long GptqStagedBytes = 160 << 10;

    private CublasLtGemm64? _gemm64;
    private CuSolverHandle? _solver;

    /// <summary>How the last fp64 product (GptqPropagate, QuadraticError) ran: "cublasLt fp64", or "own kernel: " and why.</summary>
    public string LastFp64GemmPath { get; private set; } = "none yet";

    /// <summary>Tests: fp64 products on this backend's own kernel instead of cuBLASLt.</summary>
    internal bool ForceOwnFp64Gemm { get; set; }

    public void Convert(DeviceTensor source, DeviceTensor destination)
    {
        const string call = nameof(Convert);
        RequireShape(destination, source.Rows, source.Columns, call + " destination");
        ulong from = Own(source, call).Pointer, to = Own(destination, call).Pointer;
        long count = source.Length;
        void** arguments = stackalloc void*[] { &from, &to, &count };
        string kernel = (source.Type, destination.Type) switch
        {
            (TensorType.Float32, TensorType.Float64) => "float_to_double",
            (TensorType.Float64, TensorType.Float32) => "double_to_float",
            (TensorType.Float32, TensorType.BFloat16) => "float_to_bfloat16",
            (TensorType.BFloat16, TensorType.Float32) => "bfloat16_to_float",
            (TensorType.BFloat16, TensorType.Float64) => "bfloat16_to_double",
            (TensorType.Float64, TensorType.BFloat16) => "double_to_bfloat16",
            _ => throw new ArgumentException($"{call}: converts between two of Float32, Float64 and BFloat16, not {source.Type} to {destination.Type}"),
        };
        if (count > 0)
        {
            Launch(kernel, GridFor(count), 1, RowThreads, 0, arguments);
        }
    }

    public void ScaleColumns(DeviceTensor x, DeviceTensor scales)
    {
        const string call = nameof(ScaleColumns);
        RequireShape(scales, 1, x.Columns, call + " scales");
        if (x.Type is not (TensorType.Float32 or TensorType.Float64))
        {
            throw new ArgumentException($"{call} x: expected Float32 or Float64, got {x}");
        }

        RequireType(scales, x.Type, call + " scales");
        ulong data = Own(x, call).Pointer, factors = Own(scales, call).Pointer;
        long count = x.Length;
        int columns = x.Columns;
        void** arguments = stackalloc void*[] { &data, &factors, &count, &columns };
        if (count > 0)
        {
            Launch(x.Type == TensorType.Float32 ? "scale_columns_f32" : "scale_columns_f64", GridFor(count), 1, RowThreads, 0, arguments);
        }
    }

    public void SymmetricFromUpper(DeviceTensor gram, double factor, DeviceTensor? inverseScales, DeviceTensor output)
    {
        const string call = nameof(SymmetricFromUpper);
        RequireSquare(gram, call + " gram");
        int n = gram.Rows;
        RequireShape(output, n, n, call + " output");
        RequireType(output, TensorType.Float64, call + " output");
        if (ReferenceEquals(gram, output))
        {
            throw new ArgumentException($"{call}: gram and output must be distinct tensors");
        }

        ulong source = Own(gram, call).Pointer, target = Own(output, call).Pointer, r = 0;
        if (inverseScales is not null)
        {
            RequireVector(inverseScales, n, TensorType.Float64, call + " inverse scales");
            r = Own(inverseScales, call).Pointer;
        }

        uint tiles = (uint)((n + 31) / 32);
        void** arguments = stackalloc void*[] { &source, &factor, &r, &target, &n };
        Launch("symmetric_from_upper", tiles, tiles, 32, 8, 0, arguments);
    }

    public void Diagonal(DeviceTensor square, DeviceTensor diagonal)
    {
        const string call = nameof(Diagonal);
        RequireSquare(square, call + " square");
        int n = square.Rows;
        RequireVector(diagonal, n, TensorType.Float64, call + " diagonal");
        ulong source = Own(square, call).Pointer, target = Own(diagonal, call).Pointer;
        void** arguments = stackalloc void*[] { &source, &target, &n };
        Launch("diagonal_f64", GridFor(n), 1, RowThreads, 0, arguments);
    }

    public void AddToDiagonal(DeviceTensor square, DeviceTensor addend)
    {
        const string call = nameof(AddToDiagonal);
        RequireSquare(square, call + " square");
        int n = square.Rows;
        RequireVector(addend, n, TensorType.Float64, call + " addend");
        ulong target = Own(square, call).Pointer, source = Own(addend, call).Pointer;
        void** arguments = stackalloc void*[] { &target, &source, &n };
        Launch("add_to_diagonal_f64", GridFor(n), 1, RowThreads, 0, arguments);
    }

    public void PermuteColumns(DeviceTensor x, DeviceTensor order, DeviceTensor output)
    {
        const string call = nameof(PermuteColumns);
        int rows = x.Rows, columns = x.Columns;
        RequireVector(order, columns, TensorType.Int32, call + " order");
        RequireShape(output, rows, columns, call + " output");
        RequireType(output, x.Type, call + " output");
        RequireDistinct(x, output, call);
        ulong source = Own(x, call).Pointer, indices = Own(order, call).Pointer, target = Own(output, call).Pointer;
        string kernel = x.Type.ElementSize() switch
        {
            1 => "permute_columns_1",
            4 => "permute_columns_4",
            _ => "permute_columns_8",
        };
        void** arguments = stackalloc void*[] { &source, &indices, &target, &rows, &columns };
        Launch(kernel, (uint)Math.Min((columns + RowThreads - 1) / RowThreads, 64), (uint)Math.Min(rows, 65535), RowThreads, 0, arguments);
    }

    public void PermuteSymmetric(DeviceTensor square, DeviceTensor order, DeviceTensor output)
    {
        const string call = nameof(PermuteSymmetric);
        RequireSquare(square, call + " square");
        int n = square.Rows;
        RequireVector(order, n, TensorType.Int32, call + " order");
        RequireShape(output, n, n, call + " output");
        RequireType(output, TensorType.Float64, call + " output");
        RequireDistinct(square, output, call);
        ulong source = Own(square, call).Pointer, indices = Own(order, call).Pointer, target = Own(output, call).Pointer;
        void** arguments = stackalloc void*[] { &source, &indices, &target, &n };
        Launch("permute_symmetric", (uint)Math.Min((n + RowThreads - 1) / RowThreads, 64), (uint)Math.Min(n, 65535), RowThreads, 0, arguments);
    }

    /// <summary>Tests: the inverse factor through potrf → potri → potrf even where cuSOLVER has Xtrtri.</summary>
    internal bool ForcePotriFactor { get; set; }

    /// <summary>How the last <see cref="CholeskyInverseUpper"/> ran: "potrf + trtri" or "potrf + potri + potrf" (and why).</summary>
    public string LastFactorPath { get; private set; } = "none yet";

    private bool _trtriMissing;

    /// <summary>
    /// cuSOLVER in double on this device's stream, one synchronization at the end to read the devInfos. With J the
    /// reversal permutation, A' = J·A·J (the array reversed in place) is factored as A' = L·Lᵀ — cuSOLVER's upper
    /// column-major potrf, which is row-major lower L — and L inverted in place (trtri); then A = R·Rᵀ with R = J·L·J
    /// upper, so A⁻¹ = R⁻ᵀ·R⁻¹ and U = R⁻¹ = J·L⁻¹·J, the array reversed again. That is n³/3 + n³/3 flops where
    /// PyTorch's route (Cholesky, inverse, Cholesky again) takes 4n³/3, and the same U (the Cholesky factor with a
    /// positive diagonal is unique) up to rounding. Where cuSOLVER lacks Xtrtri, PyTorch's route: potrf (lower) → potri →
    /// potrf (lower), column-major lower being row-major upper. A failing pivot of A' at k is A's trailing block from
    /// n − k on.
    /// </summary>
    public void CholeskyInverseUpper(DeviceTensor square)
    {
        const string call = nameof(CholeskyInverseUpper);
        RequireSquare(square, call + " square");
        int n = square.Rows;
        ulong a = Own(square, call).Pointer;
        if (n == 0)
        {
            return;
        }

        if (CudaLibraries.TryLoad(CudaLibraries.CuSolver) is { } missing)
        {
            throw new InvalidOperationException($"{call} on {this} needs cuSOLVER: {missing}");
        }

        MakeCurrent();
        _solver ??= CreateSolver();
        nint handle = _solver.DangerousGetHandle();
        CuSolver.Check(CuSolver.cusolverDnSetStream(handle, Stream), nameof(CuSolver.cusolverDnSetStream));
        if (!ForcePotriFactor && !_trtriMissing)
        {
            try
            {
                LastFactorPath = "potrf + trtri";
                FactorByTrtri(handle, a, n);
                return;
            }
            catch (EntryPointNotFoundException e)
            {
                _trtriMissing = true;
                LastFactorPath = "potrf + potri + potrf (cusolverDnXtrtri missing: " + e.Message + ")";
            }
        }
        else
        {
            LastFactorPath = "potrf + potri + potrf" + (ForcePotriFactor ? " (forced by a test)" : " (cusolverDnXtrtri missing)");
        }

        FactorByPotri(handle, a, n);
    }

    private void FactorByTrtri(nint handle, ulong a, int n)
    {
        const string call = nameof(CholeskyInverseUpper);
        nuint trtriDevice, trtriHost;
        CuSolver.Check(CuSolver.cusolverDnXtrtri_bufferSize(handle, CuSolver.FillUpper, CuSolver.DiagNonUnit, n, CuSolver.R64F, a, n, &trtriDevice, &trtriHost),
            nameof(CuSolver.cusolverDnXtrtri_bufferSize));
        int potrfWork;
        CuSolver.Check(CuSolver.cusolverDnDpotrf_bufferSize(handle, CuSolver.FillUpper, n, a, n, &potrfWork), nameof(CuSolver.cusolverDnDpotrf_bufferSize));
        long deviceBytes = Math.Max(Math.Max((long)potrfWork * sizeof(double), (long)trtriDevice), 8);
        ulong workspace = 0, infos = 0;
        void* host = null;
        Span<int> info = stackalloc int[2];
        long count = (long)n * n;
        void** reverseArguments = stackalloc void*[] { &a, &count };
        try
        {
            workspace = Alloc(deviceBytes);
            infos = Alloc(2 * sizeof(int));
            host = System.Runtime.InteropServices.NativeMemory.Alloc(Math.Max(trtriHost, 8));
            Driver.Check(Driver.cuMemsetD8Async(infos, 0, 2 * sizeof(int), Stream), nameof(Driver.cuMemsetD8Async));
            Launch("reverse_f64", GridFor(count / 2), 1, RowThreads, 0, reverseArguments);
            CuSolver.Check(CuSolver.cusolverDnDpotrf(handle, CuSolver.FillUpper, n, a, n, workspace, potrfWork, infos),
                $"{nameof(CuSolver.cusolverDnDpotrf)}(J·A·J, n={n})");
            CuSolver.Check(CuSolver.cusolverDnXtrtri(handle, CuSolver.FillUpper, CuSolver.DiagNonUnit, n, CuSolver.R64F, a, n,
                workspace, (nuint)deviceBytes, host, Math.Max(trtriHost, 8), infos + 4), $"{nameof(CuSolver.cusolverDnXtrtri)}(n={n})");
            Launch("reverse_f64", GridFor(count / 2), 1, RowThreads, 0, reverseArguments);
            ReadFactorInfos(infos, info, call);
        }
        finally
        {
            Free(workspace);
            Free(infos);
            if (host is not null)
            {
                System.Runtime.InteropServices.NativeMemory.Free(host);
            }
        }

        RequireFactorInfo(info[0], "the Cholesky factorization (potrf) of the reversed matrix", nameof(CuSolver.cusolverDnDpotrf), n,
            k => $"pivot {n - k} (0-based; the trailing {k}×{k} block from index {n - k} on is not positive definite)");
        RequireFactorInfo(info[1], "the inverse of its factor (trtri)", nameof(CuSolver.cusolverDnXtrtri), n,
            k => $"pivot {n - k} (0-based; a zero on the factor's diagonal)");
    }

    /// <summary>The cuSOLVER <c>devInfo</c>s of a factorization, read once its steps have run (one synchronization).</summary>
    private void ReadFactorInfos(ulong infos, Span<int> info, string call)
    {
        fixed (int* host = info)
        {
            Driver.Check(Driver.cuMemcpyDtoHAsync(host, infos, (nuint)(info.Length * sizeof(int)), Stream), nameof(Driver.cuMemcpyDtoHAsync));
            Driver.Check(Driver.cuStreamSynchronize(Stream), nameof(Driver.cuStreamSynchronize) + " after " + call);
        }
    }

    private void FactorByPotri(nint handle, ulong a, int n)
    {
        const string call = nameof(CholeskyInverseUpper);
        int potrfWork, potriWork;
        CuSolver.Check(CuSolver.cusolverDnDpotrf_bufferSize(handle, CuSolver.FillLower, n, a, n, &potrfWork), nameof(CuSolver.cusolverDnDpotrf_bufferSize));
        CuSolver.Check(CuSolver.cusolverDnDpotri_bufferSize(handle, CuSolver.FillLower, n, a, n, &potriWork), nameof(CuSolver.cusolverDnDpotri_bufferSize));
        int work = Math.Max(1, Math.Max(potrfWork, potriWork));
        ulong workspace = 0, infos = 0;
        Span<int> info = stackalloc int[3];
        try
        {
            workspace = Alloc((long)work * sizeof(double));
            infos = Alloc(3 * sizeof(int));
            Driver.Check(Driver.cuMemsetD8Async(infos, 0, 3 * sizeof(int), Stream), nameof(Driver.cuMemsetD8Async));
            CuSolver.Check(CuSolver.cusolverDnDpotrf(handle, CuSolver.FillLower, n, a, n, workspace, work, infos),
                $"{nameof(CuSolver.cusolverDnDpotrf)}(A, n={n})");
            CuSolver.Check(CuSolver.cusolverDnDpotri(handle, CuSolver.FillLower, n, a, n, workspace, work, infos + 4),
                $"{nameof(CuSolver.cusolverDnDpotri)}(n={n})");
            CuSolver.Check(CuSolver.cusolverDnDpotrf(handle, CuSolver.FillLower, n, a, n, workspace, work, infos + 8),
                $"{nameof(CuSolver.cusolverDnDpotrf)}(A⁻¹, n={n})");
            ReadFactorInfos(infos, info, call);
        }
        finally
        {
            Free(workspace);
            Free(infos);
        }

        // The first failing step explains; what followed it ran on garbage.
        RequireFactorInfo(info[0], "the Cholesky factorization of the matrix (potrf)", nameof(CuSolver.cusolverDnDpotrf), n,
            k => $"pivot {k - 1} (0-based; the leading minor of order {k} is not positive definite)");
        RequireFactorInfo(info[1], "its inverse (potri)", nameof(CuSolver.cusolverDnDpotri), n, k => $"pivot {k - 1} (0-based)");
        RequireFactorInfo(info[2], "the Cholesky factorization of the inverse (potrf)", nameof(CuSolver.cusolverDnDpotrf), n,
            k => $"pivot {k - 1} (0-based; the leading minor of order {k} of the inverse is not positive definite)");
    }

    private static void RequireFactorInfo(int info, string step, string function, int n, Func<int, string> pivot)
    {
        if (info < 0)
        {
            throw new CudaException(function, $"devInfo {info}", $"{nameof(CholeskyInverseUpper)}: parameter {-info} of {step} was rejected (n={n})");
        }

        if (info > 0)
        {
            throw new ArithmeticException(
                $"{nameof(CholeskyInverseUpper)}: the {n}×{n} matrix is not positive definite: {step} failed at {pivot(info)}. " +
                "Dampen the Hessian more (a larger damp).");
        }
    }

    public void ChannelScales(DeviceTensor weights, DeviceTensor scales)
    {
        const string call = nameof(ChannelScales);
        RequireType(weights, TensorType.Float64, call + " weights");
        RequireVector(scales, weights.Rows, TensorType.Float64, call + " scales");
        ulong source = Own(weights, call).Pointer, target = Own(scales, call).Pointer;
        int rows = weights.Rows, columns = weights.Columns;
        void** arguments = stackalloc void*[] { &source, &target, &rows, &columns };
        Launch("channel_scales", (uint)Math.Min(rows, MultiprocessorCount * 16), 1, RowThreads, 0, arguments);
    }

    public void QuantizeRows(DeviceTensor weights, DeviceTensor scales, DeviceTensor quantized)
    {
        const string call = nameof(QuantizeRows);
        RequireType(weights, TensorType.Float64, call + " weights");
        RequireVector(scales, weights.Rows, TensorType.Float64, call + " scales");
        RequireShape(quantized, weights.Rows, weights.Columns, call + " quantized");
        RequireType(quantized, TensorType.Int8, call + " quantized");
        ulong source = Own(weights, call).Pointer, factors = Own(scales, call).Pointer, target = Own(quantized, call).Pointer;
        long count = weights.Length;
        int columns = weights.Columns;
        void** arguments = stackalloc void*[] { &source, &factors, &target, &count, &columns };
        if (count > 0)
        {
            Launch("quantize_rows", GridFor(count), 1, RowThreads, 0, arguments);
        }
    }

    public void GptqQuantizeBlock(DeviceTensor weights, DeviceTensor scales, DeviceTensor upper, int start, int width,
        DeviceTensor quantized, DeviceTensor errors)
    {
        const string call = nameof(GptqQuantizeBlock);
        int rows = weights.Rows, n = weights.Columns;
        RequireType(weights, TensorType.Float64, call + " weights");
        RequireVector(scales, rows, TensorType.Float64, call + " scales");
        RequireShape(upper, n, n, call + " upper");
        RequireType(upper, TensorType.Float64, call + " upper");
        RequireShape(quantized, rows, n, call + " quantized");
        RequireType(quantized, TensorType.Int8, call + " quantized");
        RequireColumnBlock(start, width, n, call);
        RequireShape(errors, rows, width, call + " errors");
        RequireType(errors, TensorType.Float64, call + " errors");
        ulong w = Own(weights, call).Pointer, s = Own(scales, call).Pointer, u = Own(upper, call).Pointer;
        ulong q = Own(quantized, call).Pointer, e = Own(errors, call).Pointer;
        if (rows == 0 || width == 0)
        {
            return;
        }

        long valueBytes = (long)GptqWarps * width * sizeof(double);
        long triangleBytes = (long)width * (width + 1) / 2 * sizeof(double);
        int staged = triangleBytes + valueBytes <= GptqStagedBytes ? 1 : 0;
        long sharedBytes = valueBytes + (staged == 1 ? triangleBytes : 0);
        if (sharedBytes > 200 << 10)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, $"{call}: a block of {width} columns needs more shared memory than a GPU block has; use blocks of at most 3000 columns");
        }

        // Enough thread blocks to fill the GPU (a staged triangle is copied once per thread block, so no more).
        int perSm = staged == 1 ? Math.Max(1, (int)((220L << 10) / (sharedBytes + 1024))) : 4;
        uint grid = (uint)Math.Clamp((rows + GptqWarps - 1) / GptqWarps, 1, MultiprocessorCount * perSm);
        void** arguments = stackalloc void*[] { &w, &s, &u, &q, &e, &rows, &n, &start, &width, &staged };
        Launch("gptq_quantize_block", grid, 1, GptqWarps * 32, (uint)sharedBytes, arguments);
    }

    public void GptqPropagate(DeviceTensor weights, DeviceTensor errors, DeviceTensor upper, int start)
    {
        const string call = nameof(GptqPropagate);
        int rows = weights.Rows, n = weights.Columns, width = errors.Columns;
        RequireType(weights, TensorType.Float64, call + " weights");
        RequireType(errors, TensorType.Float64, call + " errors");
        RequireShape(errors, rows, width, call + " errors");
        RequireShape(upper, n, n, call + " upper");
        RequireType(upper, TensorType.Float64, call + " upper");
        RequireColumnBlock(start, width, n, call);
        ulong w = Own(weights, call).Pointer, e = Own(errors, call).Pointer, u = Own(upper, call).Pointer;
        int end = start + width;
        if (rows == 0 || width == 0 || end == n)
        {
            return;
        }

        // Row-major weights[:, end..n) (rows × (n − end), ld n) −= errors (rows × width) · upper[start..end, end..n) (ld n).
        GemmF64(false, false, rows, n - end, width, -1.0,
            e, width, u + (ulong)(((long)start * n + end) * sizeof(double)), n,
            1.0, w + (ulong)((long)end * sizeof(double)), n, $"{call} rows={rows} n={n} block [{start}, {end})");
    }

    public void QuadraticError(DeviceTensor weights, DeviceTensor quantized, DeviceTensor scales, DeviceTensor hessian, DeviceTensor result)
    {
        const string call = nameof(QuadraticError);
        int rows = weights.Rows, n = weights.Columns;
        RequireType(weights, TensorType.Float64, call + " weights");
        RequireShape(quantized, rows, n, call + " quantized");
        RequireType(quantized, TensorType.Int8, call + " quantized");
        RequireVector(scales, rows, TensorType.Float64, call + " scales");
        RequireShape(hessian, n, n, call + " hessian");
        RequireType(hessian, TensorType.Float64, call + " hessian");
        RequireShape(result, 1, 1, call + " result");
        RequireType(result, TensorType.Float64, call + " result");
        ulong w = Own(weights, call).Pointer, q = Own(quantized, call).Pointer, s = Own(scales, call).Pointer;
        ulong h = Own(hessian, call).Pointer, sum = Own(result, call).Pointer;
        MakeCurrent();
        Driver.Check(Driver.cuMemsetD8Async(sum, 0, sizeof(double), Stream), nameof(Driver.cuMemsetD8Async));
        if (rows == 0 || n == 0)
        {
            return;
        }

        // Σ_r Δ_rᵀ·H·Δ_r = Σ Δ ∘ (Δ·H), over chunks of rows so the two scratch matrices stay within 2 × 32 Mi doubles.
        int chunk = (int)Math.Clamp((32L << 20) / n, 1, rows);
        ulong delta = 0, product = 0, wRow = 0, qRow = 0, sRow = 0;
        long elements = 0;
        int columns = n;
        void** deltaArguments = stackalloc void*[] { &wRow, &qRow, &sRow, &delta, &elements, &columns };
        void** dotArguments = stackalloc void*[] { &delta, &product, &sum, &elements };
        try
        {
            delta = Alloc((long)chunk * n * sizeof(double));
            product = Alloc((long)chunk * n * sizeof(double));
            for (int row = 0; row < rows; row += chunk)
            {
                int count = Math.Min(chunk, rows - row);
                wRow = w + (ulong)((long)row * n * sizeof(double));
                qRow = q + (ulong)((long)row * n);
                sRow = s + (ulong)((long)row * sizeof(double));
                elements = (long)count * n;
                Launch("quantization_delta", GridFor(elements), 1, RowThreads, 0, deltaArguments);
                GemmF64(false, false, count, n, n, 1.0, delta, n, h, n, 0.0, product, n, $"{call} rows {row}..{row + count} of {rows}, n={n}");
                Launch("dot_accumulate", GridFor(elements), 1, RowThreads, 0, dotArguments);
            }
        }
        finally
        {
            Free(delta);
            Free(product);
        }
    }

    /// <summary>
    /// Row-major <c>C[m, n] = α·op(A)·op(B) + β·C</c> in double, every operand given by address and leading dimension
    /// (so sub-blocks of tensors serve), on cuBLASLt or, where it refuses, the own tiled kernel. Read column-major,
    /// row-major C is Cᵀ = op(B)ᵀ·op(A)ᵀ: the same operations on the swapped operands.
    /// </summary>
    internal void GemmF64(bool transA, bool transB, int m, int n, int k, double alpha, ulong a, int lda, ulong b, int ldb,
        double beta, ulong c, int ldc, string what)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        string? refusal = CublasLtUnavailable is { } missing ? $"cuBLASLt unavailable: {missing}"
            : ForceOwnFp64Gemm ? "forced by a test"
            : null;
        if (refusal is null)
        {
            _gemm64 ??= new CublasLtGemm64(this);
            var shape = new CublasLtGemm64.Shape(transB, transA, n, m, k, ldb, lda, ldc,
                CublasLtGemm64.Alignment(b), CublasLtGemm64.Alignment(a), CublasLtGemm64.Alignment(c));
            if (_gemm64.TryPlan(shape, out var plan, out refusal))
            {
                _gemm64.Run(plan!, alpha, b, a, beta, c, what);
                LastFp64GemmPath = "cublasLt fp64";
                return;
            }
        }

        LastFp64GemmPath = "own kernel: " + refusal;
        int opA = transB ? 1 : 0, opB = transA ? 1 : 0, rowsC = n, columnsC = m;
        void** arguments = stackalloc void*[] { &b, &ldb, &opA, &a, &lda, &opB, &c, &ldc, &rowsC, &columnsC, &k, &alpha, &beta };
        Launch("gemm_f64_fallback", (uint)((columnsC + 15) / 16), (uint)((rowsC + 15) / 16), 16, 16, 0, arguments);
    }

    private static CuSolverHandle CreateSolver()
    {
        nint handle;
        CuSolver.Check(CuSolver.cusolverDnCreate(&handle), nameof(CuSolver.cusolverDnCreate));
        return new CuSolverHandle(handle);
    }

    private static void RequireDistinct(DeviceTensor input, DeviceTensor output, string call)
    {
        if (ReferenceEquals(input, output))
        {
            throw new ArgumentException($"{call}: input and output must be distinct tensors");
        }
    }
}
