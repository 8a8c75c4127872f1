using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Devices;

namespace OrleansQuant.Grains.Hosting;

/// <summary>Registers device backends; each adds one <see cref="IComputeDeviceProvider"/>, and registering one twice is harmless.</summary>
public static class ComputeDeviceExtensions
{
    /// <summary>
    /// CPU devices, drawing on <see cref="CpuComputeBudget.Process"/> unless a budget was registered before: the
    /// process's cores are one budget however many silos the process hosts.
    /// </summary>
    public static IServiceCollection AddCpuDevices(this IServiceCollection services)
    {
        services.TryAddSingleton(CpuComputeBudget.Process);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IComputeDeviceProvider, CpuDeviceProvider>());
        return services;
    }

    /// <inheritdoc cref="AddCpuDevices(IServiceCollection)"/>
    public static ISiloBuilder AddCpuDevices(this ISiloBuilder builder)
    {
        builder.Services.AddCpuDevices();
        return builder;
    }

    /// <summary>
    /// CUDA devices beside the CPU ones: "cuda" (every GPU), "cuda:0,1" (GPUs by ordinal) and "auto" then reach them. Harmless on a
    /// machine without CUDA: the provider reports no devices there, and says which library is missing.
    /// </summary>
    public static IServiceCollection AddCudaDevices(this IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IComputeDeviceProvider, CudaDeviceProvider>());
        return services;
    }

    /// <inheritdoc cref="AddCudaDevices(IServiceCollection)"/>
    public static ISiloBuilder AddCudaDevices(this ISiloBuilder builder)
    {
        builder.Services.AddCudaDevices();
        return builder;
    }
}
