using OrleansQuant.Contracts;
using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Grains.Scheduling;

/// <summary>
/// The model's ends at the coordinator: token embedding before layer 0, final norm and lm_head after the last layer.
/// They run on a device of their own, on its worker thread, so the coordinator's grain thread stays free to schedule.
/// </summary>
internal sealed class CoordinatorHead : IDisposable
{
    private readonly CpuDevice _device;
    private readonly DeviceWorker _worker = new("coordinator-head");

    private CoordinatorHead(CpuDevice device, OutputHead head)
    {
        _device = device;
        Head = head;
    }

    public OutputHead Head { get; }

    public static async Task<CoordinatorHead> Load(string directory, ModelConfig config)
    {
        var device = new CpuDevice(ordinal: -1);
        var head = await Task.Run(() =>
        {
            using var checkpoint = CheckpointReader.Open(directory);
            return OutputHead.Load(new WeightLoader(checkpoint, device), config);
        });
        return new CoordinatorHead(device, head);
    }

    public Task<ActivationPayload> Embed(int[] tokens) => _worker.Run(() =>
    {
        using var hidden = Head.Embed(tokens);
        return new ActivationPayload(hidden.Rows, hidden.Columns, hidden.ToArray<float>(), null);
    });

    /// <summary>Logits <c>[rows.Length, vocab]</c> of the chosen rows of the last layer's output.</summary>
    public Task<float[]> Logits(ActivationPayload hidden, int[] rows) => _worker.Run(() =>
    {
        using var tensor = Head.Device.UploadNew<float>(
            hidden.Values ?? throw new InvalidOperationException("the last layer returned a handle, not values"), hidden.Rows, hidden.Columns);
        return Head.Logits(tensor, rows);
    });

    public void Dispose()
    {
        _worker.Dispose();
        Head.Dispose();
        _device.Dispose();
    }
}
