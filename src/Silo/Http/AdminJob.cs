using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// A job as the admin API shows it (<c>"object": "job"</c>): the grain's <see cref="JobInfo"/> with the model it belongs
/// to, so a client can poll <see cref="AdminApi.JobPath"/>, and its progress as a fraction of its current stage.
/// </summary>
internal sealed record AdminJob(
    string Object, string Id, string Model, string Kind, JobState State, string Stage, int Done, int Total, double? Fraction,
    double ElapsedSeconds, string? Error, int Events)
{
    public static AdminJob From(string model, JobInfo job) =>
        new("job", job.Id, model, job.Kind, job.State, job.Stage, job.Done, job.Total, FractionOf(job.Done, job.Total), job.ElapsedSeconds, job.Error, job.Events);

    /// <summary>Done of total, or null while the stage's size is not known yet.</summary>
    public static double? FractionOf(int done, int total) => total > 0 ? (double)done / total : null;
}

/// <summary>
/// One <see cref="JobEvent"/> as a server-sent event (<c>"object": "job.event"</c>). <see cref="Sequence"/> is where a
/// client that left re-attaches (<c>GET /admin/v1/jobs/{id}/events?from=N</c>); heartbeats carry −1 and the stage in
/// <see cref="Message"/>.
/// </summary>
internal sealed record AdminJobEvent(
    string Object, string Job, int Sequence, string Stage, int Done, int Total, double? Fraction, double ElapsedSeconds,
    int? Layer, double? ErrorBefore, double? ErrorAfter, double? LayerSeconds, string? Message)
{
    public static AdminJobEvent From(string job, JobEvent e) =>
        new("job.event", job, e.Sequence, e.Stage, e.Done, e.Total, AdminJob.FractionOf(e.Done, e.Total), e.ElapsedSeconds,
            e.Layer, e.ErrorBefore, e.ErrorAfter, e.LayerSeconds, e.Message);
}
