using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>
/// <see cref="IComputeDevice.TokenLogProbs"/> on the CPU device: targets and top tokens against a host log-softmax in
/// double, the order on ties, a target that is the argmax equal to its top value bit for bit, and the edges (K above
/// the vocabulary, −∞, NaN, an id outside the vocabulary).
/// </summary>
public sealed class CpuLogProbsTests
{
    // Softmax order: 1 and 4 (tied, 3), 2 (2.5), 0 (1), 5 (0), 3 (−1).
    private static readonly float[] s_logits = [1f, 3f, 2.5f, -1f, 3f, 0f];

    private readonly CpuDevice _device = new();

    [Fact]
    public void TargetsAndTopTokensAreTheLogSoftmaxInOrderLowerIdFirstOnTies()
    {
        var (targets, ids, top) = Score([.. s_logits, .. s_logits], [3, 1], k: 4);
        var expected = LogSoftmax(s_logits);
        Assert.Equal(expected[3], targets[0], 1e-6);
        Assert.Equal(expected[1], targets[1], 1e-6);
        Assert.Equal([1, 4, 2, 0, 1, 4, 2, 0], ids);
        for (int j = 0; j < 4; j++)
        {
            Assert.Equal(expected[ids[j]], top[j], 1e-6);
        }

        // The argmax target and its top value are one float: lm-eval's greedy check compares them with ==.
        Assert.Equal(top[4], targets[1]);
    }

    [Fact]
    public void SlotsBeyondTheVocabularyAreEmptyAndNaNIsNeverPicked()
    {
        var (_, ids, top) = Score([0.5f, float.NaN, float.NegativeInfinity], [0], k: 4);
        Assert.Equal([0, 2, -1, -1], ids);
        Assert.Equal(float.NegativeInfinity, top[1]);
        Assert.Equal(float.NegativeInfinity, top[3]);
    }

    [Fact]
    public void ATargetOutsideTheVocabularyIsRefusedNamingIt()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Score(s_logits, [6], k: 1));
        Assert.Equal("targets", error.ParamName);
        Assert.Contains("token id 6", error.Message);
    }

    [Fact]
    public void NoTopColumnIsRefused()
    {
        using var logits = _device.UploadNew<float>(s_logits, 1, s_logits.Length);
        using var targets = _device.UploadVector<int>([0]);
        using var scores = _device.Allocate(TensorType.Float32, 1, 1);
        using var ids = _device.Allocate(TensorType.Int32, 1, 0);
        using var top = _device.Allocate(TensorType.Float32, 1, 0);
        Assert.Throws<ArgumentException>(() => _device.TokenLogProbs(logits, targets, scores, ids, top));
    }

    private (float[] Targets, int[] Ids, float[] Top) Score(float[] logits, int[] targets, int k)
    {
        using var input = _device.UploadNew<float>(logits, targets.Length, logits.Length / targets.Length);
        using var wanted = _device.UploadVector<int>(targets);
        using var scores = _device.Allocate(TensorType.Float32, 1, targets.Length);
        using var ids = _device.Allocate(TensorType.Int32, targets.Length, k);
        using var top = _device.Allocate(TensorType.Float32, targets.Length, k);
        _device.TokenLogProbs(input, wanted, scores, ids, top);
        return (scores.ToArray<float>(), ids.ToArray<int>(), top.ToArray<float>());
    }

    private static double[] LogSoftmax(float[] logits)
    {
        double max = logits.Max();
        double log = Math.Log(logits.Sum(l => Math.Exp(l - max)));
        return logits.Select(l => l - max - log).ToArray();
    }
}
