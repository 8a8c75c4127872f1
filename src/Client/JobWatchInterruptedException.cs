namespace OrleansQuant.Client;

/// <summary>
/// A job's watch broke (a silo or gateway went away) and could not be opened again within the resumes allowed
/// (<see cref="GenerationResumeOptions"/>). The job itself may well go on: watch it again from <see cref="Next"/>, or
/// read it with <c>JobAsync</c>. The cause is the <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class JobWatchInterruptedException(string model, string jobId, int next, int resumes, string message, Exception cause)
    : Exception($"the watch of job '{jobId}' on model '{model}' was interrupted at event {next} after {resumes} resumes: {message} ({cause.GetType().Name}: {cause.Message})", cause)
{
    public string Model { get; } = model;

    public string JobId { get; } = jobId;

    /// <summary>The sequence of the first event not delivered.</summary>
    public int Next { get; } = next;
}
