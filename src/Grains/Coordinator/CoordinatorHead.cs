using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// The model's ends at the coordinator: token embedding before layer 0, final norm and lm_head after the last layer.
/// They run on a device of the coordinator's silo, on that device's stream, so the grain's thread stays free to schedule.
/// </summary>
internal sealed class CoordinatorHead(ComputeDeviceSlot slot, OutputHead head) : IDisposable
{
    public OutputHead Head { get; } = head;

    public static async Task<CoordinatorHead> Load(string directory, ComputeDeviceSlot slot)
    {
        var head = await slot.Worker.Run(() =>
        {
            using var checkpoint = ModelCheckpoint.Open(directory);
            return checkpoint.LoadHead(slot.Device);
        });
        return new CoordinatorHead(slot, head);
    }

    public Task<ActivationPayload> Embed(int[] tokens) => slot.Worker.Run(() =>
    {
        using var hidden = Head.Embed(tokens);
        return new ActivationPayload(hidden.Rows, hidden.Columns, hidden.ToArray<float>(), null);
    });

    /// <summary>
    /// One token per row of the last stage's output (it returns only the sampled rows), sampled on the head's device with
    /// <paramref name="sampling"/>[row]: the coordinator receives ids and log-probabilities, never logits.
    /// </summary>
    public Task<(int[] Ids, float[] LogProbs)> Sample(ActivationPayload hidden, SamplingRow[] sampling) => slot.Worker.Run(() =>
    {
        using var tensor = slot.Device.UploadNew<float>(
            hidden.Values ?? throw new InvalidOperationException("the last layer returned a handle, not values"), hidden.Rows, hidden.Columns);
        var ids = new int[hidden.Rows];
        var logProbs = new float[hidden.Rows];
        Head.Sample(tensor, Enumerable.Range(0, hidden.Rows).ToArray(), sampling, ids, logProbs);
        return (ids, logProbs);
    });

    /// <summary>Runs <paramref name="work"/> on the head's device stream (e.g. writing its tensors).</summary>
    public Task Run(Action<OutputHead> work) => slot.Worker.Run(() => work(Head));

    public void Dispose() => slot.Worker.Run(Head.Dispose);
}
