using OrleansQuant.Contracts;
using OrleansQuant.Model.Engine;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>The residual stream of a cluster step, as the coordinator holds it between stages.</summary>
internal sealed class PayloadHidden(ActivationPayload payload) : Hidden
{
    public ActivationPayload Payload { get; } = payload;

    public override int Rows => Payload.Rows;
}
