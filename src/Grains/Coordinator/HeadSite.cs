using OrleansQuant.Grains.Devices;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// Where the coordinator's head runs — its silo, as layer placements name silos — and that silo's activation store, so
/// the head and a layer on its device can hand each other activations as device handles instead of host copies.
/// </summary>
internal sealed record HeadSite(string Silo, ActivationStore Activations);
