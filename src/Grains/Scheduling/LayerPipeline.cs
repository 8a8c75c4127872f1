using OrleansQuant.Contracts;
using OrleansQuant.Grains.Placement;

namespace OrleansQuant.Grains.Scheduling;

/// <summary>
/// The layer grains of a model in order, with the plan that placed them. A micro-batch visits them one after another;
/// where the next layer sits on the same device, the activation stays there and only a handle travels.
/// </summary>
internal sealed class LayerPipeline(IReadOnlyList<ILayerGrain> layers, IReadOnlyList<LayerPlacement> plan)
{
    public IReadOnlyList<ILayerGrain> Layers { get; } = layers;

    public IReadOnlyList<LayerPlacement> Plan { get; } = plan;

    public int Count => Layers.Count;

    /// <summary>Runs layers <c>[first, last]</c>; the result is always values (the coordinator needs them).</summary>
    public async Task<ActivationPayload> Run(IReadOnlyList<ChunkDescriptor> chunks, ActivationPayload input, IReadOnlyList<long> ended,
        int first, int last, bool observe = false)
    {
        var current = input;
        for (int i = first; i <= last; i++)
        {
            bool keep = i < last && SameDevice(i, i + 1);
            current = await Layers[i].Forward(new LayerStep(chunks, current, ended, observe, keep));
        }

        return current;
    }

    public Task EndSequences(IReadOnlyList<long> sequences) =>
        sequences.Count == 0 ? Task.CompletedTask : Task.WhenAll(Layers.Select(l => l.EndSequences(sequences)));

    private bool SameDevice(int a, int b) => Plan[a].Silo == Plan[b].Silo && Plan[a].Device == Plan[b].Device;
}
