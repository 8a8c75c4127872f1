using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// Where one forward step's tokens go in a layer's paged KV cache, as the Int32 device tensors the kernels read:
/// each row's position (RoPE) and cache slot (<see cref="IComputeDevice.WriteKvCache"/>), and the varlen layout of
/// the step's sequences (<see cref="IComputeDevice.PagedAttention"/>). Built once per step on the host from the
/// batch and the cache's bookkeeping (<see cref="StepPlan"/>), then uploaded, so no kernel waits on a host read.
/// A decode graph keeps one layout of each shape it records and writes each step's plan into it (<see cref="Write"/>).
/// </summary>
internal sealed class StepLayout : IDisposable
{
    private StepLayout(DeviceTensor positions, DeviceTensor slots, AttentionBatch attention)
    {
        Positions = positions;
        Slots = slots;
        Attention = attention;
    }

    /// <summary>Int32 <c>[1, T]</c>: the absolute position of every row.</summary>
    public DeviceTensor Positions { get; }

    /// <summary>Int32 <c>[1, T]</c>: the cache row each row's key and value go to.</summary>
    public DeviceTensor Slots { get; }

    public AttentionBatch Attention { get; }

    /// <summary>Takes the cache blocks the batch's new positions need (<see cref="StepPlan.Reserve"/>) and uploads the layout.</summary>
    public static StepLayout Reserve(ForwardBatch batch, PagedKvCache cache, IComputeDevice device)
    {
        var plan = StepPlan.Reserve(batch, cache);
        var layout = Allocate(plan, device);
        try
        {
            layout.Write(plan, device);
            return layout;
        }
        catch
        {
            layout.Dispose();
            throw;
        }
    }

    /// <summary>Tensors of the plan's shapes, undefined until <see cref="Write"/> fills every element of them.</summary>
    public static StepLayout Allocate(StepPlan plan, IComputeDevice device)
    {
        var attention = new AttentionBatch(
            device.AllocateScratch(TensorType.Int32, 1, plan.Sequences + 1),
            device.AllocateScratch(TensorType.Int32, 1, plan.Sequences),
            device.AllocateScratch(TensorType.Int32, plan.Sequences, plan.BlockTableWidth),
            KvCacheSize.BlockSize, plan.Sequences, plan.MaxQueryLength, plan.MaxContextLength);
        return new StepLayout(device.AllocateScratch(TensorType.Int32, 1, plan.Tokens), device.AllocateScratch(TensorType.Int32, 1, plan.Tokens), attention);
    }

    /// <summary>Uploads a plan of this layout's shapes into its tensors, in stream order.</summary>
    public void Write(StepPlan plan, IComputeDevice device)
    {
        if (plan.Tokens != Positions.Columns || plan.Sequences != Attention.Sequences || plan.BlockTableWidth != Attention.BlockTables.Columns
            || plan.MaxQueryLength != Attention.MaxQueryLength || plan.MaxContextLength != Attention.MaxContextLength)
        {
            throw new ArgumentException(
                $"a step of {plan.Tokens} tokens, {plan.Sequences} sequences, block tables {plan.BlockTableWidth} wide and contexts up to {plan.MaxContextLength} "
                + $"does not fit a layout of {Positions.Columns} tokens, {Attention.Sequences} sequences, {Attention.BlockTables.Columns} wide, up to {Attention.MaxContextLength}");
        }

        device.Upload<int>(plan.Positions, Positions);
        device.Upload<int>(plan.Slots, Slots);
        device.Upload<int>(plan.QueryStarts, Attention.QueryStarts);
        device.Upload<int>(plan.ContextLengths, Attention.ContextLengths);
        device.Upload<int>(plan.BlockTables, Attention.BlockTables);
    }

    public void Dispose()
    {
        Positions.Dispose();
        Slots.Dispose();
        Attention.Dispose();
    }
}
