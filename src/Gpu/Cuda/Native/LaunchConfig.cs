using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrleansQuant.Gpu.Cuda.Native;

/// <summary>CUlaunchConfig: a kernel launch with attributes (<see cref="Driver.cuLaunchKernelEx"/>).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct LaunchConfig
{
    public uint GridX, GridY, GridZ;
    public uint BlockX, BlockY, BlockZ;
    public uint SharedBytes;
    public nint Stream;
    public LaunchAttribute* Attributes;
    public uint AttributeCount;
}

/// <summary>CUlaunchAttribute: an id, padding to 8 bytes, and a 64-byte value union of which this backend sets one int.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LaunchAttribute
{
    /// <summary>CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION: the kernel may start before the one before it ends.</summary>
    public const int ProgrammaticStreamSerialization = 6;

    public int Id;
    private int _padding;
    public Value64 Value;

    [InlineArray(16)]
    public struct Value64
    {
        private int _first;
    }
}
