using OrleansQuant.Gpu.Cuda.Native;

namespace OrleansQuant.Gpu.Cuda;

// Programmatic dependent launch (Hopper): a kernel queued with CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION may
// start while the kernel before it finishes, once that one allows it (griddepcontrol.launch_dependents), and waits for
// it inside (griddepcontrol.wait) only where it reads what that kernel wrote. The int8 GEMM fed by TMA is launched so:
// its launch, set-up and first weight tiles overlap the per-token quantization of its input, a fixed few microseconds
// that were most of what kept o_proj's W8A8 linear at 512 tokens level with a bf16 GEMM.
public sealed unsafe partial class CudaDevice
{
    /// <summary>
    /// Whether the int8 GEMMs fed by TMA are launched as programmatic dependents of the kernel before them (default, on
    /// compute capability 9.0 and later); false launches them the ordinary way, to compare or time the two.
    /// </summary>
    public bool ProgrammaticLaunch { get; set; } = true;

    /// <summary>
    /// Queues a kernel that may start before the one before it ends (<see cref="ProgrammaticLaunch"/>); the kernel must
    /// wait (griddepcontrol.wait) before it reads anything an earlier kernel wrote. Otherwise as <see cref="Launch(string, uint, uint, uint, uint, void**)"/>.
    /// </summary>
    internal void LaunchDependent(string kernel, uint gridX, uint gridY, uint blockX, uint sharedBytes, void** arguments)
    {
        if (!ProgrammaticLaunch || ComputeCapability.Major < 9)
        {
            Launch(kernel, gridX, gridY, blockX, sharedBytes, arguments);
            return;
        }

        if (gridX == 0 || gridY == 0)
        {
            return;
        }

        nint function = Function(kernel, sharedBytes);
        LaunchAttribute attribute = default;
        attribute.Id = LaunchAttribute.ProgrammaticStreamSerialization;
        attribute.Value[0] = 1;
        var config = new LaunchConfig
        {
            GridX = gridX, GridY = gridY, GridZ = 1, BlockX = blockX, BlockY = 1, BlockZ = 1,
            SharedBytes = sharedBytes, Stream = Stream, Attributes = &attribute, AttributeCount = 1,
        };
        Profile?.Begin(Stream);
        Driver.Check(Driver.cuLaunchKernelEx(&config, function, arguments, null), $"{nameof(Driver.cuLaunchKernelEx)}({kernel}, programmatic)");
        Profile?.End(kernel, Stream);
    }
}
