using BenchmarkDotNet.Running;
using OrleansQuant.Gpu.Cpu;

// The int8 path is fixed per machine; print it so a results table can be read with the kernel that produced it.
Console.WriteLine($"CpuDevice int8 path: {CpuDevice.Int8Path}");
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
