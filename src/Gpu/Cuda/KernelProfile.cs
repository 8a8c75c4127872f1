using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// GPU time per kernel (and per cuBLASLt GEMM) of the work queued while it is on (<see cref="CudaDevice.Profile"/>):
/// an event pair around each launch, read when <see cref="Totals"/> is asked. For finding where a layer's time goes on
/// a node without Nsight; the events add a little host time per launch, not GPU time.
/// </summary>
public sealed unsafe class KernelProfile : IDisposable
{
    private readonly CudaDevice _device;
    private readonly List<(string Name, CudaEventHandle Start, CudaEventHandle End)> _launches = [];
    private CudaEventHandle? _open;

    internal KernelProfile(CudaDevice device) => _device = device;

    internal void Begin(nint stream)
    {
        _device.MakeCurrent();
        _open = CudaDevice.CreateEvent();
        Driver.Check(Driver.cuEventRecord(_open.DangerousGetHandle(), stream), nameof(Driver.cuEventRecord));
    }

    internal void End(string name, nint stream)
    {
        _device.MakeCurrent();
        var end = CudaDevice.CreateEvent();
        Driver.Check(Driver.cuEventRecord(end.DangerousGetHandle(), stream), nameof(Driver.cuEventRecord));
        _launches.Add((name, _open!, end));
        _open = null;
    }

    /// <summary>Each kernel's calls and GPU milliseconds, in the order first launched (waits for the queued work).</summary>
    public IReadOnlyList<(string Kernel, int Calls, double Milliseconds)> Totals()
    {
        _device.MakeCurrent();
        var totals = new List<(string Kernel, int Calls, double Milliseconds)>();
        foreach (var (name, start, end) in _launches)
        {
            Driver.Check(Driver.cuEventSynchronize(end.DangerousGetHandle()), nameof(Driver.cuEventSynchronize));
            float milliseconds;
            Driver.Check(Driver.cuEventElapsedTime(&milliseconds, start.DangerousGetHandle(), end.DangerousGetHandle()), nameof(Driver.cuEventElapsedTime));
            int at = totals.FindIndex(t => t.Kernel == name);
            if (at < 0)
            {
                totals.Add((name, 1, milliseconds));
            }
            else
            {
                totals[at] = (name, totals[at].Calls + 1, totals[at].Milliseconds + milliseconds);
            }
        }

        return totals;
    }

    public void Dispose()
    {
        if (ReferenceEquals(_device.Profile, this))
        {
            _device.Profile = null;
        }

        foreach (var (_, start, end) in _launches)
        {
            start.Dispose();
            end.Dispose();
        }

        _launches.Clear();
    }
}
