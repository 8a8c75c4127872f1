using OrleansQuant.Contracts;
using OrleansQuant.Model.Calibration;

namespace OrleansQuant.Grains.Coordinator;

/// <summary>
/// Self-calibration ("self") drawn through the cluster's own generation lanes, from <see cref="SelfCalibration"/>'s
/// requests — the samples the single-process quantizer draws — in waves as large as the model's KV budget admits
/// (<see cref="SelfCalibration.Wave"/>), so the KV caches hold only a wave at a time. Each wave ends when every layer
/// has freed its sequences, so the next wave, or the statistics that follow, find that memory free.
/// </summary>
internal static class ClusterSelfCalibration
{
    public static async Task<IReadOnlyList<int[]>> Draw(LoadedModel model, CalibrationOptions options, ModelJob job)
    {
        var requests = SelfCalibration.Requests(model.Config, options.Samples, options.MaxTokens, options.Seed);
        var samples = new List<int[]>(requests.Count);
        job.Report(new JobEvent("sample", 0, requests.Count, 0));
        int size = SelfCalibration.Wave(model.Config, options.MaxTokens, model.Scheduler.KvBudgetBytes, model.Scheduler.KvCacheType);
        foreach (var wave in requests.Chunk(size))
        {
            job.Cancellation.ThrowIfCancellationRequested();
            var members = wave.Select(model.Scheduler.Admit).ToArray();
            samples.AddRange(await Task.WhenAll(members.Select(async member =>
            {
                var tokens = new List<int>(member.Sequence.Request.PromptIds);
                await foreach (var token in member.Output.Reader.ReadAllAsync())
                {
                    tokens.Add(token.TokenId);
                }

                return tokens.ToArray();
            })));
            await Task.WhenAll(members.Select(m => m.Released));
            job.Report(new JobEvent("sample", samples.Count, requests.Count, 0));
        }

        return samples;
    }
}
