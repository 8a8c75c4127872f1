namespace OrleansQuant.Contracts;

/// <summary>
/// What a model's coordinator (key: the model name, the same grain as <see cref="IModelGrain"/>) measured of its own
/// serving: generation steps and the wall and compute time of each hop a step makes, so the Orleans cost per hop can be
/// read off a running model (<c>orleansquant bench --parts cluster</c> does).
/// </summary>
public interface IServingTimesGrain : IGrainWithStringKey
{
    Task<ServingTimes> GetServingTimes();

    /// <summary>Starts the counts and windows afresh, e.g. after a warm-up.</summary>
    Task ResetServingTimes();
}
