namespace OrleansQuant.Model.Inference;

/// <summary>Layers on the device so far, out of the model's total.</summary>
public readonly record struct LoadProgress(int LayersLoaded, int LayerCount, TimeSpan Elapsed);
