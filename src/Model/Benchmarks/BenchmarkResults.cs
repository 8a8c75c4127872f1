using System.Text.Json.Serialization;

namespace OrleansQuant.Model.Benchmarks;

// The JSON names follow bench_torch.py's output where the same thing is measured (tokens, op, k, n, int8_ms, batch,
// context), so deploy/bench_compare.py can join the two files; times are ms per call.

/// <summary>
/// One GEMM shape at one token count. <see cref="FpMs"/>: <c>MatMul</c> of float activations and weights (the device's
/// float path; torch's counterpart is bf16_ms). <see cref="Int8Ms"/>: <c>MatMulInt8</c> of pre-quantized int8 inputs,
/// including its dequantizing epilogue (torch._int_mm stops at int32). <see cref="QuantizeMs"/>: <c>QuantizePerToken</c>
/// of the activations alone. <see cref="W8A8LinearMs"/>: the whole W8A8 linear as a layer runs it (quantize, GEMM,
/// dequantize, its scratch tensors included).
/// </summary>
public sealed record GemmResult(
    [property: JsonPropertyName("tokens")] int Tokens,
    [property: JsonPropertyName("op")] string Op,
    [property: JsonPropertyName("k")] int K,
    [property: JsonPropertyName("n")] int N,
    [property: JsonPropertyName("fp_ms")] double FpMs,
    [property: JsonPropertyName("int8_ms")] double Int8Ms,
    [property: JsonPropertyName("quantize_ms")] double QuantizeMs,
    [property: JsonPropertyName("w8a8_linear_ms")] double W8A8LinearMs);

/// <summary>One decoder layer over one new sequence of <see cref="Tokens"/> tokens, with float and with W8A8 weights.</summary>
public sealed record PrefillResult(
    [property: JsonPropertyName("tokens")] int Tokens,
    [property: JsonPropertyName("fp_ms")] double FpMs,
    [property: JsonPropertyName("w8a8_ms")] double W8A8Ms);

/// <summary>One decoder layer's step of one new token for each of <see cref="Batch"/> sequences holding <see cref="Context"/> tokens.</summary>
public sealed record DecodeResult(
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("context")] int Context,
    [property: JsonPropertyName("fp_ms")] double FpMs,
    [property: JsonPropertyName("w8a8_ms")] double W8A8Ms);

/// <summary>
/// The W8A8 layer's decode step of <see cref="Batch"/> sequences at <see cref="Context"/>, launched kernel by kernel and
/// replayed as a CUDA graph, in one run on one card; <see cref="GraphOverLaunched"/> below 1 is what graphs save.
/// </summary>
public sealed record DecodeGraphResult(
    [property: JsonPropertyName("batch")] int Batch,
    [property: JsonPropertyName("context")] int Context,
    [property: JsonPropertyName("launched_ms")] double LaunchedMs,
    [property: JsonPropertyName("graph_ms")] double GraphMs)
{
    [JsonPropertyName("graph_over_launched")]
    public double GraphOverLaunched => GraphMs / LaunchedMs;
}

/// <summary>
/// What one layer's decode can be held against: the bytes of its weights, and the time that reading the W8A8 weights
/// once takes at the device's measured copy bandwidth (the physical floor of a decode step).
/// </summary>
public sealed record LayerFacts(
    [property: JsonPropertyName("fp_weight_bytes")] long FpWeightBytes,
    [property: JsonPropertyName("int8_weight_bytes")] long Int8WeightBytes,
    [property: JsonPropertyName("decode_floor_ms")] double DecodeFloorMs);

/// <summary>A device-to-device copy of <see cref="Bytes"/>; the bandwidth counts bytes read plus bytes written.</summary>
public sealed record CopyResult(
    [property: JsonPropertyName("bytes")] long Bytes,
    [property: JsonPropertyName("ms")] double Ms,
    [property: JsonPropertyName("gb_per_s")] double GigabytesPerSecond);

/// <summary>GPTQ of one linear <c>[rows, columns]</c> on a device (a CPU device's <see cref="Threads"/> threads), its Hessian from <see cref="CalibrationTokens"/> random rows.</summary>
public sealed record GptqResult(
    [property: JsonPropertyName("op")] string Op,
    [property: JsonPropertyName("rows")] int Rows,
    [property: JsonPropertyName("columns")] int Columns,
    [property: JsonPropertyName("calibration_tokens")] int CalibrationTokens,
    [property: JsonPropertyName("threads")] int Threads,
    [property: JsonPropertyName("ms")] double Ms);
