namespace OrleansQuant.Gpu;

/// <summary>
/// The kernels the decoder layers are written against. Calls are issued in order on the device's stream;
/// a host read (<see cref="Download{T}"/>) waits for everything issued before it. The layer code never touches
/// elements itself, so a CUDA device slots in beside the CPU one without changing it.
/// Shapes: activations <c>[tokens, features]</c>, linear weights <c>[out, in]</c> as in PyTorch.
/// <para>
/// Activations — the tensors a step reads and writes: the residual stream, norm outputs, q/k/v, attention output,
/// gate/up, a linear's output — are Float32 or BFloat16, each tensor its own (vLLM's <c>--dtype</c> makes a bf16 model's
/// activations bf16; a CPU device keeps float32 unless asked). Where a doc below says Float32 for an activation, BFloat16
/// is taken as well, with one rule: a BFloat16 input is widened exactly, and a BFloat16 output holds the value a Float32
/// output would hold, rounded once to nearest, ties to even — so every op equals widen → the Float32 op → narrow, in
/// place ones too. Fused ops keep their promise of equality with the unfused calls by rounding every intermediate
/// those calls would store: to the type of the tensor named for it, or, where that is null, to the type of the fused
/// op's first input. Scales, norm gains, biases, logits and statistics stay Float32 (or Float64).
/// </para>
/// </summary>
public interface IComputeDevice : IDisposable
{
    DeviceInfo Info { get; }

    /// <summary>
    /// How many host threads work for this device may fan out over: a CPU device's share of the machine's cores,
    /// which its own kernels use and which host-side algorithms run for it (GPTQ, Hessian accumulation) should pass
    /// to <see cref="Parallel"/>, so one layer uses all the cores its device was given and no more.
    /// A fresh instance each time, so a caller may set its cancellation token without touching anyone else's.
    /// </summary>
    ParallelOptions Parallelism { get; }

    /// <summary>A zeroed tensor.</summary>
    DeviceTensor Allocate(TensorType type, int rows, int columns);

    /// <summary>
    /// A tensor whose contents are undefined until written, for a step's intermediates that a kernel fills entirely
    /// before anything reads them: on a GPU it saves the zeroing (one memset per tensor, a dozen per layer per step).
    /// </summary>
    DeviceTensor AllocateScratch(TensorType type, int rows, int columns);

    void Upload<T>(ReadOnlySpan<T> source, DeviceTensor destination) where T : unmanaged;

    void Download<T>(DeviceTensor source, Span<T> destination) where T : unmanaged;

    /// <summary>
    /// A copy of <paramref name="tensor"/> in this device's host memory (page-locked on a GPU), made in stream order:
    /// the tensor may be disposed right after. For what the device keeps but rarely reads (see <see cref="HostTensor"/>).
    /// </summary>
    HostTensor CopyToHost(DeviceTensor tensor);

    /// <summary>A new device tensor holding the elements of a host copy this device made.</summary>
    DeviceTensor CopyToDevice(HostTensor copy);

    /// <summary>Copies <paramref name="rows"/> whole rows between tensors of the same width and type.</summary>
    void CopyRows(DeviceTensor source, int sourceRow, DeviceTensor destination, int destinationRow, int rows);

    /// <summary>
    /// output[t] = table[ids[t]]; ids is Int32 <c>[1, T]</c> on this device, table Float32 or BFloat16 (widened exactly),
    /// output Float32.
    /// </summary>
    void Embed(DeviceTensor ids, DeviceTensor table, DeviceTensor output);

    /// <summary>output = x / sqrt(mean(x²) + eps) * weight, per row (Zhang and Sennrich 2019).</summary>
    void RmsNorm(DeviceTensor x, DeviceTensor weight, float eps, DeviceTensor output);

    /// <summary>
    /// output = x · weightᵀ (+ bias): x Float32 <c>[T, in]</c>, weight <c>[out, in]</c>, bias Float32 <c>[1, out]</c>, output
    /// Float32 <c>[T, out]</c>. A Float32 weight multiplies in float32. A BFloat16 weight multiplies x rounded to bf16
    /// (to nearest, ties to even), with exact products summed in float32: what a bf16 model's linear computes in
    /// PyTorch (bf16 operands, fp32 accumulation), except that the output is not rounded to bf16.
    /// </summary>
    void MatMul(DeviceTensor x, DeviceTensor weight, DeviceTensor? bias, DeviceTensor output);

