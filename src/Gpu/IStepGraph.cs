namespace OrleansQuant.Gpu;

/// <summary>
/// The device work of one step, recorded once by <see cref="IComputeDevice.CaptureStep"/> and replayed as one launch
/// (a CUDA graph): the same kernels with the same arguments on the same buffers, so a replay reads whatever those
/// buffers hold at the time. Disposing it frees the recording; a replay already queued still runs.
/// </summary>
public interface IStepGraph : IDisposable
{
    /// <summary>Queues the recorded work on the device's stream, in order with every other call.</summary>
    void Launch();
}
