namespace OrleansQuant.Contracts;

/// <summary>Layer-parallel: one FP calibration pass, all layers quantize at once. Sequential: each layer on the quantized outputs before it.</summary>
[GenerateSerializer]
public enum ClusterQuantizationMode
{
    LayerParallel,
    Sequential,
}