    /// <summary>
    /// Dynamic symmetric per-token int8 quantization, the activation half of W8A8 (vLLM's <c>scaled_int8_quant</c>
    /// without a static scale): for each row t of x <c>[T, K]</c>, scales[t] = max(max|x[t]| / 127, 1e-8) and
    /// quantized[t] = clamp(round-half-to-even(x[t] / scales[t]), -127, 127), the reference's formula, so results agree
    /// bit for bit. <paramref name="quantized"/> is Int8 <c>[T, K]</c>, <paramref name="scales"/> Float32 <c>[T, 1]</c>.
    /// A row of zeros gets scale 1e-8 (the clamp) and all-zero codes.
    /// </summary>
    void QuantizePerToken(DeviceTensor x, DeviceTensor quantized, DeviceTensor scales);

    /// <summary>
    /// W8A8 linear: output[t, n] = (Σₖ quantized[t, k]·weight[n, k], exact in int32) · tokenScales[t] · weightScales[n]
    /// (+ bias[n]), multiplied in that order in float32. quantized Int8 <c>[T, K]</c>, tokenScales Float32 <c>[T, 1]</c>,
    /// weight Int8 <c>[N, K]</c>, weightScales Float32 <c>[1, N]</c> (a vector, like bias), bias Float32 <c>[1, N]</c>,
    /// output Float32 <c>[T, N]</c>. Weight tensors must not change after their first use here (devices may cache
    /// per-row data about them); re-quantization builds new ones. With <paramref name="accumulate"/> the result is
    /// added to output (the residual add fused into o_proj and down_proj), rounded as <see cref="AddInPlace"/> after
    /// the linear would round it.
    /// </summary>
    void MatMulInt8(DeviceTensor quantized, DeviceTensor tokenScales, DeviceTensor weight, DeviceTensor weightScales,
        DeviceTensor? bias, DeviceTensor output, bool accumulate = false);

    /// <summary>
    /// <see cref="MatMulInt8(DeviceTensor, DeviceTensor, DeviceTensor, DeviceTensor, DeviceTensor?, DeviceTensor, bool)"/>
    /// of several projections that read one quantized input (q, k and v; gate and up), each equal to its own call bit
    /// for bit; a device may run them as one launch.
    /// </summary>
    void MatMulInt8(DeviceTensor quantized, DeviceTensor tokenScales, ReadOnlySpan<Int8Projection> projections)
    {
        foreach (var p in projections)
        {
            MatMulInt8(quantized, tokenScales, p.Weight, p.WeightScales, p.Bias, p.Output, p.Accumulate);
        }
    }

    /// <summary>
    /// SwiGLU of two W8A8 projections of one input: <paramref name="gate"/>'s output receives silu(gate)·up, equal bit
    /// for bit to the two <see cref="MatMulInt8(DeviceTensor, DeviceTensor, DeviceTensor, DeviceTensor, DeviceTensor?, DeviceTensor, bool)"/>
    /// calls followed by <see cref="SiluMul"/>. <paramref name="up"/>'s output is scratch: a device that fuses the three
    /// (a GPU, where only the product then reaches memory) leaves it untouched. Neither may accumulate.
    /// </summary>
    void MatMulInt8SwiGlu(DeviceTensor quantized, DeviceTensor tokenScales, Int8Projection gate, Int8Projection up)
    {
        MatMulInt8(quantized, tokenScales, [gate with { Accumulate = false }, up with { Accumulate = false }]);
        SiluMul(gate.Output, up.Output, gate.Output);
    }

    /// <summary>
    /// <see cref="RmsNorm"/> and <see cref="QuantizePerToken"/> of its output in one pass over each row, the input of
    /// W8A8 q/k/v or gate/up projections: <paramref name="quantized"/> and <paramref name="scales"/> equal those of
    /// RmsNorm then QuantizePerToken on this device bit for bit. <paramref name="normed"/> (Float32 <c>[T, n]</c>) receives
    /// the float output as well when something still reads it (a full-precision linear, a calibration observer); null
    /// skips writing it.
    /// </summary>
    void RmsNormQuantize(DeviceTensor x, DeviceTensor weight, float eps, DeviceTensor? normed, DeviceTensor quantized, DeviceTensor scales);

