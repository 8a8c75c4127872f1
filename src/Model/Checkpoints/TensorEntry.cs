namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// One tensor as a safetensors header describes it. <see cref="Start"/> and <see cref="End"/> are byte offsets
/// relative to the data section (the bytes after the header), exactly as in the header's "data_offsets".
/// </summary>
public sealed record TensorEntry(string Name, TensorDType DType, long[] Shape, long Start, long End)
{
    /// <summary>Product of the shape; 1 for a scalar (empty shape), as in PyTorch.</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (long dim in Shape)
            {
                count = checked(count * dim);
            }

            return count;
        }
    }

    public long ByteLength => End - Start;
}
