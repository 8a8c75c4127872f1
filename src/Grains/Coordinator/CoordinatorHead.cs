using System.Diagnostics;
using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Model;
using OrleansQuant.Model.Engine;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// The model's ends at the coordinator: token embedding before layer 0, final norm and lm_head after the last layer.
/// They run on a device of the coordinator's silo, on that device's stream, so the grain's thread stays free to schedule.
/// Each call is a hop of the step, timed into <paramref name="hops"/>. When the first or last layer lives on the head's
/// device, the activation between them stays there: parked in the silo's <see cref="ActivationStore"/> and passed as a
/// handle, as consecutive layers on one device pass theirs.
/// </summary>
internal sealed class CoordinatorHead(ComputeDeviceSlot slot, OutputHead head, HeadSite site, HopRecorder hops) : IDisposable
{
    public OutputHead Head { get; } = head;

    /// <summary>Whether a layer placed on <paramref name="silo"/>'s device <paramref name="device"/> shares the head's device.</summary>
    public bool SharesDevice(string silo, int device) => silo == site.Silo && device == slot.Device.Info.Ordinal;

    public static async Task<CoordinatorHead> Load(string directory, WeightPrecision precision, ComputeDeviceSlot slot, HeadSite site, HopRecorder hops)
    {
        var head = await slot.Worker.Run(() =>
        {
            using var checkpoint = ModelSource.Open(directory, precision);
            return checkpoint.LoadHead(slot.Device);
        });
        return new CoordinatorHead(slot, head, site, hops);
    }

    /// <summary>The token embeddings of a step: parked on the head's device when <paramref name="park"/> (layer 0 is there), else values.</summary>
    public Task<ActivationPayload> Embed(int[] tokens, bool park = false) => Timed(HopRecorder.Embed, () =>
    {
        var hidden = Head.Embed(tokens);
        if (park)
        {
            return new ActivationPayload(hidden.Rows, hidden.Columns, null, site.Activations.Park(site.Silo, slot.Device.Info.Ordinal, hidden));
        }

        using (hidden)
        {
            return ActivationPayloads.Of(hidden);
        }
    });

    /// <summary>
    /// One token per sampled row of the last stage's output, sampled on the head's device with <paramref name="sampling"/>[i],
    /// and the rows <paramref name="scoring"/> asks for scored there (<see cref="HeadStep"/>): the coordinator receives
    /// ids and log-probabilities, never logits. The output is either the selected rows' values (the last stage returned
    /// the sampled rows, then the scored ones) or a handle to the whole step on this device, whose rows are as given.
    /// The samples' layer versions are left for the caller to fill.
    /// </summary>
    public Task<StepSamples> Sample(ActivationPayload hidden, int[] rows, SamplingRow[] sampling, StepScoring? scoring) => Timed(HopRecorder.Head, () =>
    {
        using var tensor = hidden.Handle is { } handle
            ? ActivationPayloads.As(slot.Device, site.Activations.Take(handle), Head.ActivationType)
            : ActivationPayloads.Upload(slot.Device, hidden, Head.ActivationType);
        if (hidden.Handle is null)
        {
            int scored = scoring?.Rows.Length ?? 0;
            rows = Enumerable.Range(0, rows.Length).ToArray();
            scoring = scoring is null ? null : scoring with { Rows = Enumerable.Range(rows.Length, scored).ToArray() };
        }

        return HeadStep.Run(Head, tensor, rows, sampling, scoring, []);
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
