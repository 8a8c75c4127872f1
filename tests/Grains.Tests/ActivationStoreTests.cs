using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Grains.Devices;

namespace OrleansQuant.Grains.Tests;

public sealed class ActivationStoreTests
{
    [Fact]
    public void AParkedActivationIsTakenOnceAndFreedWhenItsConsumerNeverComes()
    {
        var clock = new ManualClock();
        var store = new ActivationStore(clock);
        using var device = new CpuDevice();
        var lost = device.Allocate(TensorType.Float32, 2, 4);
        var lostHandle = store.Park("silo", 0, lost);
        var taken = store.Park("silo", 0, device.Allocate(TensorType.Float32, 2, 4));
        Assert.Equal(2, store.Parked);
        store.Take(taken).Dispose();

        clock.Now += ActivationStore.Expiry + TimeSpan.FromSeconds(1);
        var fresh = store.Park("silo", 0, device.Allocate(TensorType.Float32, 1, 4));
        Assert.True(lost.IsDisposed);
        Assert.Equal(1, store.Parked);
        var error = Assert.Throws<InvalidOperationException>(() => store.Take(lostHandle));
        Assert.Contains("expired", error.Message);
        Assert.Throws<InvalidOperationException>(() => store.Take(taken));
        store.Take(fresh).Dispose();
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
