using System.Collections.Concurrent;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;

namespace OrleansQuant.Grains.Devices;

/// <summary>
/// Activations left on this silo's devices between two layers on the same device: the producer parks the tensor and
/// hands out an <see cref="ActivationHandle"/>, the consumer takes it. Nothing is copied or serialized. A tensor whose
/// consumer never came (its step was lost with a failed silo or coordinator) is freed once it is older than
/// <see cref="Expiry"/>, well past Orleans' default 30 s response timeout.
/// </summary>
public sealed class ActivationStore(TimeProvider time)
{
    public static readonly TimeSpan Expiry = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<Guid, (DeviceTensor Tensor, DateTimeOffset Parked)> _tensors = new();

    public ActivationStore()
        : this(TimeProvider.System)
    {
    }

    public ActivationHandle Park(string silo, int device, DeviceTensor tensor)
    {
        FreeExpired();
        var id = Guid.NewGuid();
        _tensors[id] = (tensor, time.GetUtcNow());
        return new ActivationHandle(silo, device, id);
    }

    /// <summary>Takes ownership of a parked tensor; the caller disposes it.</summary>
    public DeviceTensor Take(ActivationHandle handle) =>
        _tensors.TryRemove(handle.Id, out var parked)
            ? parked.Tensor
            : throw new InvalidOperationException($"activation {handle.Id} is not parked on device {handle.Device} of {handle.Silo}; it was taken already, expired, or lives elsewhere");

    public int Parked => _tensors.Count;

    private void FreeExpired()
    {
        var cutoff = time.GetUtcNow() - Expiry;
        foreach (var (id, parked) in _tensors)
        {
            if (parked.Parked < cutoff && _tensors.TryRemove(id, out _))
            {
                parked.Tensor.Dispose();
            }
        }
    }
}
