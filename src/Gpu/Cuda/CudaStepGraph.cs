using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

/// <summary>
/// A step recorded by <see cref="CudaDevice.CaptureStep"/>: the captured graph and its executable instance, launched
/// on the device's stream. Disposed by its owner, or by the device when the device goes first.
/// </summary>
internal sealed class CudaStepGraph : IStepGraph
{
    private readonly CudaDevice _device;
    private readonly GraphHandle _graph;
    private readonly GraphExecHandle _exec;

    public CudaStepGraph(CudaDevice device, GraphHandle graph, GraphExecHandle exec)
    {
        _device = device;
        _graph = graph;
        _exec = exec;
    }

    public void Launch()
    {
        ObjectDisposedException.ThrowIf(_exec.IsClosed, this);
        _device.MakeCurrent();
        Driver.Check(Driver.cuGraphLaunch(_exec.DangerousGetHandle(), _device.Stream), nameof(Driver.cuGraphLaunch));
    }

    public void Dispose()
    {
        if (_exec.IsClosed)
        {
            return;
        }

        // A launch still queued finishes first: cuGraphExecDestroy frees a running graph when it completes.
        _device.Forget(this);
        _device.MakeCurrent();
        _exec.Dispose();
        _graph.Dispose();
    }
}
