using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// What calibration learns about one linear input: per-channel max |x| (for SmoothQuant) and Σ xxᵀ (for GPTQ's
/// Hessian), accumulated over every token that passes. Both live on the layer's device and are accumulated there, so
/// activations never come back to the host for them; quantization downloads them once, when it reads them.
/// Linears that read the same input share one.
/// </summary>
public sealed class LinearInputStatistics : IDisposable
{
    private readonly IComputeDevice _device;
    private readonly DeviceTensor _absMax;
    private readonly DeviceTensor _sumOfOuterProducts;

    /// <summary>Zeroed statistics for <paramref name="channels"/> inputs on <paramref name="device"/> (fresh tensors are zero).</summary>
    public LinearInputStatistics(IComputeDevice device, int channels)
    {
        _device = device;
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

        _device.AccumulateAbsMax(activations, _absMax);
        _device.AccumulateGram(activations, _sumOfOuterProducts);
        Tokens += activations.Rows;
    }

    /// <summary>H = 2/n·XᵀX, the Hessian of the layer-wise squared error (GPTQ §3), as a full symmetric matrix.</summary>
    public double[] Hessian()
    {
        int n = Channels;

        // The device defines only the upper triangle; each lower cell is overwritten from its mirror before use.
        var h = new double[n * n];
        _device.Download<double>(_sumOfOuterProducts, h);
        double factor = Tokens == 0 ? 0 : 2.0 / Tokens;
        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++)
            {
                double v = h[i * n + j] * factor;
                h[i * n + j] = v;
                h[j * n + i] = v;
            }
        }

        return h;
    }

    public void Dispose()
    {
        _absMax.Dispose();
        _sumOfOuterProducts.Dispose();
    }
}
