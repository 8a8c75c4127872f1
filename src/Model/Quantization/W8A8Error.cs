using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// The error a W8A8 linear makes as served (SmoothQuant, Xiao et al. 2023, §3: per-token activations × per-channel
/// weights): inputs quantized per token to int8 (after smoothing, if any), weights as stored, against the
/// full-precision product, both computed on the device by the kernels that serve them. Relative:
/// ‖Y − Ŷ‖² / ‖Y‖² over the sample rows; only the two small <c>[samples, rows]</c> outputs come to the host.
/// </summary>
public static class W8A8Error
{
    /// <param name="inputs">rows x of the original (unsmoothed) input, Float32 <c>[samples, columns]</c>.</param>
    /// <param name="weights">the original (unsmoothed) W, Float32 <c>[rows, columns]</c>.</param>
    /// <param name="inverseSmoothing">1/s Float32 <c>[1, columns]</c> when the quantized weights are W·diag(s) and the served input is x/s.</param>
    public static double Relative(IComputeDevice device, DeviceTensor inputs, DeviceTensor weights, QuantizedTensors quantized, DeviceTensor? inverseSmoothing)
    {
        var (error, reference) = Totals(device, inputs, weights, quantized, inverseSmoothing);
        return reference == 0 ? 0 : error / reference;
    }

    /// <summary>‖Y − Ŷ‖²_F / samples: gptq_ref.py's <c>loss_w8a8</c>.</summary>
    public static double MeanSquared(IComputeDevice device, DeviceTensor inputs, DeviceTensor weights, QuantizedTensors quantized, DeviceTensor? inverseSmoothing) =>
        inputs.Rows == 0 ? 0 : Totals(device, inputs, weights, quantized, inverseSmoothing).Error / inputs.Rows;

    /// <summary>
    /// GPTQ's objective for quantized weights Q against W (Frantar et al. 2023, eq. 1) on inputs with Hessian
    /// H = 2/T·XᵀX: ½·Σ_rows ΔwᵀHΔw. <paramref name="weights"/> Float64 (smoothed), <paramref name="hessian"/> the full
    /// square of the same inputs (read, not consumed).
    /// </summary>
    public static double WeightLoss(IComputeDevice device, DeviceTensor weights, QuantizedTensors quantized, DeviceTensor hessian)
    {
        // The scales as served (float), widened exactly: the loss of the weights that are actually stored.
        using var scales = device.Allocate(TensorType.Float64, 1, quantized.Scales.Columns);
        using var result = device.Allocate(TensorType.Float64, 1, 1);
        device.Convert(quantized.Scales, scales);
        device.QuadraticError(weights, quantized.Values, scales, hessian, result);
        return result.ToArray<double>()[0] / 2;
    }

    private static (double Error, double Reference) Totals(IComputeDevice device, DeviceTensor inputs, DeviceTensor weights, QuantizedTensors quantized,
        DeviceTensor? inverseSmoothing)
    {
        int samples = inputs.Rows, columns = inputs.Columns, rows = weights.Rows;
        if (samples == 0)
        {
            return (0, 0);
        }

        using var scope = new DeviceScope();
        var exact = scope.Add(device.Allocate(TensorType.Float32, samples, rows));
        device.MatMul(inputs, weights, null, exact);

        // The served path: x/s quantized per token, an int8 GEMM, dequantized by token × channel scale.
        var served = inputs;
        if (inverseSmoothing is not null)
        {
            served = scope.Add(device.Allocate(TensorType.Float32, samples, columns));
            device.CopyRows(inputs, 0, served, 0, samples);
            device.ScaleColumns(served, inverseSmoothing);
        }

        var levels = scope.Add(device.Allocate(TensorType.Int8, samples, columns));
        var tokenScales = scope.Add(device.Allocate(TensorType.Float32, samples, 1));
        var approximate = scope.Add(device.Allocate(TensorType.Float32, samples, rows));
        device.QuantizePerToken(served, levels, tokenScales);
        device.MatMulInt8(levels, tokenScales, quantized.Values, quantized.Scales, null, approximate);

        float[] y = exact.ToArray<float>(), yHat = approximate.ToArray<float>();
        double error = 0, reference = 0;
        for (int k = 0; k < y.Length; k++)
        {
            double difference = (double)y[k] - yHat[k];
            error += difference * difference;
            reference += (double)y[k] * y[k];
        }

        return (error, reference);
    }
}
