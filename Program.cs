using System.Diagnostics;
using System.Reflection;
using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
var prop = typeof(CpuDevice).GetProperty("Int8KernelInUse", BindingFlags.NonPublic|BindingFlags.Instance)!;
var kinds = Enum.GetValues(prop.PropertyType);
var rnd = new Random(1);
foreach (var (T,N,K) in new[]{(1,1536,512),(16,1536,512),(512,1536,512),(1,512,1536)})
{
  var dev = new CpuDevice();
  var q = dev.Allocate(TensorType.Int8,T,K); dev.Upload<sbyte>(Enumerable.Range(0,T*K).Select(_=>(sbyte)rnd.Next(-127,128)).ToArray(), q);
  var w = dev.Allocate(TensorType.Int8,N,K); dev.Upload<sbyte>(Enumerable.Range(0,N*K).Select(_=>(sbyte)rnd.Next(-127,128)).ToArray(), w);
  var ts = dev.Allocate(TensorType.Float32,T,1); var ws = dev.Allocate(TensorType.Float32,1,N); var y = dev.Allocate(TensorType.Float32,T,N);
  var xf = dev.Allocate(TensorType.Float32,T,K); var wf = dev.Allocate(TensorType.Float32,N,K);
  foreach (var k in kinds) {
    prop.SetValue(dev,k);
    int iters = Math.Max(3, (int)(2e9/((long)T*N*K)));
    for(int i=0;i<iters/4+1;i++) dev.MatMulInt8(q,ts,w,ws,null,y);
    var sw=Stopwatch.StartNew(); for(int i=0;i<iters;i++) dev.MatMulInt8(q,ts,w,ws,null,y);
    Console.WriteLine($"T={T} N={N} K={K} {k}: {sw.Elapsed.TotalMicroseconds/iters:F1} us");
  }
  { int iters = Math.Max(3, (int)(1e9/((long)T*N*K)));
    for(int i=0;i<iters/4+1;i++) dev.MatMul(xf,wf,null,y);
    var sw=Stopwatch.StartNew(); for(int i=0;i<iters;i++) dev.MatMul(xf,wf,null,y);
    Console.WriteLine($"T={T} N={N} K={K} fp32: {sw.Elapsed.TotalMicroseconds/iters:F1} us"); }
}
