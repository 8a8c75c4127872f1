using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// GPTQ (Frantar et al. 2023, Algorithm 1): quantizes a linear's columns one at a time, pushing each column's rounding
/// error onto the columns not yet quantized through the Cholesky factor of the inverse Hessian, with lazy block
/// updates. int8, symmetric, one scale per output channel. Written over the device's quantization steps, so it runs
/// where the weights live; only vectors (the Hessian's diagonal) come to the host.
/// </summary>
public static class Gptq
{
    /// <param name="weights">W Float64 <c>[rows, n]</c> (already smoothed); not modified (GPTQ works on a copy).</param>
    /// <param name="hessian">
    /// H = 2/T·XᵀX Float64 <c>[n, n]</c> of the (smoothed) inputs, full symmetric; CONSUMED: it becomes the Cholesky
    /// workspace, so its contents are undefined afterwards (the caller still disposes it).
    /// </param>
    public static QuantizedTensors Quantize(IComputeDevice device, DeviceTensor weights, DeviceTensor hessian, GptqOptions options)
    {
        int rows = weights.Rows, n = weights.Columns;
        if (weights.Type != TensorType.Float64)
        {
            throw new ArgumentException($"GPTQ quantizes Float64 weights [rows, columns]; got {weights}", nameof(weights));
        }

        if (hessian.Type != TensorType.Float64 || hessian.Rows != n || hessian.Columns != n)
        {
            throw new ArgumentException($"GPTQ needs the Float64 Hessian [{n}, {n}] of the weights' {n} inputs; got {hessian}", nameof(hessian));
        }

        if (options.BlockSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.BlockSize, "GPTQ block size: expected at least 1 column");
        }

        using var scope = new DeviceScope();
        var w = scope.Add(device.Allocate(TensorType.Float64, rows, n));
        device.CopyRows(weights, 0, w, 0, rows);
        var h = hessian;
        double[] diagonal = Diagonal(device, h, scope);

        // Inputs that never fired carry no information: pin their Hessian diagonal and drop their weights.
        var dead = Array.ConvertAll(diagonal, d => d == 0 ? 1.0 : 0.0);
        if (Array.IndexOf(dead, 1.0) >= 0)
        {
            device.AddToDiagonal(h, scope.Add(device.UploadVector<double>(dead)));
            device.ScaleColumns(w, scope.Add(device.UploadVector<double>(Array.ConvertAll(dead, d => 1 - d))));
            diagonal = Array.ConvertAll(diagonal, d => d == 0 ? 1.0 : d);
        }

        var scales = scope.Add(device.Allocate(TensorType.Float64, 1, rows));
        device.ChannelScales(w, scales);

        // Act-order: quantize the columns with the largest Hessian diagonal (most activation energy) first.
        int[]? order = null;
        if (options.ActOrder)
        {
            order = Enumerable.Range(0, n).OrderByDescending(c => diagonal[c]).ToArray();
            var permutation = scope.Add(device.UploadVector<int>(order));
            var permuted = scope.Add(device.Allocate(TensorType.Float64, rows, n));
            device.PermuteColumns(w, permutation, permuted);
            scope.Free(w);
            w = permuted;
            var square = scope.Add(device.Allocate(TensorType.Float64, n, n));
            device.PermuteSymmetric(h, permutation, square);
            h = square;
        }

        // Dampening: a fraction of the mean diagonal (summed in the quantization order, as the reference does).
        double sum = 0;
        for (int c = 0; c < n; c++)
        {
            sum += diagonal[order?[c] ?? c];
        }

        double damping = options.DampeningFraction * (sum / n);
        device.AddToDiagonal(h, scope.Add(device.UploadVector<double>(Enumerable.Repeat(damping, n).ToArray())));
        device.CholeskyInverseUpper(h);

        // Blocks of columns, each quantized column by column, then its errors pushed onto the rest in one product.
        var quantized = scope.Add(device.Allocate(TensorType.Int8, rows, n));
        DeviceTensor? errors = null, tail = null;
        for (int start = 0; start < n; start += options.BlockSize)
        {
            int width = Math.Min(options.BlockSize, n - start);
            var blockErrors = width == options.BlockSize
                ? errors ??= scope.Add(device.Allocate(TensorType.Float64, rows, width))
                : tail ??= scope.Add(device.Allocate(TensorType.Float64, rows, width));
            device.GptqQuantizeBlock(w, scales, h, start, width, quantized, blockErrors);
            device.GptqPropagate(w, blockErrors, h, start);
        }

        if (order is not null)
        {
            var inverse = new int[n];
            for (int c = 0; c < n; c++)
            {
                inverse[order[c]] = c;
            }

            var unpermuted = scope.Add(device.Allocate(TensorType.Int8, rows, n));
            device.PermuteColumns(quantized, scope.Add(device.UploadVector<int>(inverse)), unpermuted);
            quantized = unpermuted;
        }

        var narrow = DeviceCopies.Narrow(device, scales);
        return new QuantizedTensors(scope.Keep(quantized), narrow);
    }

    private static double[] Diagonal(IComputeDevice device, DeviceTensor square, DeviceScope scope)
    {
        var diagonal = scope.Add(device.Allocate(TensorType.Float64, 1, square.Rows));
        device.Diagonal(square, diagonal);
        return diagonal.ToArray<double>();
    }
}
