namespace OrleansQuant.Model.Quantization;

/// <summary>GPTQ's knobs with llm-compressor's defaults: block 128, dampening 1 % of the mean Hessian diagonal, no act-order.</summary>
public sealed record GptqOptions(int BlockSize = 128, double DampeningFraction = 0.01, bool ActOrder = false);
