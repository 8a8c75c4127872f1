using System.Buffers.Binary;
using System.Diagnostics;
using OrleansQuant.Model.Checkpoints;

namespace OrleansQuant.Model.Tests.Reliability;

/// <summary>Builders of the bad inputs issue 10 reported: copies of a good model with one thing broken.</summary>
internal static class BadInputFiles
{
    /// <summary>Copies every file of <paramref name="source"/> into <paramref name="target"/>.</summary>
    public static void CopyModel(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (string file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    /// <summary>Overwrites element <paramref name="element"/> of a float tensor in place with <paramref name="value"/>, in the tensor's dtype.</summary>
    public static void Poison(string safetensorsPath, string tensor, long element, float value)
    {
        long start;
        TensorDType dtype;
        using (var file = SafeTensorsFile.Open(safetensorsPath))
        {
            var entry = file.GetEntry(tensor);
            (start, dtype) = (entry.Start, entry.DType);
        }

        using var stream = new FileStream(safetensorsPath, FileMode.Open, FileAccess.ReadWrite);
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        long dataOffset = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        byte[] bytes = FloatConversion.FromFloat32(dtype, [value]);
        stream.Position = dataOffset + start + (element * bytes.Length);
        stream.Write(bytes);
    }

    /// <summary>Makes a named pipe at <paramref name="path"/> (Linux and macOS).</summary>
    public static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    /// <summary>
    /// Runs <paramref name="action"/> on a thread of its own and fails the test if it takes longer than
    /// <paramref name="seconds"/> (at least 30: the bound tells a hang from slowness, and on two busy cores a thread-pool
    /// item can wait seconds to start): a hang is a failure, not a stuck run.
    /// </summary>
    public static T WithinSeconds<T>(double seconds, Func<T> action)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                done.SetResult(action());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        }) { IsBackground = true };
        thread.Start();
        double bound = Math.Max(seconds, 30);
        Assert.True(done.Task.Wait(TimeSpan.FromSeconds(bound)) || done.Task.IsCompleted, $"still running after {bound} s: the input hangs the reader");
        return done.Task.GetAwaiter().GetResult();
    }
}
