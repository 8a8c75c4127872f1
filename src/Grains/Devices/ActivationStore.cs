using System.Collections.Concurrent;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;

namespace OrleansQuant.Grains.Devices;

/// <summary>
/// Activations left on this silo's devices between two layers on the same device: the producer parks the tensor and
/// hands out an <see cref="ActivationHandle"/>, the consumer takes it. Nothing is copied or serialized.
/// </summary>
public sealed class ActivationStore
{
    private readonly ConcurrentDictionary<Guid, DeviceTensor> _tensors = new();

    public ActivationHandle Park(string silo, int device, DeviceTensor tensor)
    {
        var id = Guid.NewGuid();
        _tensors[id] = tensor;
        return new ActivationHandle(silo, device, id);
    }

    /// <summary>Takes ownership of a parked tensor; the caller disposes it.</summary>
    public DeviceTensor Take(ActivationHandle handle) =>
        _tensors.TryRemove(handle.Id, out var tensor)
            ? tensor
            : throw new InvalidOperationException($"activation {handle.Id} is not parked on device {handle.Device} of {handle.Silo}; it was taken already or lives elsewhere");

    public int Parked => _tensors.Count;
}
