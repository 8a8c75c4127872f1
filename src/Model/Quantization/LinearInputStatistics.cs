using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// What calibration learns about one linear input: per-channel max |x| (for SmoothQuant) and Σ xxᵀ (for GPTQ's
/// Hessian), accumulated over every token that passes. Both live on the layer's device and are accumulated there, so
/// activations never come back to the host for them; quantization reads them on the device too (only the |x| maxima, a vector, come to the host).
/// Linears that read the same input share one.
/// </summary>
public sealed class LinearInputStatistics : IDisposable
{
    private readonly IComputeDevice _device;
    private readonly DeviceTensor _absMax;
    private readonly DeviceTensor _sumOfOuterProducts;
    private readonly TensorType _inputType;

    /// <summary>Zeroed statistics for <paramref name="channels"/> inputs on <paramref name="device"/> (fresh tensors are zero).</summary>
    /// <param name="inputType">
    /// BFloat16 when the linears reading this input have bf16 weights: they see the input rounded to bf16, so the
    /// statistics are taken of that (as llm-compressor's are of a bf16 model's inputs), and the Gram matrix is a
    /// tensor-core product on a GPU.
    /// </param>
    public LinearInputStatistics(IComputeDevice device, int channels, TensorType inputType = TensorType.Float32)
    {
        _device = device;
        _inputType = inputType;
        Channels = channels;
        _absMax = device.Allocate(TensorType.Float32, 1, channels);
        try
        {
            // Double: over hundreds of thousands of tokens, float would lose the small eigenvalues GPTQ depends on.
            _sumOfOuterProducts = device.Allocate(TensorType.Float64, channels, channels);
        }
        catch
        {
            _absMax.Dispose();
            throw;
        }
    }

    public int Channels { get; }

    /// <summary>Max |x| per input channel over every token seen (a download of the device's running maxima).</summary>
    public double[] AbsMax
    {
        get
        {
            var maxima = _absMax.ToArray<float>();
            return Array.ConvertAll(maxima, v => (double)v);
        }
    }

    public long Tokens { get; private set; }

    /// <summary>Adds the rows of <paramref name="activations"/> <c>[tokens, Channels]</c>, on their device.</summary>
    public void Accumulate(DeviceTensor activations)
    {
        if (activations.Columns != Channels)
        {
            throw new ArgumentException($"{activations} does not have the {Channels} channels of this input", nameof(activations));
        }

        if (_inputType != activations.Type)
        {
            using var seen = _device.Converted(activations, _inputType);
            AccumulateAs(seen);
        }
        else
        {
            AccumulateAs(activations);
        }

        Tokens += activations.Rows;
    }

    private void AccumulateAs(DeviceTensor input)
    {
        _device.AccumulateAbsMax(input, _absMax);
        _device.AccumulateGram(input, _sumOfOuterProducts);
    }

    /// <summary>
    /// H = 2/T·XᵀX, the Hessian of the layer-wise squared error (GPTQ, Frantar et al. 2023, §3), as a fresh full
    /// symmetric Float64 square on the device, for one linear (GPTQ consumes it). With <paramref name="inverseScales"/>
    /// 1/s (Float64 <c>[1, Channels]</c>) it is the Hessian of the smoothed inputs X·S⁻¹, S⁻¹·H·S⁻¹ (SmoothQuant).
    /// The caller disposes it.
    /// </summary>
    public DeviceTensor Hessian(DeviceTensor? inverseScales = null)
    {
        var h = _device.Allocate(TensorType.Float64, Channels, Channels);
        try
        {
            _device.SymmetricFromUpper(_sumOfOuterProducts, Tokens == 0 ? 0 : 2.0 / Tokens, inverseScales, h);
            return h;
        }
        catch
        {
            h.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _absMax.Dispose();
        _sumOfOuterProducts.Dispose();
    }
}
