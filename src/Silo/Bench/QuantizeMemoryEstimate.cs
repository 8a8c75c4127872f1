using System.Text.Json.Serialization;
using OrleansQuant.Model;

namespace OrleansQuant.Silo.Bench;

/// <summary>
/// What an end-to-end quantization of a model holds on its devices at once (all of them together; placement splits it
/// by layers), from the config alone, so a run can be sized before it starts. Full-precision weights as the run stores
/// them (bf16 on a GPU, float32 on CPU devices), Float64 XᵀX per distinct linear input (q/k/v share one, gate/up share one) that every layer keeps from its
/// calibration until the next one, int8 weights built beside the serving ones until the commit, one build's Float64
/// workspace at a time per device, and the KV caches of one self-calibration wave. Layer-parallel and sequential
/// modes hold the same device memory in the cluster (statistics outlive each build); sequential also keeps every
/// calibration token's hidden state on the coordinator's host.
/// </summary>
internal sealed record QuantizeMemoryEstimate(
    [property: JsonPropertyName("weights_bytes")] long WeightBytes,
    [property: JsonPropertyName("statistics_bytes")] long StatisticsBytes,
    [property: JsonPropertyName("int8_pending_bytes")] long PendingBytes,
    [property: JsonPropertyName("build_workspace_bytes")] long BuildWorkspaceBytes,
    [property: JsonPropertyName("sampling_kv_bytes")] long SamplingKvBytes,
    [property: JsonPropertyName("sequential_host_hidden_bytes")] long SequentialHostHiddenBytes)
{
    /// <summary>
    /// The most held at once: sampling (weights + one wave's KV) comes before any statistics exist, so the peak is the
    /// larger of that and weights + statistics + pending int8 + a build's workspace.
    /// </summary>
    [JsonPropertyName("device_peak_bytes")]
    public long DevicePeakBytes => Math.Max(WeightBytes + SamplingKvBytes, WeightBytes + StatisticsBytes + PendingBytes + BuildWorkspaceBytes);

    /// <param name="weightElementBytes">2 for bf16 weights (and KV caches, stored alike), 4 for float32.</param>
    public static QuantizeMemoryEstimate Of(ModelConfig c, int samples, int maxTokens, int wave, int weightElementBytes)
    {
        long hidden = c.HiddenSize, query = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        long intermediate = c.IntermediateSize, layers = c.NumHiddenLayers;
        long layerParameters = hidden * (query + 2 * kv) + query * hidden + 3 * hidden * intermediate + 2 * hidden;
        long headParameters = c.VocabSize * hidden * (c.TieWordEmbeddings ? 1 : 2) + hidden;
        long linearParameters = layerParameters - 2 * hidden;

        // XᵀX (Float64) and |x|max (Float32) of the attention input, o_proj's input, the MLP input and down_proj's input.
        long statistics = (hidden * hidden * 2 + query * query + intermediate * intermediate) * sizeof(double)
            + (2 * hidden + query + intermediate) * sizeof(float);

        // The widest linear's weights in Float64 (working copy + quantized-error rows) and two Float64 Hessian-sized
        // squares (H, its inverse factor) of its input, plus the int8 result.
        long widest = Math.Max(hidden * intermediate, Math.Max(intermediate * hidden, hidden * query));
        long workspace = 2 * widest * sizeof(double) + 2 * Math.Max(intermediate * intermediate, hidden * hidden) * sizeof(double) + widest;

        long kvPerToken = 2 * kv * weightElementBytes * layers;
        return new QuantizeMemoryEstimate(
            WeightBytes: (layerParameters * layers + headParameters) * weightElementBytes,
            StatisticsBytes: statistics * layers,

            // Built layers: int8 weights, a Float32 scale per output channel, and the two smoothed norm gains.
            PendingBytes: (linearParameters + (query + 2 * kv + hidden + 2 * intermediate + hidden + 2 * hidden) * sizeof(float)) * layers,
            BuildWorkspaceBytes: workspace,
            SamplingKvBytes: Math.Min(samples, wave) * (long)maxTokens * kvPerToken,
            SequentialHostHiddenBytes: samples * (long)maxTokens * hidden * sizeof(float));
    }
}
