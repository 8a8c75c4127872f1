using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Tests.Inference;

public sealed class ForwardPassTests
{
    public static TheoryData<string> TinyModels => new() { "tiny", "tiny-sharded", "tiny-qwen2" };

    /// <summary>Hugging Face transformers' logits at every position and its 16 greedy tokens, from tests/golden/make_golden.sh.</summary>
    [Theory]
    [MemberData(nameof(TinyModels))]
    public void LogitsAndGreedyTokensEqualHuggingFaceTransformers(string name) =>
        AssertEqualsHuggingFace(TestModels.Directory(DemoModels.ByName(name)), TestModels.GoldenPrompt, $"hf-{name}.safetensors");

    /// <summary>
    /// The trained demo model that speaks (models/demo-speaking, bf16): our tokenizer's ids for the golden sentence,
    /// and the logits and 16 greedy tokens of Hugging Face transformers in float32 from the same bf16 weights
    /// (tests/golden/hf-speaking.safetensors, made by deploy/demo-model/train.py's run, see tests/golden/README.md).
    /// </summary>
    [Fact]
    public void TheTrainedDemoModelEqualsHuggingFaceTransformers()
    {
        string directory = TestModels.Repository("models", "demo-speaking");
        int[] prompt = [.. ModelTokenizer.Load(directory).Encode("The quick brown fox jumps over the lazy dog")];
        Assert.Equal([0, 910, 961, 1803, 3408, 991, 283, 83, 92, 930, 394, 1107, 1145, 273, 322, 3153, 93, 685, 75], prompt);
        AssertEqualsHuggingFace(directory, prompt, "hf-speaking.safetensors");
    }

    // The model's logits at every position of the prompt within 1e-3 of the golden file's, and its greedy tokens equal.
    private static void AssertEqualsHuggingFace(string directory, int[] prompt, string goldenFile)
    {
        using var golden = SafeTensorsFile.Open(TestModels.Golden(goldenFile));
        float[] expected = golden.ReadFloat32("logits");
        long[] expectedIds = golden.ReadInt64("generated");

        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(directory, device);
        float[] logits = model.Forward(prompt, ForwardBatch.Single(1, prompt.Length), allPositions: true);
        model.EndSequence(1);

        Assert.Equal(expected.Length, logits.Length);
        float worst = expected.Zip(logits, (a, b) => MathF.Abs(a - b)).Max();
        Assert.True(worst <= 1e-3f, $"max |Δlogit| = {worst:g3} over {prompt.Length} positions; expected ≤ 1e-3");

        var request = new GenerationRequest(prompt, expectedIds.Length, SamplingOptions.Greedy, StopIds: []);
        var generated = new Generator(model).Generate([request])[0].GeneratedIds;
        Assert.Equal(expectedIds.Select(i => (int)i), generated);
    }

    [Fact]
    public void PrefillThenDecodeEqualsOneFullPass()
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.TinySharded), device);
        int[] tokens = TestModels.GoldenPrompt;
        int vocab = model.Config.VocabSize;
        float[] full = model.Forward(tokens, ForwardBatch.Single(1, tokens.Length), allPositions: true);

        // Prefill the first 10 tokens, then feed the rest one at a time through the KV cache.
        const int prefill = 10;
        float[] step = model.Forward(tokens[..prefill], ForwardBatch.Single(2, prefill));
        AssertClose(full.AsSpan((prefill - 1) * vocab, vocab), step);
        for (int t = prefill; t < tokens.Length; t++)
        {
            step = model.Forward([tokens[t]], new ForwardBatch([new SequenceChunk(2, t, 1)]));
            AssertClose(full.AsSpan(t * vocab, vocab), step);
        }
    }

    [Fact]
    public void BatchedSequencesEqualEachSequenceAlone()
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.TinyQwen2), device);
        int vocab = model.Config.VocabSize;
        int[] a = TestModels.GoldenPrompt[..7], b = TestModels.GoldenPrompt[3..20];
        float[] aloneA = model.Forward(a, ForwardBatch.Single(10, a.Length));
        float[] aloneB = model.Forward(b, ForwardBatch.Single(11, b.Length));

        float[] together = model.Forward([.. a, .. b], new ForwardBatch([new SequenceChunk(20, 0, a.Length), new SequenceChunk(21, 0, b.Length)]));
        AssertClose(aloneA, together.AsSpan(0, vocab));
        AssertClose(aloneB, together.AsSpan(vocab, vocab));

        // A decode step of one sequence beside the prefill of a new one: continuous batching.
        float[] mixed = model.Forward([5, .. a], new ForwardBatch([new SequenceChunk(21, b.Length, 1), new SequenceChunk(22, 0, a.Length)]));
        float[] decodeAlone = model.Forward([5], new ForwardBatch([new SequenceChunk(11, b.Length, 1)]));
        AssertClose(decodeAlone, mixed.AsSpan(0, vocab));
        AssertClose(aloneA, mixed.AsSpan(vocab, vocab));
    }

    [Fact]
    public void AChunkThatSkipsPositionsIsRefused()
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device);
        model.Forward([0, 5, 6], ForwardBatch.Single(1, 3));
        var error = Assert.Throws<InvalidOperationException>(() => model.Forward([7], new ForwardBatch([new SequenceChunk(1, 5, 1)])));
        Assert.Contains("sequence 1: a chunk starts at position 5 but 3 positions are cached", error.Message);
    }

    [Fact]
    public void SequencesWhoseBlocksInterleaveInThePoolEqualEachSequenceAlone()
    {
        using var device = new CpuDevice();
        using var model = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device);
        using var fresh = CausalLanguageModel.Load(TestModels.Directory(DemoModels.Tiny), device);
        int vocab = model.Config.VocabSize;
        int[] a = TestModels.GoldenPrompt, b = [.. TestModels.GoldenPrompt.Reverse()];

        // Two prompts of 26 tokens, then decode steps of both in one batch: each takes a new block every 16 positions,
        // so their block tables interleave; the second ends and a third sequence takes its blocks mid-pool.
        model.Forward([.. a, .. b], new ForwardBatch([new SequenceChunk(1, 0, a.Length), new SequenceChunk(2, 0, b.Length)]));
        fresh.Forward(a, ForwardBatch.Single(1, a.Length));
        for (int t = 0; t < 12; t++)
        {
            int position = a.Length + t, token = 2 + t;
            float[] both = model.Forward([token, token], new ForwardBatch([new SequenceChunk(1, position, 1), new SequenceChunk(2, position, 1)]));
            float[] alone = fresh.Forward([token], new ForwardBatch([new SequenceChunk(1, position, 1)]));
            AssertClose(alone, both.AsSpan(0, vocab));
        }

        model.EndSequence(2);
        float[] third = model.Forward(b[..20], ForwardBatch.Single(3, 20));
        float[] thirdAlone = fresh.Forward(b[..20], ForwardBatch.Single(3, 20));
        AssertClose(thirdAlone, third);
        Assert.Equal(2, model.Layers[0].LiveSequences);
        Assert.Equal(KvCacheSize.Bytes(a.Length + 12, model.Config.NumKeyValueHeads * model.Config.HeadDim)
            + KvCacheSize.Bytes(20, model.Config.NumKeyValueHeads * model.Config.HeadDim), model.Layers[0].KvCacheBytes);
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= 1e-4f, $"logit {i}: {actual[i]} vs {expected[i]}");
        }
    }
}
