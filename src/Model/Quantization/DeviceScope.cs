using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Quantization;

/// <summary>
/// The device tensors one quantization step allocates along the way, freed together when it ends (or fails), except
/// the ones it hands back (<see cref="Keep"/>). Quantization allocates several large temporaries per linear; this keeps
/// a failure halfway (a fault injected, a matrix that is not positive definite) from leaking any of them.
/// </summary>
internal sealed class DeviceScope : IDisposable
{
    private readonly List<DeviceTensor> _tensors = [];

    public DeviceTensor Add(DeviceTensor tensor)
    {
        _tensors.Add(tensor);
        return tensor;
    }

    /// <summary>Takes <paramref name="tensor"/> out of the scope: the caller owns it now.</summary>
    public DeviceTensor Keep(DeviceTensor tensor)
    {
        _tensors.Remove(tensor);
        return tensor;
    }

    /// <summary>Frees <paramref name="tensor"/> now, before the scope ends: an intermediate no later step reads.</summary>
    public void Free(DeviceTensor tensor)
    {
        _tensors.Remove(tensor);
        tensor.Dispose();
    }

    public void Dispose()
    {
        foreach (var tensor in _tensors)
        {
            tensor.Dispose();
        }

        _tensors.Clear();
    }
}
