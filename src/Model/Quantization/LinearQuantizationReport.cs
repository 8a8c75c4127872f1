namespace OrleansQuant.Model.Quantization;

/// <summary>
/// How one linear fared. <see cref="WeightLoss"/> is GPTQ's objective ‖(W − Q)·Xᵀ‖²/n on the calibration inputs
/// (weights only); the W8A8 errors are relative output errors ‖Y − Ŷ‖²/‖Y‖² with activations quantized too, for
/// plain round-to-nearest W8A8 (<see cref="BaselineError"/>) and for the recipe (<see cref="W8A8Error"/>).
/// </summary>
public sealed record LinearQuantizationReport(string Module, double WeightLoss, double BaselineError, double W8A8Error);
