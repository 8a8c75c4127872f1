namespace OrleansQuant.Contracts;

/// <summary>Where a long-running job is: loading, quantizing, re-quantizing or saving a model.</summary>
[GenerateSerializer]
public enum JobState
{
    Running,
    Succeeded,
    Failed,

    /// <summary>Stopped on request; nothing it had built went into service.</summary>
    Cancelled,
}
