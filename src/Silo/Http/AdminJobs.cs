using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Silo.Errors;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The admin API's one way of running a model grain's job: start it through the SDK (as <c>cluster quantize</c> does),
/// then stream its events as server-sent events until it ends — its final <see cref="AdminJob"/>, then [DONE] — or
/// answer 202 with the job at once for a client that polls. A client that leaves the stream leaves the job running,
/// as the grain owns it; <c>DELETE /admin/v1/jobs/{id}</c> stops it. The grain's refusals become OpenAI errors here:
/// bad input 400 naming the field, a weights job already running 409, an unknown job 404, a model not loaded 503.
/// </summary>
internal sealed class AdminJobs(OrleansQuantClient client, IReadOnlyList<string> models, ILogger logger)
{
    /// <summary>The jobs that change a model's weights; the grain runs one at a time.</summary>
    public static readonly string[] WeightsKinds = ["quantize", "requantize"];

    /// <summary>The route's (or the query's) model name, if this server serves it; the first served when none is given.</summary>
    public string Model(HttpContext context)
    {
        string? name = context.Request.RouteValues["model"] as string ?? context.Request.Query["model"].FirstOrDefault();
        name = string.IsNullOrEmpty(name) ? models[0] : name;
        return models.Contains(name, StringComparer.Ordinal)
            ? name
            : throw new OpenAiException(StatusCodes.Status404NotFound,
                $"The model '{name}' does not exist; this server serves {string.Join(", ", models.Select(m => $"'{m}'"))}", "model", code: "model_not_found");
    }

    public async Task<ModelStatus> Status(string model, CancellationToken cancellation)
    {
        try
        {
            return await client.StatusAsync(model, cancellation);
        }
        catch (InvalidOperationException e)
        {
            throw new OpenAiException(StatusCodes.Status503ServiceUnavailable, e.Message, "model", "server_error", "model_not_ready");
        }
    }

    /// <summary>
    /// Starts a job with <paramref name="start"/>, then streams it, or with <paramref name="stream"/> false answers 202
    /// and where to poll. <paramref name="param"/> is the field a refusal of bad input names; a refusal while a job of
    /// one of <paramref name="conflicting"/> kinds runs is a 409.
    /// </summary>
    public async Task StartThenStream(HttpContext context, string model, bool stream, string param, IReadOnlyCollection<string> conflicting,
        Func<IModelGrain, Task<JobInfo>> start)
    {
        var job = await Start(model, param, conflicting, start, context.RequestAborted);
        logger.LogInformation("Admin request {Method} {Path} started job {Job} on model {Model} (streaming: {Stream})",
            context.Request.Method, context.Request.Path, job.Id, model, stream);
        if (!stream)
        {
            context.Response.Headers.Location = AdminApi.JobPath(model, job.Id);
            await AdminJson.Write(context.Response, AdminJob.From(model, job), StatusCodes.Status202Accepted);
            return;
        }

        await Stream(context, model, job.Id, from: 0);
    }

    /// <summary>The job's events from <paramref name="from"/> on, live until it ends, then the job as it ended and [DONE].</summary>
    public async Task Stream(HttpContext context, string model, string jobId, int from)
    {
        var cancellation = context.RequestAborted;
        var events = new ServerSentEvents(context.Response);
        await foreach (var e in client.WatchAsync(model, jobId, from, cancellation))
        {
            await events.Write(AdminJson.Element(AdminJobEvent.From(jobId, e)), cancellation);
        }

        await events.Write(AdminJson.Element(AdminJob.From(model, await client.JobAsync(model, jobId, cancellation))), cancellation);
        await events.Done(cancellation);
    }

    /// <summary>The job <paramref name="jobId"/> of <paramref name="model"/>; 404 when the grain knows no such job.</summary>
    public Task<JobInfo> Job(string model, string jobId, CancellationToken cancellation) =>
        Known(model, jobId, () => client.JobAsync(model, jobId, cancellation));

    /// <summary>Tells the job to stop and returns it as it stands: a running layer stops at its next linear.</summary>
    public async Task<JobInfo> Cancel(string model, string jobId, CancellationToken cancellation)
    {
        var job = await Known(model, jobId, () => client.CancelAsync(model, jobId, cancellation));
        logger.LogInformation("Admin request cancelled job {Job} of model {Model} (state {State})", job.Id, model, job.State);
        return job;
    }

    private async Task<JobInfo> Start(string model, string param, IReadOnlyCollection<string> conflicting, Func<IModelGrain, Task<JobInfo>> start,
        CancellationToken cancellation)
    {
        try
        {
            return await start(client.Model(model)).WaitAsync(cancellation);
        }
        catch (Exception e) when (BadInput(e))
        {
            throw OpenAiException.BadRequest(param, e.Message);
        }
        catch (InvalidOperationException e)
        {
            // The grain refuses a second weights job with the same exception type as "not loaded"; what runs tells them apart.
            var running = conflicting.Count == 0 ? null : (await client.StatusAsync(model, cancellation)).Jobs
                .LastOrDefault(j => j.State == JobState.Running && conflicting.Contains(j.Kind, StringComparer.Ordinal));
            throw running is not null
                ? new OpenAiException(StatusCodes.Status409Conflict, e.Message, code: "job_running")
                : new OpenAiException(StatusCodes.Status503ServiceUnavailable, e.Message, "model", "server_error", "model_not_ready");
        }
    }

    private static async Task<JobInfo> Known(string model, string jobId, Func<Task<JobInfo>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (BadInput(e))
        {
            // The grain's only bad input here is the id: it says which jobs it knows.
            throw new OpenAiException(StatusCodes.Status404NotFound, $"model '{model}': {e.Message}", "id", code: "job_not_found");
        }
    }

    // Orleans rebuilds some exception types across a grain call and hands others over as a fallback naming the type;
    // the CLI's classification knows both.
    private static bool BadInput(Exception e) => ExpectedError.Classify(e, interrupted: false) is { ExitCode: ExpectedError.BadInput };
}
