namespace OrleansQuant.Model.Engine;

/// <summary>
/// The residual stream <c>[Rows, hidden]</c> of one step between pipeline stages. What it is depends on the transport:
/// a tensor on the device of a local model, or an activation payload that travels between layer grains.
/// </summary>
public abstract class Hidden : IDisposable
{
    public abstract int Rows { get; }

    public virtual void Dispose()
    {
    }
}
