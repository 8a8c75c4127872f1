namespace OrleansQuant.Contracts;

/// <summary>
/// The coordinator of one model (key: the model name): loads it across the cluster, quantizes it layer-parallel,
/// schedules generation through the layer grains, and re-quantizes single layers while serving.
/// </summary>
public interface IModelGrain : IGrainWithStringKey
{
    /// <summary>Plans placement over every silo's devices and loads each layer on its device.</summary>
    Task<ModelStatus> Load(LoadModelRequest request);

    /// <summary>Calibrates and quantizes every layer, streaming progress.</summary>
    IAsyncEnumerable<QuantizationEvent> Quantize(QuantizeRequest request);

    /// <summary>Continues a prompt, streaming tokens as they are made (continuous batching with other requests).</summary>
    IAsyncEnumerable<GeneratedToken> Generate(GenerateRequest request);

    /// <summary>Re-quantizes one layer with another recipe while the model keeps serving.</summary>
    Task<RequantizeResult> RequantizeLayer(int layer, string recipeYaml);

    /// <summary>Writes the model, as it now serves, as a checkpoint (compressed-tensors once quantized).</summary>
    Task Save(string directory);

    Task<ModelStatus> GetStatus();
}
