using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>Sees every linear input as it passes through a layer; calibration accumulates its statistics this way.</summary>
public interface ILinearInputObserver
{
    void Observe(LinearInput input, DeviceTensor activations);
}
