using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Gpu.Tests.Cuda;

namespace OrleansQuant.Gpu.Tests;

/// <summary>
/// <see cref="IComputeDevice.CopyToHost"/> and <see cref="IComputeDevice.CopyToDevice"/>: what a layer parks in host
/// memory comes back bit for bit, even when the device tensor is freed right after the copy was queued.
/// </summary>
public sealed class HostCopyTests
{
    [Fact]
    public void Every_type_round_trips_through_host_memory_on_the_cpu_device()
    {
        using var device = new CpuDevice();
        RoundTrip(device);
    }

    [Fact]
    public void A_copy_from_another_device_is_refused_naming_both()
    {
        using var a = new CpuDevice(0);
        using var b = new CpuDevice(1);
        using var tensor = a.UploadVector<float>([1f, 2f]);
        using var copy = a.CopyToHost(tensor);
        var error = Assert.Throws<ArgumentException>(() => b.CopyToDevice(copy));
        Assert.Contains("was not made by", error.Message);
    }

    /// <summary>Float32, BFloat16, Int8, Int32 and Float64 tensors (and an empty one) there and back.</summary>
    internal static void RoundTrip(IComputeDevice device)
    {
        var random = new Random(11);
        Check(device, Enumerable.Range(0, 300 * 7).Select(_ => (float)random.NextDouble()).ToArray(), 300, 7);
        Check(device, Enumerable.Range(0, 64 * 33).Select(_ => new BFloat16((ushort)random.Next(65536))).ToArray(), 64, 33);
        Check(device, Enumerable.Range(0, 5 * 4096).Select(_ => (sbyte)random.Next(-127, 128)).ToArray(), 5, 4096);
        Check(device, Enumerable.Range(0, 3 * 5).Select(_ => random.Next()).ToArray(), 3, 5);
        Check(device, Enumerable.Range(0, 9 * 9).Select(_ => random.NextDouble()).ToArray(), 9, 9);
        Check(device, Array.Empty<float>(), 0, 16);
    }

    private static void Check<T>(IComputeDevice device, T[] values, int rows, int columns) where T : unmanaged
    {
        HostTensor copy;
        using (var tensor = device.UploadNew<T>(values, rows, columns))
        {
            // Freed at once: the copy was queued before the free, in the device's order.
            copy = device.CopyToHost(tensor);
        }

        using (copy)
        {
            Assert.Equal((long)rows * columns * TensorTypeExtensions.Of<T>().ElementSize(), copy.ByteLength);
            using var first = device.CopyToDevice(copy);
            using var second = device.CopyToDevice(copy);
            Assert.Equal(values, first.ToArray<T>());
            Assert.Equal(values, second.ToArray<T>());
            Assert.Equal(TensorTypeExtensions.Of<T>(), first.Type);
        }
    }
}
