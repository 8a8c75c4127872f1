using OrleansQuant.Gpu.Cpu;

namespace OrleansQuant.Gpu.Tests;

/// <summary>The CPU device's bf16 KV cache: keys and values rounded on write, and attention over them equal to attention over float caches holding the rounded values.</summary>
public sealed class CpuBFloat16KvCacheTests
{
    private static readonly AttentionShape Shape = new(Heads: 8, KvHeads: 2, HeadDim: 16, SlidingWindow: null);

    [Fact]
    public void A_negative_slot_is_padding_and_writes_nothing_as_on_the_gpu()
    {
        using var device = new CpuDevice();
        var random = new Random(2);
        float[] keys = Floats(random, 2 * Shape.KvWidth);
        using var k = device.UploadNew<float>(keys, 2, Shape.KvWidth);
        using var slots = device.UploadVector<int>([-1, 3]);
        using var keyCache = device.Allocate(TensorType.Float32, 8, Shape.KvWidth);
        using var valueCache = device.Allocate(TensorType.Float32, 8, Shape.KvWidth);
        device.WriteKvCache(k, k, slots, keyCache, valueCache);

        float[] cached = keyCache.ToArray<float>();
        Assert.Equal(keys.AsSpan(Shape.KvWidth, Shape.KvWidth).ToArray(), cached.AsSpan(3 * Shape.KvWidth, Shape.KvWidth).ToArray());
        Assert.Equal(7 * Shape.KvWidth, cached.Count(v => v == 0f));
        using var past = device.UploadVector<int>([8, 0]);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => device.WriteKvCache(k, k, past, keyCache, valueCache));
        Assert.Contains("slot 8, outside the cache's 8 slots", error.Message);
    }

    [Fact]
    public void Keys_and_values_are_rounded_into_their_slots_and_other_slots_stay()
    {
        using var device = new CpuDevice();
        var random = new Random(1);
        float[] keys = Floats(random, 3 * Shape.KvWidth), values = Floats(random, 3 * Shape.KvWidth);
        using var k = device.UploadNew<float>(keys, 3, Shape.KvWidth);
        using var v = device.UploadNew<float>(values, 3, Shape.KvWidth);
        using var slots = device.UploadVector<int>([5, 0, 9]);
        using var keyCache = device.Allocate(TensorType.BFloat16, 16, Shape.KvWidth);
        using var valueCache = device.Allocate(TensorType.BFloat16, 16, Shape.KvWidth);
        device.WriteKvCache(k, v, slots, keyCache, valueCache);

        var cachedKeys = keyCache.ToArray<BFloat16>();
        var cachedValues = valueCache.ToArray<BFloat16>();
        int[] rows = [5, 0, 9];
        for (int t = 0; t < 3; t++)
        {
            for (int c = 0; c < Shape.KvWidth; c++)
            {
                Assert.Equal(BFloat16.RoundBits(keys[t * Shape.KvWidth + c]), cachedKeys[rows[t] * Shape.KvWidth + c].Bits);
                Assert.Equal(BFloat16.RoundBits(values[t * Shape.KvWidth + c]), cachedValues[rows[t] * Shape.KvWidth + c].Bits);
            }
        }

        Assert.All(cachedKeys.Skip(Shape.KvWidth).Take(4 * Shape.KvWidth), value => Assert.Equal(0, value.Bits));
    }

    [Fact]
    public void Attention_over_a_bf16_cache_equals_attention_over_the_rounded_values_in_float()
    {
        using var device = new CpuDevice();
        var random = new Random(2);
        int rows = 48;
        float[] keys = Floats(random, rows * Shape.KvWidth).Select(BFloat16.Round).ToArray();
        float[] values = Floats(random, rows * Shape.KvWidth).Select(BFloat16.Round).ToArray();
        float[] query = Floats(random, 20 * Shape.QueryWidth);
        using var q = device.UploadNew<float>(query, 20, Shape.QueryWidth);
        using var floatKeys = device.UploadNew<float>(keys, rows, Shape.KvWidth);
        using var floatValues = device.UploadNew<float>(values, rows, Shape.KvWidth);
        using var halfKeys = device.UploadFloats(keys, rows, Shape.KvWidth, TensorType.BFloat16);
        using var halfValues = device.UploadFloats(values, rows, Shape.KvWidth, TensorType.BFloat16);

        // Two sequences: a 12-row chunk at the end of a 30-position context, and an 8-row prefill, in blocks of 16.
        using var batch = new AttentionBatch(device.UploadVector<int>([0, 12, 20]), device.UploadVector<int>([30, 8]),
            device.UploadNew<int>([0, 1, 2, 0], 2, 2), BlockSize: 16, Sequences: 2, MaxQueryLength: 12, MaxContextLength: 30);
        using var expected = device.Allocate(TensorType.Float32, 20, Shape.QueryWidth);
        using var actual = device.Allocate(TensorType.Float32, 20, Shape.QueryWidth);
        device.PagedAttention(q, floatKeys, floatValues, batch, Shape, expected);
        device.PagedAttention(q, halfKeys, halfValues, batch, Shape, actual);
        Assert.Equal(expected.ToArray<float>(), actual.ToArray<float>());
    }

    [Fact]
    public void Caches_of_two_types_are_refused()
    {
        using var device = new CpuDevice();
        using var keys = device.Allocate(TensorType.Float32, 1, Shape.KvWidth);
        using var slots = device.UploadVector<int>([0]);
        using var keyCache = device.Allocate(TensorType.BFloat16, 16, Shape.KvWidth);
        using var valueCache = device.Allocate(TensorType.Float32, 16, Shape.KvWidth);
        var error = Assert.Throws<ArgumentException>(() => device.WriteKvCache(keys, keys, slots, keyCache, valueCache));
        Assert.Contains("must both be Float32 or both BFloat16", error.Message);
    }

    private static float[] Floats(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
}
