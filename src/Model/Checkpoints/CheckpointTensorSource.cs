using System.Buffers.Binary;
using System.Runtime.InteropServices;
using OrleansQuant.Gpu;
using OrleansQuant.Model.Inference;

namespace OrleansQuant.Model.Checkpoints;

/// <summary>A checkpoint's safetensors as a <see cref="ITensorSource"/>: each tensor read, shape-checked and uploaded.</summary>
public sealed class CheckpointTensorSource(CheckpointReader checkpoint) : ITensorSource
{
    public string Origin => checkpoint.Directory;

    public bool Contains(string name) => checkpoint.Contains(name);

    public DeviceTensor LoadFloat(string name, int rows, int columns, TensorType type, IComputeDevice device)
    {
        var entry = checkpoint.GetEntry(name);
        long[] expected = rows == 1 && entry.Shape.Length == 1 ? [columns] : [rows, columns];
        if (!entry.Shape.SequenceEqual(expected))
        {
            throw new ModelFormatException(checkpoint.Directory,
                $"tensor '{name}' has shape [{string.Join(", ", entry.Shape)}]; the config implies [{string.Join(", ", expected)}]");
        }

        // A bf16 checkpoint's bytes go to a bf16 tensor as they are; other dtypes are widened, and rounded if need be, on the host.
        if (type == TensorType.BFloat16 && entry.DType == TensorDType.BF16)
        {
            var bytes = checkpoint.GetBytes(name);
            int bad = NonFiniteScan.IndexOf(TensorDType.BF16, bytes);
            if (bad >= 0)
            {
                throw NonFinite(name, bad, FloatConversion.FromBFloat16Bits(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * bad)..])));
            }

            return device.UploadNew(MemoryMarshal.Cast<byte, BFloat16>(bytes), rows, columns);
        }

        float[] values = ReadFinite(name);
        return device.UploadFloats(values, rows, columns, type);
    }

    public (DeviceTensor Weight, DeviceTensor Scales) LoadInt8(string prefix, int outputs, int inputs, IComputeDevice device)
    {
        string name = prefix + ".weight";
        var entry = checkpoint.GetEntry(name);
        if (entry.DType != TensorDType.I8 || !entry.Shape.SequenceEqual([outputs, inputs]))
        {
            throw new ModelFormatException(checkpoint.Directory,
                $"tensor '{name}' is {entry.DType}[{string.Join(", ", entry.Shape)}]; a linear with a weight_scale needs I8[{outputs}, {inputs}]");
        }

        var scaleEntry = checkpoint.GetEntry(prefix + ".weight_scale");
        if (scaleEntry.ElementCount != outputs || scaleEntry.Shape.Length is < 1 or > 2)
        {
            throw new ModelFormatException(checkpoint.Directory,
                $"tensor '{prefix}.weight_scale' has shape [{string.Join(", ", scaleEntry.Shape)}]; per-channel int8 weights need [{outputs}, 1]");
        }

        var weight = device.UploadNew<sbyte>(checkpoint.ReadInt8(name), outputs, inputs);
        try
        {
            return (weight, device.UploadVector<float>(ReadFinite(prefix + ".weight_scale")));
        }
        catch
        {
            weight.Dispose();
            throw;
        }
    }

    // Checked after widening, so F16, BF16 and F32 are all one scan of the floats about to be uploaded.
    private float[] ReadFinite(string name)
    {
        float[] values = checkpoint.ReadFloat32(name);
        int bad = NonFiniteScan.IndexOf(values);
        return bad < 0 ? values : throw NonFinite(name, bad, values[bad]);
    }

    private ModelFormatException NonFinite(string name, int index, float value) =>
        new(checkpoint.GetShardPath(name),
            $"tensor '{name}': element {index} is {NonFiniteScan.Describe(value)}; expected finite weights (the file is corrupt, or the weights overflowed when saved)");
}
