using System.Diagnostics;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Model;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// The model's ends at the coordinator: token embedding before layer 0, final norm and lm_head after the last layer.
/// They run on a device of the coordinator's silo, on that device's stream, so the grain's thread stays free to schedule.
/// Each call is a hop of the step, timed into <paramref name="hops"/>.
/// </summary>
internal sealed class CoordinatorHead(ComputeDeviceSlot slot, OutputHead head, HopRecorder hops) : IDisposable
{
    public OutputHead Head { get; } = head;

    public static async Task<CoordinatorHead> Load(string directory, ComputeDeviceSlot slot, HopRecorder hops)
    {
        var head = await slot.Worker.Run(() =>
        {
            using var checkpoint = ModelSource.Open(directory);
            return checkpoint.LoadHead(slot.Device);
        });
        return new CoordinatorHead(slot, head, hops);
    }

    public Task<ActivationPayload> Embed(int[] tokens) => Timed(HopRecorder.Embed, () =>
    {
        using var hidden = Head.Embed(tokens);
        return new ActivationPayload(hidden.Rows, hidden.Columns, hidden.ToArray<float>(), null);
    });

    /// <summary>
    /// One token per row of the last stage's output (it returns only the sampled rows), sampled on the head's device with
    /// <paramref name="sampling"/>[row]: the coordinator receives ids and log-probabilities, never logits.
    /// </summary>
    public Task<(int[] Ids, float[] LogProbs)> Sample(ActivationPayload hidden, SamplingRow[] sampling) => Timed(HopRecorder.Head, () =>
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

    /// <summary>
    /// Runs <paramref name="work"/> on the device's worker: compute is the work itself, which ends by downloading its
    /// result (so on a GPU it includes waiting for the kernels); wall adds the worker's queue and the hand-offs.
    /// </summary>
    private async Task<T> Timed<T>(string kind, Func<T> work)
    {
        long called = Stopwatch.GetTimestamp();
        var compute = TimeSpan.Zero;
        var result = await slot.Worker.Run(() =>
        {
            long started = Stopwatch.GetTimestamp();
            var value = work();
            compute = Stopwatch.GetElapsedTime(started);
            return value;
        });
        hops.Record(kind, Stopwatch.GetElapsedTime(called), compute);
        return result;
    }

    public void Dispose() => slot.Worker.Run(Head.Dispose);
}
