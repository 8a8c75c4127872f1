namespace OrleansQuant.Model.Store;

/// <summary>
/// One layer's weights, at one version, as the model store holds them: the safetensors file (compressed-tensors names:
/// int8 <c>weight</c> + <c>weight_scale</c> for W8A8 linears, float32 for the rest), the SHA-256 of its bytes as
/// written, and its size. Small enough to live in grain state; the weights themselves never leave the file.
/// </summary>
public sealed record StoredLayerShard(string Path, string Sha256, long Bytes);