    /// <summary>
    /// <see cref="SiluMul"/> and <see cref="QuantizePerToken"/> of its output in one pass, the input of a W8A8
    /// down projection; equal to the two calls bit for bit. <paramref name="output"/> may be null, gate or up.
    /// </summary>
    void SiluMulQuantize(DeviceTensor gate, DeviceTensor up, DeviceTensor? output, DeviceTensor quantized, DeviceTensor scales);

    /// <summary>
    /// Rotary position embedding in place, Hugging Face <c>rotate_half</c> layout (the two halves of each head
    /// rotate together). Row t is at position <paramref name="positions"/>[t]; <paramref name="inverseFrequencies"/> is
    /// <c>[1, headDim / 2]</c>.
    /// </summary>
    void ApplyRope(DeviceTensor x, int heads, int headDim, DeviceTensor positions, DeviceTensor inverseFrequencies);

    /// <summary>
    /// Stores this step's keys and values in a paged KV cache: row t of <paramref name="keys"/>/<paramref name="values"/>
    /// <c>[T, kvWidth]</c> goes to row <paramref name="slots"/>[t] of <paramref name="keyCache"/>/<paramref name="valueCache"/>
    /// <c>[blocks × blockSize, kvWidth]</c> (slot = block · blockSize + offset; vLLM's slot mapping). Int32 <c>[1, T]</c>;
    /// a negative slot is padding and writes nothing (vLLM's −1), a slot past the cache is an error.
    /// keys and values are Float32; the caches both Float32 or both BFloat16, whose rows are the keys and values rounded
    /// to nearest, ties to even (vLLM's <c>kv_cache_dtype=auto</c> on a bf16 model).
    /// </summary>
    void WriteKvCache(DeviceTensor keys, DeviceTensor values, DeviceTensor slots, DeviceTensor keyCache, DeviceTensor valueCache);

    /// <summary>
    /// Causal grouped-query attention of every sequence of a step in one call (prefill and decode chunks mixed) over a
    /// paged KV cache that already holds this step's keys and values (<see cref="WriteKvCache"/>). Sequence s owns query
    /// rows <c>[batch.QueryStarts[s], batch.QueryStarts[s+1])</c>, the last positions of its <c>batch.ContextLengths[s]</c>
    /// cached positions, whose rows are found through <c>batch.BlockTables[s]</c>. Each query attends to itself and
    /// everything before it (within the sliding window, if any). Writes the same rows of <paramref name="output"/>.
    /// query and output are Float32; the caches both Float32 or both BFloat16 (widened exactly when read).
    /// </summary>
    void PagedAttention(DeviceTensor query, DeviceTensor keyCache, DeviceTensor valueCache, AttentionBatch batch,
        AttentionShape shape, DeviceTensor output);

    /// <summary>output = silu(gate) * up (Shazeer 2020, SwiGLU); output may be <paramref name="gate"/> or <paramref name="up"/>.</summary>
    void SiluMul(DeviceTensor gate, DeviceTensor up, DeviceTensor output);

    /// <summary>x += y.</summary>
    void AddInPlace(DeviceTensor x, DeviceTensor y);

    /// <summary>
    /// Calibration, SmoothQuant's half: absMax[0, c] = max(absMax[0, c], max over t of |x[t, c]|). x Float32 or BFloat16
    /// <c>[T, n]</c> (the input as the linears that read it see it), absMax Float32 <c>[1, n]</c> (exact: a max of
    /// floats is a float). Also a weight's column maxima, for the smoothing scales.
    /// </summary>
    void AccumulateAbsMax(DeviceTensor x, DeviceTensor absMax);

