namespace OrleansQuant.Client;

/// <summary>
/// A generation's stream broke (its coordinator's silo died, the gateway went away, a call timed out) and was not
/// resumed: the resumes allowed (<see cref="GenerationResumeOptions"/>) ran out, in number or in time. <see cref="Delivered"/> are the token ids
/// the caller already received; the cause is the <see cref="Exception.InnerException"/>.
/// </summary>
public sealed class GenerationInterruptedException(string model, IReadOnlyList<int> delivered, int resumes, string message, Exception cause)
    : Exception($"generation on model '{model}' was interrupted after {delivered.Count} tokens and {resumes} resumes: {message} ({cause.GetType().Name}: {cause.Message})", cause)
{
    public string Model { get; } = model;

    public IReadOnlyList<int> Delivered { get; } = delivered;

    public int Resumes { get; } = resumes;
}
