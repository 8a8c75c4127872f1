namespace OrleansQuant.Contracts;

/// <summary>Where a layer grain is in its life: loaded → calibrating → quantizing → serving.</summary>
[GenerateSerializer]
public enum LayerState
{
    /// <summary>Full-precision weights on its device; serves FP forward passes.</summary>
    Loaded,

    /// <summary>Collecting calibration statistics as batches pass.</summary>
    Calibrating,

    /// <summary>Running SmoothQuant + GPTQ.</summary>
    Quantizing,

    /// <summary>Serving INT8 W8A8 forward passes.</summary>
    Serving,
}
