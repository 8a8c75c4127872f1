namespace OrleansQuant.Client;

/// <summary>
/// How <see cref="OrleansQuantClient.GenerateAsync"/> resumes a generation, and <see cref="OrleansQuantClient.WatchAsync"/>
/// a job's watch, whose stream broke because a silo went away (section "OrleansQuant:Client:Resume"). See
/// <see cref="GenerationResume"/> and <see cref="JobWatchResume"/> for what is resumed and what is not.
/// </summary>
public sealed class GenerationResumeOptions
{
    /// <summary>How many times one generation may be re-issued; 0 turns resuming off.</summary>
    public int MaxResumes { get; set; } = 10;

    /// <summary>
    /// How long, from a generation's first interruption, it may go on being resumed. A coordinator whose silo died
    /// comes back only once the cluster has declared that silo dead (Orleans' defaults: about 15 to 20 s) and its model
    /// is restored from the store; this leaves room for both.
    /// </summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>The wait before the first re-issue; it doubles with each further one, up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan FirstDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);
}
