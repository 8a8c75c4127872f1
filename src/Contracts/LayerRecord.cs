namespace OrleansQuant.Contracts;

/// <summary>
/// A layer grain's persisted state: only what it takes to bring the layer back as it served — never the weights.
/// The quantized weights are a shard in the model store (<see cref="ShardPath"/>, checked against <see cref="Sha256"/>
/// on load); the full-precision ones are read again from <see cref="SourceCheckpoint"/>, which is referenced, not copied.
/// </summary>
[GenerateSerializer]
public sealed class LayerRecord
{
    /// <summary>The model grain's name; null until the layer was first loaded.</summary>
    [Id(0)] public string? Model { get; set; }

    [Id(1)] public int Layer { get; set; }

    /// <summary>The serving version: 0 as loaded from the source checkpoint, +1 per committed (re-)quantization.</summary>
    [Id(2)] public int Version { get; set; }

    /// <summary>The recipe (YAML) the serving version was built with; null while it serves the source's weights.</summary>
    [Id(3)] public string? RecipeYaml { get; set; }

    /// <summary>The lowercase hex SHA-256 of <see cref="ShardPath"/> as written.</summary>
    [Id(4)] public string? Sha256 { get; set; }

    /// <summary>The model store's shard of the serving version; null while it serves the source's weights.</summary>
    [Id(5)] public string? ShardPath { get; set; }

    [Id(6)] public long ShardBytes { get; set; }

    /// <summary>The checkpoint directory (or synthetic model name) the layer was loaded from.</summary>
    [Id(7)] public string? SourceCheckpoint { get; set; }

    /// <summary>What full-precision weights are stored as (<see cref="LoadModelRequest.DType"/>).</summary>
    [Id(8)] public string DType { get; set; } = "auto";

    /// <summary>The device ordinal it last ran on: a hint when it reactivates on its own, not a placement.</summary>
    [Id(9)] public int Device { get; set; }
}
