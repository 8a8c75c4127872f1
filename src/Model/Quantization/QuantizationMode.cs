namespace OrleansQuant.Model.Quantization;

/// <summary>Which activations each layer is calibrated on.</summary>
public enum QuantizationMode
{
    /// <summary>
    /// One pass of the calibration data through the full-precision model; every layer collects its statistics as the
    /// batches pass, then all layers quantize at once. The mode the cluster runs, since no layer waits for another.
    /// </summary>
    LayerParallel,

    /// <summary>
    /// Layer by layer, each calibrated on the outputs of the already quantized layers before it (llm-compressor's
    /// sequential pipeline), so later layers see and partly correct the earlier layers' error. Kept for comparison.
    /// </summary>
    Sequential,
}
