using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

// Step graphs (IComputeDevice.CaptureStep): the stream is captured while the step queues its work, the capture is
// instantiated and then launched whenever the step repeats. The step's cuMemAllocAsync/cuMemFreeAsync become the
// graph's allocation and free nodes, whose addresses are fixed for the graph's life; CUDA may back the graphs launched
// into one stream with the same physical memory, so many recorded steps cost about one step's scratch.
public sealed unsafe partial class CudaDevice
{
    // Instantiation flags: none. CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH would free, before a relaunch, what a
    // graph allocated and did not free; a step frees every tensor it allocates, so an unfreed one is a bug (say, a
    // cache filled during the capture), and without the flag the relaunch reports it instead of freeing memory that
    // the cache still points to.
    private const ulong GraphInstantiateFlags = 0;

    private readonly HashSet<CudaStepGraph> _graphs = [];

    /// <summary>
    /// Whether decode steps are recorded as CUDA graphs and replayed (<see cref="IComputeDevice.CaptureStep"/>); on by
    /// default, off to compare the two in tests and benchmarks. A graph replays the kernels chosen when it was
    /// recorded, so a path switch (<see cref="Int8Gemv"/>, <see cref="Int8Mma"/>, ...) flipped later reaches only the
    /// steps recorded after it, or all steps once graphs are off.
    /// </summary>
    public bool StepGraphs { get; set; } = true;

    /// <summary>Recorded and not yet disposed: how many graphs this device holds.</summary>
    public int LiveStepGraphs => _graphs.Count;

    /// <summary>Why the last step that could not be recorded was run as usual instead; null while none failed.</summary>
    public string? LastCaptureFailure { get; private set; }

    /// <summary>Off while a <see cref="KernelProfile"/> times each launch: a replay would hide the kernels it times.</summary>
    public bool CapturesSteps => StepGraphs && Profile is null && !_disposed;

    public IStepGraph? CaptureStep(Action step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (!CapturesSteps)
        {
            step();
            return null;
        }

        MakeCurrent();
        int begun = Driver.cuStreamBeginCapture(Stream, Driver.StreamCaptureModeThreadLocal);
        if (begun != 0)
        {
            LastCaptureFailure = new CudaException(nameof(Driver.cuStreamBeginCapture), Driver.ErrorName(begun)).Message;
            step();
            return null;
        }

        Exception? failure = null;
        nint graph = 0;
        try
        {
            step();
        }
        catch (Exception e)
        {
            // A call the capture refuses invalidates it; the step's other calls then fail too (its tensors' frees
            // among them), and the first failure is the one worth reporting.
            failure = e;
        }
        finally
        {
            MakeCurrent();
            int status = Driver.cuStreamEndCapture(Stream, &graph);
            if (failure is null && status != 0)
            {
                failure = new CudaException(nameof(Driver.cuStreamEndCapture), Driver.ErrorName(status));
            }
        }

        var recorded = graph != 0 ? new GraphHandle(graph) : null;
        if (failure is null && recorded is not null)
        {
            nint exec;
            int status = Driver.cuGraphInstantiateWithFlags(&exec, graph, GraphInstantiateFlags);
            if (status == 0)
            {
                var stepGraph = new CudaStepGraph(this, recorded, new GraphExecHandle(exec));
                _graphs.Add(stepGraph);
                // Capture queued nothing: this launch is the step's own run.
                stepGraph.Launch();
                return stepGraph;
            }

            failure = new CudaException(nameof(Driver.cuGraphInstantiateWithFlags), Driver.ErrorName(status));
        }

        recorded?.Dispose();
        LastCaptureFailure = failure?.Message ?? $"{nameof(Driver.cuStreamEndCapture)} returned no graph";
        // Nothing of the step ran during the capture, so it runs now as it would have without graphs (and fails the
        // same way if its failure was its own, not the capture's).
        step();
        return null;
    }

    internal void Forget(CudaStepGraph graph) => _graphs.Remove(graph);

    // Before the context goes: a graph's handles belong to it.
    private void DestroyStepGraphs()
    {
        foreach (var graph in _graphs.ToArray())
        {
            graph.Dispose();
        }
    }
}