    /// <summary>
    /// Calibration, GPTQ's half: gram += xᵀ·x. x Float32 or BFloat16 <c>[T, n]</c>, gram Float64 <c>[n, n]</c>. A Float32
    /// x is accumulated in double. A BFloat16 x (the input of bf16 linears, as they see it) may be summed in float32
    /// within one call — its products are exact in float32, as in llm-compressor's <c>inp.float()</c> Hessian — and
    /// each call's sums are added to the double ones. Only the upper triangle (column ≥ row) is defined afterwards; a
    /// device may leave anything below the diagonal. Activations never leave the device for this.
    /// </summary>
    void AccumulateGram(DeviceTensor x, DeviceTensor gram);

    // ---- Quantization: SmoothQuant, GPTQ and round-to-nearest on a layer's full-precision weights, as device work.
    // The algorithms (OrleansQuant.Model.Quantization) are written once over these; a device supplies the steps.
    // "Square" means Float64 [n, n]. Weight rows are output channels, as everywhere.

    /// <summary>
    /// Element type conversion between tensors of one shape, among Float32, Float64 and BFloat16: widening is exact,
    /// narrowing rounds to nearest, ties to even (Float64 → BFloat16 in one rounding). The widening GPTQ's
    /// double-precision work starts with, the narrowing it ends with, and a linear input rounded as bf16 linears see it.
    /// </summary>
    void Convert(DeviceTensor source, DeviceTensor destination);

    /// <summary>x[r, c] ·= scales[0, c]: W·diag(s) for smoothing, a norm gain divided by s, dead inputs zeroed. x and
    /// scales both Float32 or both Float64.</summary>
    void ScaleColumns(DeviceTensor x, DeviceTensor scales);

    /// <summary>
    /// A full symmetric matrix from a Gram matrix of which only the upper triangle is defined (what
    /// <see cref="AccumulateGram"/> leaves): output[i, j] = factor · gram[min(i, j), max(i, j)] · r[i] · r[j], with r =
    /// <paramref name="inverseScales"/> Float64 <c>[1, n]</c> or 1 when null. H = 2/T·XᵀX is factor 2/T; the Hessian of
    /// smoothed inputs X·S⁻¹ is r = 1/s (SmoothQuant §4 applied to GPTQ's H without a second calibration pass).
    /// gram and output are distinct squares.
    /// </summary>
    void SymmetricFromUpper(DeviceTensor gram, double factor, DeviceTensor? inverseScales, DeviceTensor output);

    /// <summary>diagonal[0, i] = square[i, i]; Float64.</summary>
    void Diagonal(DeviceTensor square, DeviceTensor diagonal);

    /// <summary>square[i, i] += addend[0, i]; Float64 (GPTQ's dampening, a dead input's unit pivot).</summary>
    void AddToDiagonal(DeviceTensor square, DeviceTensor addend);

    /// <summary>
    /// output[r, c] = x[r, order[0, c]] for any element type; order Int32 <c>[1, columns]</c>, a permutation.
    /// GPTQ's act-order (columns by descending Hessian diagonal) and its inverse.
    /// </summary>
    void PermuteColumns(DeviceTensor x, DeviceTensor order, DeviceTensor output);

    /// <summary>output[i, j] = square[order[i], order[j]]: a symmetric permutation of a Float64 square.</summary>
    void PermuteSymmetric(DeviceTensor square, DeviceTensor order, DeviceTensor output);

    /// <summary>
    /// In place, the square A (symmetric positive definite, Float64) becomes U, upper triangular with A⁻¹ = Uᵀ·U: what
    /// <c>torch.linalg.cholesky(torch.cholesky_inverse(torch.linalg.cholesky(A)), upper=True)</c> gives, GPTQ's
    /// inverse-Hessian factor. Entries below the diagonal are undefined afterwards. A matrix that is not positive
    /// definite throws <see cref="ArithmeticException"/> naming the failing pivot (the caller advises more dampening).
    /// </summary>
    void CholeskyInverseUpper(DeviceTensor square);

    /// <summary>
    /// Symmetric int8 scale per row: scales[0, r] = max(max|weights[r, :]| / 127, 1e-8). weights and scales Float64.
    /// </summary>
    void ChannelScales(DeviceTensor weights, DeviceTensor scales);

