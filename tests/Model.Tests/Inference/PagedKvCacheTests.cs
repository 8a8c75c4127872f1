using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Tests.Inference;

public sealed class PagedKvCacheTests
{
    private const int Width = 8;

    [Fact]
    public void EndedSequencesGiveTheirBlocksBackAndTheNextOnesReuseThem()
    {
        using var device = new CpuDevice();
        using var cache = new PagedKvCache(device, Width);
        Assert.Equal(4, cache.CapacityBlocks);

        cache.Extend(1, 40);
        Assert.Equal([0, 1, 2], cache.BlocksOf(1));
        cache.Extend(2, 20); // needs 2 blocks, 1 is free: the pool doubles
        Assert.Equal(8, cache.CapacityBlocks);
        Assert.Equal([3, 4], cache.BlocksOf(2));
        Assert.Equal(KvCacheSize.Bytes(40, Width) + KvCacheSize.Bytes(20, Width), cache.HeldBytes);

        cache.Extend(2, 21); // still inside its second block
        Assert.Equal([3, 4], cache.BlocksOf(2));
        Assert.Equal(21, cache.Length(2));

        cache.End(1);
        Assert.Equal(1, cache.LiveSequences);
        cache.Extend(3, 50); // sequence 1's blocks first, in its order, then a fresh one
        Assert.Equal([0, 1, 2, 5], cache.BlocksOf(3));
        Assert.Equal(8, cache.CapacityBlocks);
        Assert.Equal(0, cache.Length(1));
    }

    [Fact]
    public void TrimGivesAnIdlePoolBackAndLeavesALiveOneAlone()
    {
        using var device = new CpuDevice();
        using var cache = new PagedKvCache(device, Width);
        long fresh = cache.PoolBytes;
        cache.Extend(1, 200);
        cache.Extend(2, 100);
        long grown = cache.PoolBytes;
        Assert.True(grown > fresh);

        cache.End(1);
        Assert.Equal(0, cache.Trim()); // sequence 2 still holds blocks
        Assert.Equal(grown, cache.PoolBytes);
        Assert.Equal(100, cache.Length(2));

        cache.End(2);
        Assert.Equal(grown - fresh, cache.Trim());
        Assert.Equal(fresh, cache.PoolBytes);
        Assert.Equal(0, cache.Trim());

        // The fresh pool serves as a new one does: blocks from 0, growing when full.
        cache.Extend(3, 40);
        Assert.Equal([0, 1, 2], cache.BlocksOf(3));
        cache.Extend(4, 40);
        Assert.Equal(8, cache.CapacityBlocks);
    }

    [Fact]
    public void GrowingThePoolKeepsEveryCachedRowInPlace()
    {
        using var device = new CpuDevice();
        using var cache = new PagedKvCache(device, Width);
        cache.Extend(1, 4 * KvCacheSize.BlockSize);
        float[] keys = Enumerable.Range(0, cache.Keys.Rows * Width).Select(i => (float)i).ToArray();
        device.Upload<float>(keys, cache.Keys);
        device.Upload<float>(keys.Select(k => -k).ToArray(), cache.Values);

        cache.Extend(2, 1);
        Assert.Equal(8, cache.CapacityBlocks);
        var grown = cache.Keys.ToArray<float>();
        Assert.Equal(keys, grown[..keys.Length]);
        Assert.Equal(keys.Select(k => -k), cache.Values.ToArray<float>()[..keys.Length]);

        cache.EnsureCapacity(100);
        Assert.Equal(100, cache.CapacityBlocks);
        Assert.Equal(keys, cache.Keys.ToArray<float>()[..keys.Length]);
    }
}
