using OrleansQuant.Contracts;
using OrleansQuant.Model.Calibration;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// Self-calibration ("self") drawn through the cluster's own generation lanes, from <see cref="SelfCalibration"/>'s
/// requests — the samples the single-process quantizer draws — in waves of <see cref="Wave"/> so the KV caches hold
/// only a wave at a time.
/// </summary>
internal static class ClusterSelfCalibration
{
    public const int Wave = 32;

    public static async Task<IReadOnlyList<int[]>> Draw(LoadedModel model, CalibrationOptions options, ModelJob job)
    {
        var requests = SelfCalibration.Requests(model.Config, options.Samples, options.MaxTokens, options.Seed);
        var samples = new List<int[]>(requests.Count);
        job.Report(new JobEvent("sample", 0, requests.Count, 0));
        foreach (var wave in requests.Chunk(Wave))
        {
            job.Cancellation.ThrowIfCancellationRequested();
            samples.AddRange(await Task.WhenAll(wave.Select(async request =>
            {
                var member = model.Scheduler.Admit(request);
                var tokens = new List<int>(request.PromptIds);
                await foreach (var token in member.Output.Reader.ReadAllAsync())
                {
                    tokens.Add(token.TokenId);
                }

                return tokens.ToArray();
            })));
            job.Report(new JobEvent("sample", samples.Count, requests.Count, 0));
        }

        return samples;
    }
}
