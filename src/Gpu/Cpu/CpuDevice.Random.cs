namespace OrleansQuant.Gpu.Cpu;

// Synthetic weights made where they live (IComputeDevice.FillNormal): each element depends only on (seed, its
// row-major index), so splitting the rows over threads cannot change a value.
public sealed partial class CpuDevice
{
    public void FillNormal(DeviceTensor x, ulong seed, float std)
    {
        RequireType(x, TensorType.Float32, nameof(FillNormal) + " x");
        if (!float.IsFinite(std) || std < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(std), std, $"{nameof(FillNormal)}: std is {std}; expected a finite value ≥ 0");
        }

        float[] values = Own(x).Array<float>();
        int width = x.Columns;
        ForEachRow(x.Rows, width, row =>
        {
            long first = (long)row * width;
            var target = values.AsSpan((int)first, width);
            for (int c = 0; c < target.Length; c++)
            {
                target[c] = CounterNormal.Sample(seed, (ulong)(first + c), std);
            }
        });
    }
}
