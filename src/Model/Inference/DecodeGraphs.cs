using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// A layer's decode steps replayed as device graphs (CUDA graphs: <see cref="IComputeDevice.CaptureStep"/>), so a step
/// costs its input uploads, two row copies and one launch instead of a dozen kernel launches and twice as many
/// allocations, as vLLM replays its captured decode steps.
/// <para>
/// A graph replays fixed kernels on fixed buffers, so each recording owns the buffers its step reads: the layout
/// (positions, slots, block tables; rewritten before every replay) and the hidden rows (copied in and out). What the
/// kernels are depends only on the step's shapes, which make the recording's key: the tokens, the hidden rows' type,
/// and the <see cref="ContextBucket"/> that attention's launch is sized by. The rest of what a graph points to (the
/// weights, the KV pool) is the same for all of them, so when the weights are swapped or the pool is reallocated
/// (grown or trimmed) every recording is dropped at once.
/// </para>
/// <para>
/// A key's first step runs as usual, which makes the per-shape resources the device creates lazily (GEMM plans and
/// their tuning, kernel attributes) outside any recording; its second is recorded; later ones replay. A step the
/// device could not record stays unrecorded until its recording is dropped.
/// </para>
/// </summary>
internal sealed class DecodeGraphs : IDisposable
{
    /// <summary>
    /// Decode steps of more tokens are not recorded: their GEMMs take long enough that launches cost little beside
    /// them, and every distinct token count would be one more recording.
    /// </summary>
    public const int MaxTokens = 256;

    /// <summary>Recordings kept per layer; past this the least recently used one is dropped.</summary>
    public const int MaxRecordings = 32;

    private readonly IComputeDevice _device;
    private readonly PagedKvCache _cache;
    private readonly StepCompute _compute;
    private readonly Dictionary<Key, Recording> _recordings = new();
    private DecoderLayerWeights? _weights;
    private DeviceTensor? _keyPool, _valuePool;
    private long _steps;

    /// <summary>The arithmetic of a layer's step on a layout already on the device (<see cref="DecoderLayer"/>'s).</summary>
    public delegate void StepCompute(DeviceTensor hidden, StepLayout step, DecoderLayerWeights weights);

    public DecodeGraphs(IComputeDevice device, PagedKvCache cache, StepCompute compute)
    {
        _device = device;
        _cache = cache;
        _compute = compute;
        Captures = () => device.CapturesSteps;
        Capture = device.CaptureStep;
    }

    /// <summary>Whether the device records now (<see cref="IComputeDevice.CapturesSteps"/>); tests stand in for a GPU's graphs here and in <see cref="Capture"/>.</summary>
    internal Func<bool> Captures { get; set; }

    /// <summary><see cref="IComputeDevice.CaptureStep"/>, or a test's stand-in.</summary>
    internal Func<Action, IStepGraph?> Capture { get; set; }

    /// <summary>Recordings held (a key seen once holds its buffers but no graph yet).</summary>
    public int Count => _recordings.Count;

    /// <summary>Graphs recorded so far, dropped ones included.</summary>
    public int Recorded { get; private set; }

    /// <summary>Graph launches so far.</summary>
    public long Replays { get; private set; }

    /// <summary>A decode step: every sequence brings one token.</summary>
    public static bool IsDecode(ForwardBatch batch) => batch.TokenCount == batch.Chunks.Count;

    /// <summary>
    /// Runs a decode step of the serving weights through a recording and returns true, or returns false (having done
    /// nothing) when the step is not one to record or the device does not record now; the caller then runs it as usual.
    /// </summary>
    public bool TryForward(DeviceTensor hidden, ForwardBatch batch, DecoderLayerWeights weights)
    {
        if (!IsDecode(batch) || batch.TokenCount > MaxTokens || !Captures())
        {
            return false;
        }

        // Taking the step's blocks may reallocate the pool, so the pool is compared after it.
        var plan = StepPlan.Reserve(batch, _cache);
        if (!ReferenceEquals(weights, _weights) || !ReferenceEquals(_cache.Keys, _keyPool) || !ReferenceEquals(_cache.Values, _valuePool))
        {
            Clear();
            (_weights, _keyPool, _valuePool) = (weights, _cache.Keys, _cache.Values);
        }

        var recording = Find(new Key(plan.Tokens, plan.MaxContextLength, hidden.Type, hidden.Columns), plan);
        recording.Layout.Write(plan, _device);
        _device.CopyRows(hidden, 0, recording.Hidden, 0, plan.Tokens);
        Run(recording, weights);
        _device.CopyRows(recording.Hidden, 0, hidden, 0, plan.Tokens);
        return true;
    }

    private void Run(Recording recording, DecoderLayerWeights weights)
    {
        if (recording.Graph is { } graph)
        {
            graph.Launch();
            Replays++;
            return;
        }

        var (layout, hidden) = (recording.Layout, recording.Hidden);
        void Step() => _compute(hidden, layout, weights);
        if (!recording.Warm || recording.Refused)
        {
            Step();
            recording.Warm = true;
            return;
        }

        recording.Graph = Capture(Step);
        recording.Refused = recording.Graph is null;
        Recorded += recording.Graph is null ? 0 : 1;
    }

    private Recording Find(Key key, StepPlan plan)
    {
        _steps++;
        if (!_recordings.TryGetValue(key, out var recording))
        {
            if (_recordings.Count >= MaxRecordings)
            {
                var oldest = _recordings.MinBy(pair => pair.Value.LastUsed);
                oldest.Value.Dispose();
                _recordings.Remove(oldest.Key);
            }

            recording = new Recording(StepLayout.Allocate(plan, _device), _device.Allocate(key.HiddenType, key.Tokens, key.HiddenWidth));
            _recordings[key] = recording;
        }

        recording.LastUsed = _steps;
        return recording;
    }

    /// <summary>Drops every recording (its graph and buffers, freed in stream order).</summary>
    public void Clear()
    {
        foreach (var recording in _recordings.Values)
        {
            recording.Dispose();
        }

        _recordings.Clear();
        (_weights, _keyPool, _valuePool) = (null, null, null);
    }

    public void Dispose() => Clear();

    private readonly record struct Key(int Tokens, int ContextBucket, TensorType HiddenType, int HiddenWidth);

    private sealed class Recording(StepLayout layout, DeviceTensor hidden) : IDisposable
    {
        public StepLayout Layout { get; } = layout;

        /// <summary>The hidden rows the graph reads and writes: the step's are copied in before and out after.</summary>
        public DeviceTensor Hidden { get; } = hidden;

        public IStepGraph? Graph { get; set; }

        /// <summary>Ran once as usual, so its lazily made resources exist.</summary>
        public bool Warm { get; set; }

        /// <summary>The device could not record it; it runs as usual.</summary>
        public bool Refused { get; set; }

        public long LastUsed { get; set; }

        public void Dispose()
        {
            Graph?.Dispose();
            Layout.Dispose();
            Hidden.Dispose();
        }
    }
}
