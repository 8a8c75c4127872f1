namespace OrleansQuant.Contracts;

/// <summary>A safetensors shard a layer grain wrote on its silo: its file name, the tensors in it and its size.</summary>
[GenerateSerializer, Immutable]
public sealed record LayerShard(
    [property: Id(0)] string File,
    [property: Id(1)] IReadOnlyList<string> Tensors,
    [property: Id(2)] long Bytes);