    /// <summary>
    /// Round to nearest: quantized[r, c] = clamp(round_half_even(weights[r, c] / scales[0, r]), −127, 127). weights
    /// Float64 <c>[rows, n]</c>, scales Float64 <c>[1, rows]</c>, quantized Int8 <c>[rows, n]</c> (PyTorch's rounding, bit for bit).
    /// </summary>
    void QuantizeRows(DeviceTensor weights, DeviceTensor scales, DeviceTensor quantized);

    /// <summary>
    /// GPTQ's inner loop (Frantar et al. 2023, Algorithm 1) over the columns [start, start + width) of one block, every
    /// row independently: for i in the block, q = round as <see cref="QuantizeRows"/>; quantized[r, i] = q;
    /// e = (weights[r, i] − q·scales[r]) / upper[i, i]; errors[r, i − start] = e; weights[r, j] −= e · upper[i, j] for
    /// the block's j &gt; i. weights Float64 <c>[rows, n]</c> (updated), scales Float64 <c>[1, rows]</c>, upper the
    /// factor from <see cref="CholeskyInverseUpper"/>, quantized Int8 <c>[rows, n]</c>, errors Float64 <c>[rows, width]</c>.
    /// </summary>
    void GptqQuantizeBlock(DeviceTensor weights, DeviceTensor scales, DeviceTensor upper, int start, int width,
        DeviceTensor quantized, DeviceTensor errors);

    /// <summary>
    /// GPTQ's lazy batch update: weights[:, end..n) −= errors · upper[start..end, end..n) with end = start + width,
    /// errors the block's Float64 <c>[rows, width]</c> from <see cref="GptqQuantizeBlock"/>. One product per block.
    /// </summary>
    void GptqPropagate(DeviceTensor weights, DeviceTensor errors, DeviceTensor upper, int start);

    /// <summary>
    /// GPTQ's objective for quantized weights: result[0, 0] = Σ_r Δ_rᵀ·H·Δ_r with Δ = weights − quantized·scales[r]
    /// (the caller halves it). weights Float64 <c>[rows, n]</c>, quantized Int8, scales Float64 <c>[1, rows]</c>,
    /// hessian a full symmetric square, result Float64 <c>[1, 1]</c>.
    /// </summary>
    void QuadraticError(DeviceTensor weights, DeviceTensor quantized, DeviceTensor scales, DeviceTensor hessian, DeviceTensor result);

    /// <summary>
    /// Fills a Float32 tensor with normal samples of standard deviation <paramref name="std"/>, element i (row-major)
    /// drawn from a counter-based generator keyed by (<paramref name="seed"/>, i): SplitMix64 of seed ⊕ (i · golden
    /// ratio) gives two 32-bit uniforms u1 ∈ (0, 1], u2 ∈ [0, 1), and x = std · sqrt(−2 ln u1) · cos(2π u2) (Box–Muller).
    /// The same on every device up to float rounding of log/cos, and independent of how the work is split, so a
    /// synthetic model is made on the device that holds it instead of being carried there.
    /// </summary>
    void FillNormal(DeviceTensor x, ulong seed, float std);

    // ---- Sampling: the lm_head's rows become tokens on the device; only ids and log-probabilities come back.

