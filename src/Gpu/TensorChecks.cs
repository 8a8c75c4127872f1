namespace OrleansQuant.Gpu;

/// <summary>
/// The argument checks every device makes before it touches memory, one definition for all of them, so a wrong shape
/// or type reads the same on every device: the call, what was expected and what came.
/// </summary>
internal static class TensorChecks
{
    public static void RequireLength(int given, long expected, string call)
    {
        if (given != expected)
        {
            throw new ArgumentException($"{call}: {given} elements given, the tensor holds {expected}");
        }
    }

    public static void RequireRows(DeviceTensor tensor, int row, int rows, string call)
    {
        if (row < 0 || rows < 0 || row + rows > tensor.Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), $"{call}: rows [{row}, {row + rows}) outside {tensor}");
        }
    }

    public static void RequireShape(DeviceTensor tensor, int rows, int columns, string what)
    {
        if (tensor.Rows != rows || tensor.Columns != columns)
        {
            throw new ArgumentException($"{what}: expected [{rows}, {columns}], got {tensor}");
        }
    }

    public static void RequireType(DeviceTensor tensor, TensorType type, string what)
    {
        if (tensor.Type != type)
        {
            throw new ArgumentException($"{what}: expected {type}, got {tensor}");
        }
    }
}
