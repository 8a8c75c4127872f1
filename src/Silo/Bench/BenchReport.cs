using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrleansQuant.Model.Benchmarks;

namespace OrleansQuant.Silo.Bench;

/// <summary>The layer shapes a bench ran at, as they appear in its JSON.</summary>
internal sealed record BenchShapesJson(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("hidden")] int Hidden,
    [property: JsonPropertyName("intermediate")] int Intermediate,
    [property: JsonPropertyName("heads")] int Heads,
    [property: JsonPropertyName("kv_heads")] int KvHeads,
    [property: JsonPropertyName("head_dim")] int HeadDim)
{
    public static BenchShapesJson Of(BenchmarkShapes s) => new(s.Name, s.Hidden, s.Intermediate, s.Heads, s.KvHeads, s.HeadDim);
}

/// <summary>
/// What <c>orleansquant bench --out</c> writes. Top-level sections and their row keys follow bench_torch.py's output
/// (<c>device</c>, <c>gemm</c>, <c>layer_prefill</c>, <c>layer_decode</c>; <c>tokens</c>, <c>op</c>, <c>k</c>, <c>n</c>,
/// <c>int8_ms</c>, <c>batch</c>, <c>context</c>) so deploy/bench_compare.py joins the two files row by row.
/// </summary>
internal sealed class BenchReport
{
    /// <summary>The card's name as the device reports it (torch.cuda.get_device_name on the other side).</summary>
    [JsonPropertyName("device")] public required string Device { get; init; }

    /// <summary>The device as the silo names it: kind, ordinal and name.</summary>
    [JsonPropertyName("device_id")] public required string DeviceId { get; init; }

    [JsonPropertyName("orleansquant")] public required string Version { get; init; }

    [JsonPropertyName("dotnet")] public required string Runtime { get; init; }

    [JsonPropertyName("date")] public required string Date { get; init; }

    [JsonPropertyName("command")] public required string Command { get; init; }

    [JsonPropertyName("shapes")] public required BenchShapesJson Shapes { get; init; }

    [JsonPropertyName("warmup")] public required int Warmup { get; init; }

    [JsonPropertyName("iterations")] public required int Iterations { get; init; }

    /// <summary>The element type of the float path (fp_ms columns) and of the activations: bfloat16 on a GPU, float32 on a CPU device.</summary>
    [JsonPropertyName("fp_type")] public string FpType { get; init; } = "float32";

    [JsonPropertyName("copy")] public CopyResult? Copy { get; set; }

    [JsonPropertyName("gemm")] public List<GemmResult> Gemm { get; } = [];

    [JsonPropertyName("layer")] public LayerFacts? Layer { get; set; }

    [JsonPropertyName("layer_prefill")] public List<PrefillResult> LayerPrefill { get; } = [];

    [JsonPropertyName("layer_decode")] public List<DecodeResult> LayerDecode { get; } = [];

    /// <summary>The W8A8 layer's decode launched kernel by kernel and replayed as CUDA graphs; empty on a CPU.</summary>
    [JsonPropertyName("layer_decode_graphs")] public List<DecodeGraphResult> LayerDecodeGraphs { get; } = [];

    [JsonPropertyName("gptq")] public List<GptqResult> Gptq { get; } = [];

    /// <summary>Serving through the cluster beside the single-process engine (<c>--parts cluster</c>).</summary>
    [JsonPropertyName("cluster")] public ClusterBenchResult? Cluster { get; set; }

    /// <summary>The end-to-end quantization run of <c>--parts quantize</c>; absent when it was not asked for.</summary>
    [JsonPropertyName("quantize")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public QuantizeBenchResult? Quantize { get; set; }

    public string ToJson() => JsonSerializer.Serialize(this, new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a file, not HTML: "1.0.0+abc", not "1.0.0\u002Babc"
    });
}
