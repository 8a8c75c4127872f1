namespace OrleansQuant.Model.Checkpoints;

/// <summary>
/// Element types this runtime reads and writes in safetensors files. The set is deliberately small:
/// HF float checkpoints (F32/F16/BF16) and compressed-tensors int8 weights with their int scales/indices.
/// </summary>
public enum TensorDType
{
    F32,
    F16,
    BF16,
    I8,
    I32,
    I64,
}