    /// <summary>
    /// Picks one token per row of <paramref name="logits"/> (Float32 <c>[R, V]</c>, finite or −∞) with that row's
    /// <paramref name="rows"/>[r] (R of them, host values, each checked by <see cref="SamplingRow.Validate"/>); writes
    /// the token to <paramref name="ids"/> (Int32 <c>[1, R]</c>) and its log-probability under the unscaled softmax to
    /// <paramref name="logProbs"/> (Float32 <c>[1, R]</c>): (x[id] − m) − ln Σⱼ exp(x[j] − m), m the row's maximum,
    /// whatever the temperature (float rounding of exp/ln may differ between devices in the last digits).
    /// Greedy (temperature 0): the lowest id whose logit is m, as <c>torch.argmax</c>. Otherwise, so that every device
    /// picks the same token for the same logits and draw:
    /// <list type="number">
    /// <item>Each token gets an integer weight w = ⌊2³¹·E(z)⌋ ∈ [0, 2³¹], z = (x − m) / T, E the exponential in float32
    /// steps that are each exactly rounded: t = z·log₂e; t &lt; −32 or NaN gives 0; else n = round-half-even(t),
    /// f = t − n, E = 2ⁿ·P(f), P the degree-6 Taylor polynomial of 2^f by fused multiply-adds. Weights are integers, so
    /// every sum below is exact whatever its order.</item>
    /// <item>Candidates in order of descending weight, the lower id first on equal weight. Top-k keeps the first
    /// K = min(k, V) (k = 0: all V), whose weights sum to S_K.</item>
    /// <item>Top-p below 1 keeps the shortest prefix of those whose weight sum reaches P = (double)p · S_K (nucleus
    /// sampling, Holtzman et al. 2020). The kept tokens N sum to S_N.</item>
    /// <item>With u the row's draw, r = min(⌊u · S_N⌋, S_N − 1) (in double); the token is the first of N, in the
    /// candidate order, at which the running weight sum exceeds r: the inverse CDF walked from the most likely token
    /// down, as a host sampler over sorted probabilities walks it. A weight-0 token is never drawn; a row without
    /// weight (all −∞) gets the greedy token.</item>
    /// </list>
    /// The distribution is the tempered softmax restricted to N, up to the weights' resolution of 2⁻³¹ of the maximum.
    /// </summary>
    void SampleTokens(DeviceTensor logits, ReadOnlySpan<SamplingRow> rows, DeviceTensor ids, DeviceTensor logProbs);

    /// <summary>
    /// Scores rows of <paramref name="logits"/> (Float32 <c>[R, V]</c>) under the unscaled softmax, for log-likelihoods
    /// and an API's logprobs: log p(i) = x_i − m − ln Σ_j exp(x_j − m), m the row's maximum, the sum in double; a NaN
    /// logit counts as no token (not in the sum, never in the top). Writes the log-probability of the row's target id (<paramref name="targets"/>, Int32 <c>[1, R]</c>, each
    /// in [0, V)) to <paramref name="targetLogProbs"/> (Float32 <c>[1, R]</c>), and the row's K most likely tokens
    /// (K = the columns of <paramref name="topIds"/>, 1 or more) in order of descending logit, the lower id first on
    /// ties, to <paramref name="topIds"/> (Int32 <c>[R, K]</c>) and <paramref name="topLogProbs"/> (Float32 <c>[R, K]</c>);
    /// a slot no token fills (K &gt; V, or NaN logits) gets id −1 and −∞. A target's value and the same token's top value
    /// are the same float, so a caller may compare them for equality (is the target the most likely token?).
    /// </summary>
    void TokenLogProbs(DeviceTensor logits, DeviceTensor targets, DeviceTensor targetLogProbs, DeviceTensor topIds, DeviceTensor topLogProbs);

    /// <summary>Waits until every kernel issued so far has finished.</summary>
    void Synchronize();

    // ---- Step graphs: a step that runs again and again with the same shapes on the same buffers (a layer's decode
    // step) is recorded once and replayed as one launch, instead of a dozen launches and allocations each time.

    /// <summary>
    /// Whether <see cref="CaptureStep"/> records now: false on a device without graphs (the CPU), when they are turned
    /// off, or while something needs every launch to be its own (a GPU's kernel profile). A caller that would stage a
    /// step's inputs in fixed buffers for a replay asks this first, and otherwise runs the step as usual.
    /// </summary>
    bool CapturesSteps => false;

    /// <summary>
    /// Runs <paramref name="step"/>'s device calls once and returns a recording of them for <see cref="IStepGraph.Launch"/>,
    /// or null after running them as usual when this device does not record (<see cref="CapturesSteps"/>) or the step
    /// could not be recorded. The step must be replayable: every tensor it allocates it also frees; every other tensor
    /// it reads or writes outlives the recording (a replay uses the same ones, with whatever they hold then); it makes
    /// no host transfer and no wait; and a lazily made per-shape resource it needs (a GEMM plan and its tuning, a kernel
    /// attribute) exists already, so run the step once as usual before recording it.
    /// </summary>
    IStepGraph? CaptureStep(Action step)
    {
        step();
        return null;
    }
}
