using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// Keys and values of one sequence in one layer, on the layer's device. Grows by doubling so that a decode step
/// appends a row without copying the history each time.
/// </summary>
internal sealed class SequenceKvCache : IDisposable
{
    private readonly IComputeDevice _device;
    private readonly int _width;

    public SequenceKvCache(IComputeDevice device, int width)
    {
        _device = device;
        _width = width;
        Keys = device.Allocate(TensorType.Float32, KvCacheSize.InitialCapacity, width);
        Values = device.Allocate(TensorType.Float32, KvCacheSize.InitialCapacity, width);
    }

    public DeviceTensor Keys { get; private set; }

    public DeviceTensor Values { get; private set; }

    /// <summary>Positions cached so far.</summary>
    public int Length { get; private set; }

    public long ByteLength => Keys.ByteLength + Values.ByteLength;

    /// <summary>Appends rows <c>[row, row + count)</c> of this step's keys and values at position <paramref name="position"/>.</summary>
    public void Append(DeviceTensor keys, DeviceTensor values, int row, int count, int position, long sequenceId)
    {
        if (position != Length)
        {
            throw new InvalidOperationException(
                $"sequence {sequenceId}: a chunk starts at position {position} but {Length} positions are cached; chunks must continue where the sequence left off");
        }

        EnsureCapacity(Length + count);
        _device.CopyRows(keys, row, Keys, Length, count);
        _device.CopyRows(values, row, Values, Length, count);
        Length += count;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= Keys.Rows)
        {
            return;
        }

        int capacity = KvCacheSize.Capacity(needed);
        Keys = Grow(Keys, capacity);
        Values = Grow(Values, capacity);
    }

    private DeviceTensor Grow(DeviceTensor old, int capacity)
    {
        var grown = _device.Allocate(TensorType.Float32, capacity, _width);
        _device.CopyRows(old, 0, grown, 0, Length);
        old.Dispose();
        return grown;
    }

    public void Dispose()
    {
        Keys.Dispose();
        Values.Dispose();
    }
}
