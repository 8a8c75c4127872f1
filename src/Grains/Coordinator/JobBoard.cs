using Microsoft.Extensions.Logging;
using OrleansQuant.Contracts;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// A model grain's jobs, by id, the most recent <see cref="Kept"/> of them. Starting one runs its work in the grain's
/// context and returns at once; how the work ends — normally, by an exception, by cancellation — becomes the job's
/// outcome, and nothing escapes to crash the grain.
/// </summary>
internal sealed class JobBoard(ILogger logger)
{
    public const int Kept = 32;

    private readonly List<ModelJob> _jobs = new();
    private int _next;

    // Ids count up within one activation and carry a tag of their own, so that a job id names one job for ever: a
    // watch re-attached after a coordinator came back (its count starting again) never lands on another job.
    private readonly string _tag = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(2));

    public IEnumerable<ModelJob> All => _jobs;

    public ModelJob Start(string kind, Func<ModelJob, Task> work)
    {
        var job = new ModelJob($"{kind}-{++_next}-{_tag}", kind);
        _jobs.Add(job);
        if (_jobs.Count > Kept && _jobs.FirstOrDefault(j => j.State != JobState.Running) is { } old)
        {
            _jobs.Remove(old);
        }

        _ = Run(job, work);
        return job;
    }

    public ModelJob Get(string id) =>
        _jobs.FirstOrDefault(j => j.Id == id) ?? throw new ArgumentException($"no job '{id}'; known jobs: {string.Join(", ", _jobs.Select(j => j.Id))}");

    private async Task Run(ModelJob job, Func<ModelJob, Task> work)
    {
        try
        {
            await Task.Yield();
            await work(job);
            job.End(JobState.Succeeded);
        }
        catch (OperationCanceledException) when (job.Cancellation.IsCancellationRequested)
        {
            job.End(JobState.Cancelled, "cancelled on request; nothing it built went into service");
        }
        catch (Exception error)
        {
            logger.LogWarning("Job {Job} failed: {Error}", job.Id, error.Message);
            job.End(JobState.Failed, error.Message);
        }
    }
}
