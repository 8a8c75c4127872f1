namespace OrleansQuant.Grains.Layers;

/// <summary>
/// A seam for failure and slowness tests: when registered in a silo, it is called before each linear of a layer is
/// quantized and may throw, as a real GPTQ failure (a Hessian that is not positive definite, say) would, or take
/// its time, as a layer of a large model does; before a layer loads its weights; and before it writes its shard of a
/// saved checkpoint. All run on the layer's device worker, not on the grain's thread. It should honour
/// <paramref name="cancellation"/>.
/// </summary>
public interface IQuantizationFaultInjector
{
    void BeforeLinear(string model, int layer, string module, string recipeYaml, CancellationToken cancellation);

    void BeforeLoad(string model, int layer, CancellationToken cancellation)
    {
    }

    void BeforeWriteShard(string model, int layer, CancellationToken cancellation)
    {
    }
}
