using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Quantization;

/// <summary>Where a layer keeps its full-precision weights once int8 ones serve: see <see cref="FullPrecisionCopy"/>.</summary>
public enum FullPrecisionPlacement
{
    /// <summary>On the device while it has room to spare (<see cref="FullPrecisionCopy.DeviceReserve"/>), else in page-locked host memory.</summary>
    Auto,
    Device,
    Host,
}

/// <summary>
/// A layer's first full-precision weights, the source of every build: a re-quantization after a commit starts from
/// them, not from the int8 weights in service. While they serve, the layer owns them; once a commit takes them out of
/// service this owns them and keeps them where <see cref="FullPrecisionPlacement"/> says — on the device, or parked in
/// page-locked host memory (<see cref="IComputeDevice.CopyToHost"/>) and brought back only for the length of a build.
/// The single-process engine and the layer grain both keep theirs through this one type.
/// </summary>
public sealed class FullPrecisionCopy : IDisposable
{
    /// <summary>Auto keeps the copy on a device only while at least this share of the device's memory stays free.</summary>
    public const double DeviceReserve = 0.25;

    private DecoderLayerWeights? _onDevice;
    private Parked? _onHost;
    private bool _owned;

    private FullPrecisionCopy(DecoderLayerWeights serving)
    {
        _onDevice = serving;
        WeightType = serving.FloatWeightType;
    }

    /// <summary>What the kept linear weights are stored as (Float32 or BFloat16), wherever they are.</summary>
    public TensorType WeightType { get; }

    /// <summary>The copy of weights now in service (every linear full precision, or this throws naming the one that is not).</summary>
    public static FullPrecisionCopy Of(DecoderLayerWeights serving) => new(LayerQuantizer.RequireFullPrecision(serving));

    /// <summary>Whether the weights are parked in host memory.</summary>
    public bool IsOnHost => _onHost is not null;

    /// <summary>Whether <paramref name="weights"/> are this copy while it is on the device (still serving, or just swapped out).</summary>
    public bool Holds(DecoderLayerWeights weights) => ReferenceEquals(weights, _onDevice);

    /// <summary>
    /// Runs <paramref name="build"/> over the weights on <paramref name="device"/>: as they are when on the device, or
    /// brought back for the call (and freed after it, the host copy staying) when parked.
    /// </summary>
    public T Use<T>(IComputeDevice device, Func<DecoderLayerWeights, T> build)
    {
        if (_onDevice is { } weights)
        {
            return build(weights);
        }

        using var restored = _onHost!.Restore(device);
        return build(restored);
    }

    /// <summary>
    /// A commit swapped these weights out of service: from now on they are this copy's to keep, on the device or parked
    /// in host memory as <paramref name="placement"/> says. Returns whether they were parked.
    /// </summary>
    public bool LeftService(IComputeDevice device, FullPrecisionPlacement placement)
    {
        _owned = true;
        var weights = _onDevice ?? throw new InvalidOperationException("the full-precision weights already left service");
        if (!ShouldPark(device, weights, placement))
        {
            return false;
        }

        _onHost = Parked.Of(weights, device);
        _onDevice = null;
        weights.Dispose();
        return true;
    }

    /// <summary>
    /// What a commit does with the weights it swapped out of service: <paramref name="copy"/>'s are kept by it (see
    /// <see cref="LeftService"/>); any others (an earlier int8 build) are freed. Returns where kept weights now are, or
    /// null when the weights were freed.
    /// </summary>
    public static FullPrecisionPlacement? Retire(FullPrecisionCopy? copy, DecoderLayerWeights old, IComputeDevice device, FullPrecisionPlacement placement)
    {
        if (copy is null || !copy.Holds(old))
        {
            old.Dispose();
            return null;
        }

        return copy.LeftService(device, placement) ? FullPrecisionPlacement.Host : FullPrecisionPlacement.Device;
    }

    public void Dispose()
    {
        _onHost?.Dispose();
        _onHost = null;

        // In service they belong to the layer, which frees them itself.
        if (_owned)
        {
            _onDevice?.Dispose();
        }

        _onDevice = null;
    }

    private static bool ShouldPark(IComputeDevice device, DecoderLayerWeights weights, FullPrecisionPlacement placement)
    {
        if (placement != FullPrecisionPlacement.Auto)
        {
            return placement == FullPrecisionPlacement.Host;
        }

        // A CPU device's memory is host memory already; a GPU keeps the copy while a quarter of it stays free for KV
        // caches and builds, counting the bytes parking would give back.
        var info = device.Info;
        return info.Kind != DeviceKind.Cpu && info.FreeMemoryBytes < DeviceReserve * info.TotalMemoryBytes + weights.ByteLength;
    }

    /// <summary>A layer's full-precision tensors in host memory, with what it takes to rebuild the layer's weights on its device.</summary>
    private sealed class Parked : IDisposable
    {
        private readonly HostTensor _inputNorm;
        private readonly HostTensor _postAttentionNorm;
        private readonly Dictionary<LinearSlot, (HostTensor Weight, HostTensor? Bias)> _linears = [];

        private Parked(HostTensor inputNorm, HostTensor postAttentionNorm)
        {
            _inputNorm = inputNorm;
            _postAttentionNorm = postAttentionNorm;
        }

        public static Parked Of(DecoderLayerWeights weights, IComputeDevice device)
        {
            var parked = new Parked(device.CopyToHost(weights.InputNorm), device.CopyToHost(weights.PostAttentionNorm));
            try
            {
                foreach (var slot in LinearSlot.All)
                {
                    var linear = (FloatLinear)slot.Get(weights);
                    parked._linears[slot] = (device.CopyToHost(linear.Weight), linear.Bias is null ? null : device.CopyToHost(linear.Bias));
                }

                return parked;
            }
            catch
            {
                parked.Dispose();
                throw;
            }
        }

        public DecoderLayerWeights Restore(IComputeDevice device)
        {
            var made = new List<DeviceTensor>();
            DeviceTensor Back(HostTensor copy)
            {
                var tensor = device.CopyToDevice(copy);
                made.Add(tensor);
                return tensor;
            }

            try
            {
                var linears = _linears.ToDictionary(p => p.Key, p => new FloatLinear(Back(p.Value.Weight), p.Value.Bias is { } bias ? Back(bias) : null));
                return DecoderLayerWeights.Build(Back(_inputNorm), Back(_postAttentionNorm), slot => linears[slot]);
            }
            catch
            {
                made.ForEach(tensor => tensor.Dispose());
                throw;
            }
        }

        public void Dispose()
        {
            _inputNorm.Dispose();
            _postAttentionNorm.Dispose();
            foreach (var (weight, bias) in _linears.Values)
            {
                weight.Dispose();
                bias?.Dispose();
            }
        }
    }
}
