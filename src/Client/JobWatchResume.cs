using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using OrleansQuant.Contracts;

namespace OrleansQuant.Client;

/// <summary>
/// Keeps a watch on a job going across the loss of the gateway or silo it came through. A job's events are kept on its
/// model's coordinator and numbered (<see cref="JobEvent.Sequence"/>); when the watch breaks as a silo going away breaks
/// it (<see cref="GenerationResume.IsInterruption"/>, or a gateway closing, <see cref="GatewayLoss"/>), it is opened
/// again from the event after the last one delivered, so the caller sees every event once and in order (heartbeats
/// are not kept, so none is repeated). The job lives in its coordinator: when that died too, the coordinator that
/// comes back does not know the job, and the watch ends with its "no job" error. Bounded as generation resumes are
/// (<see cref="GenerationResumeOptions"/>); past the bounds, <see cref="JobWatchInterruptedException"/>.
/// </summary>
public sealed class JobWatchResume(GenerationResumeOptions options, ILogger logger, GatewayLoss? gatewayLoss = null)
{
    /// <summary>Opens a job's watch from event <c>from</c> (the model grain's <c>WatchJob</c>).</summary>
    public delegate IAsyncEnumerable<JobEvent> Open(int from, CancellationToken cancellation);

    /// <summary>Job <paramref name="jobId"/>'s events from <paramref name="from"/> on, to its end, resumed across interruptions.</summary>
    public async IAsyncEnumerable<JobEvent> Run(string model, string jobId, int from, Open open, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        int next = from;
        var budget = new ResumeBudget(options);
        while (true)
        {
            Exception? broken = null;
            int start = next;
            await foreach (var step in InterruptibleStream.Attempt(c => open(start, c), gatewayLoss, "this job's watch waited for its next event", cancellation))
            {
                if (step.Broken is not null)
                {
                    broken = step.Broken;
                    break;
                }

                var e = step.Item;
                next = e.Sequence >= 0 ? e.Sequence + 1 : next;
                yield return e;
                if (e.IsFinal)
                {
                    yield break;
                }
            }

            if (broken is null)
            {
                yield break;
            }

            if (budget.Take() is { } why)
            {
                logger.LogWarning("Watch of job {Job} on model {Model} interrupted at event {Next} and not resumed: {Reason}", jobId, model, next, why);
                throw new JobWatchInterruptedException(model, jobId, next, budget.Resumes, why, broken);
            }

            logger.LogWarning("Watch of job {Job} on model {Model} interrupted ({Error}); watching again from event {Next}, attempt {Attempt} of {MaxResumes}",
                jobId, model, broken.Message, next, budget.Resumes, budget.MaxResumes);
            await Task.Delay(budget.Delay, cancellation);
        }
    }
}
