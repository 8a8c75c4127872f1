using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Engine;

/// <summary>The residual stream of a local model: a tensor on its device.</summary>
public sealed class LocalHidden(DeviceTensor tensor) : Hidden
{
    public DeviceTensor Tensor { get; } = tensor;

    public override int Rows => Tensor.Rows;

    public override void Dispose() => Tensor.Dispose();
}
