global using static OrleansQuant.Gpu.TensorChecks;
