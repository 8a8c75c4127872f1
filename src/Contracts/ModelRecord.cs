namespace OrleansQuant.Contracts;

/// <summary>
/// A model grain's persisted state: the placement-independent facts it takes to load the model again after its
/// coordinator's silo died or the cluster restarted. Layers keep their own <see cref="LayerRecord"/>; placement is
/// planned anew over the silos that are there.
/// </summary>
[GenerateSerializer]
public sealed class ModelRecord
{
    /// <summary>The checkpoint directory (or synthetic model name) loaded, as resolved; null when no load succeeded.</summary>
    [Id(0)] public string? Checkpoint { get; set; }

    [Id(1)] public string DType { get; set; } = "auto";

    [Id(2)] public long KvCacheBudgetBytes { get; set; }

    [Id(3)] public int? MaxDevices { get; set; }

    /// <summary>Whether a whole-model quantization committed; its recipe is <see cref="RecipeYaml"/>.</summary>
    [Id(4)] public bool Quantized { get; set; }

    [Id(5)] public string? RecipeYaml { get; set; }
}
