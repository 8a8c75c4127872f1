using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OrleansQuant.Gpu;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Grains.Hosting;

namespace OrleansQuant.Grains.Tests.Devices;

/// <summary>
/// The silo's devices come through DI: settings bound from configuration and checked at start, devices made by the
/// registered provider, CPU devices splitting one budget. Hosts here are built, not started, except to see the start
/// refuse a bad setting.
/// </summary>
public sealed class DeviceRegistryTests
{
    [Theory]
    [InlineData("cpu:0")]
    [InlineData("cpu:65")]
    [InlineData("gpu:2")]
    [InlineData("cuda:1")] // no CUDA provider registered in this build
    [InlineData("0:2")]
    [InlineData("cpu: 2")]
    [InlineData("")]
    public void ABadDevicesSettingNamesTheSettingTheValueAndWhatIsExpected(string devices)
    {
        using var host = Build(options => options.Devices = devices);
        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<OrleansQuantOptions>>().Value);
        Assert.Contains("OrleansQuant:Devices", error.Message);
        Assert.Contains($"'{devices}'", error.Message);
        Assert.Contains("expected 'cpu' or 'cpu:N' (N devices, 1 ≤ N ≤ 64) or 'auto'", error.Message);
    }

    [Fact]
    public void AnUnknownFullPrecisionPlacementStopsTheSiloNamingTheAcceptedOnes()
    {
        using var host = Build(options => options.FullPrecisionCopy = "disk");
        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<OrleansQuantOptions>>().Value);
        Assert.Contains("FullPrecisionCopy is 'disk'", error.Message);
        Assert.Contains("auto, device or host", error.Message);
    }

    [Theory]
    [InlineData("cuda:1,1")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:0,,1")]
    [InlineData("cuda:")]
    [InlineData("cuda:0, 1")]
    [InlineData("cpu:0,1")]
    public void ABadOrdinalListIsRefusedWithBothKindsForms(string devices)
    {
        using var host = Build(options => options.Devices = devices, services => services.AddSingleton<IComputeDeviceProvider>(new FakeAcceleratorProvider(2)));
        var error = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<OrleansQuantOptions>>().Value);
        Assert.Contains($"OrleansQuant:Devices '{devices}' is not understood", error.Message);
        Assert.Contains("'cpu' or 'cpu:N' (N devices, 1 ≤ N ≤ 64)", error.Message);
        Assert.Contains("'cuda' (every one) or 'cuda:I,J,…' (device ordinals, distinct, from 0: 'cuda:1' is the second)", error.Message);
    }

    [Theory]
    [InlineData("cuda:0,1", "Cuda", 2, new[] { 0, 1 })]
    [InlineData("cuda:1", "Cuda", 1, new[] { 1 })]
    [InlineData("CUDA:3,0", "Cuda", 2, new[] { 3, 0 })]
    [InlineData("cpu:2", "Cpu", 2, null)]
    [InlineData("cuda", "Cuda", 0, null)]
    public void ACudaSuffixListsOrdinalsWhileACpuSuffixCountsDevices(string devices, string kind, int count, int[]? ordinals)
    {
        Assert.True(DeviceSpec.TryParse(devices, out var spec));
        Assert.Equal(Enum.Parse<DeviceKind>(kind), spec.Kind);
        Assert.Equal(count, spec.Count);
        Assert.Equal(ordinals, spec.Ordinals);
        Assert.Equal(devices.ToLowerInvariant(), spec.ToString());
    }

    [Fact]
    public void CudaOrdinalsPickThoseDevicesAndTheRegistryFindsThemByOrdinal()
    {
        using var host = Build(options => options.Devices = "cuda:1,3",
            services => services.AddSingleton<IComputeDeviceProvider>(new FakeAcceleratorProvider(autoCount: 4)));
        var registry = host.Services.GetRequiredService<DeviceRegistry>();

        Assert.Equal(2, registry.Count);
        Assert.Equal([1, 3], registry.Describe().Select(d => d.Ordinal));
        Assert.Equal(3, registry[3].Device.Info.Ordinal);
        Assert.Equal(1, registry.Head.Device.Info.Ordinal);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => registry[0]);
        Assert.Contains("device 0 does not exist on this silo; it has 2: cuda:1, cuda:3", error.Message);
    }

    [Theory]
    [InlineData("cuda:2", "asks for CUDA device 2, but this machine has 2 GPUs (ordinals 0–1)")]
    [InlineData("cuda:0,5", "asks for CUDA device 5, but this machine has 2 GPUs (ordinals 0–1)")]
    public void AnOrdinalTheMachineLacksNamesItAndHowManyGpusThereAre(string devices, string message)
    {
        using var host = Build(options => options.Devices = devices,
            services => services.AddSingleton<IComputeDeviceProvider>(new FakeAcceleratorProvider(autoCount: 2)));
        var error = Assert.ThrowsAny<ArgumentException>(() => host.Services.GetRequiredService<DeviceRegistry>());
        Assert.Contains("OrleansQuant:Devices " + message, error.Message);
    }

    [Theory]
    [InlineData(1, "1 GPU (ordinal 0)")]
    [InlineData(0, "no GPU")]
    public void TheOrdinalCheckSaysHowManyGpusThereAre(int gpus, string has)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => CudaDeviceProvider.Check([1], gpus));
        Assert.Contains($"asks for CUDA device 1, but this machine has {has}", error.Message);
        Assert.Contains("names a CUDA device twice: [0, 0]", Assert.ThrowsAny<ArgumentException>(() => CudaDeviceProvider.Check([0, 0], 2)).Message);
    }

    [Fact]
    public async Task TheSiloRefusesToStartWithABadDevicesSetting()
    {
        using var host = Build(options => options.Devices = "cpu:many");
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("OrleansQuant:Devices 'cpu:many'", error.Message);
    }

    [Fact]
    public async Task ASiloAskedForDevicesThisMachineLacksRefusesToStartWithTheReason()
    {
        // The fake accelerator provider has no devices: like "cuda" on a machine without libcuda.
        using var host = Build(options => options.Devices = "cuda", services => services.AddSingleton<IComputeDeviceProvider>(new FakeAcceleratorProvider(0)));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        Assert.Contains("no accelerator here", error.Message);
    }

    [Fact]
    public void TheDevicesSettingIsReadFromConfiguration()
    {
        using var host = Build(configuration: new() { ["OrleansQuant:Devices"] = "cpu:3" });
        Assert.Equal(3, host.Services.GetRequiredService<DeviceRegistry>().Count);
    }

    [Fact]
    public void MoreCpuDevicesThanCoresGetOneThreadEachFromTheSharedBudget()
    {
        var budget = new CpuComputeBudget(2);
        using var host = Build(options => options.Devices = "cpu:4", services => services.AddSingleton(budget));
        var registry = host.Services.GetRequiredService<DeviceRegistry>();

        Assert.Equal(4, registry.Count);
        Assert.All(Enumerable.Range(0, 4), i => Assert.Equal(1, registry[i].Device.Parallelism.MaxDegreeOfParallelism));
        Assert.Equal([0, 1, 2, 3], registry.Describe().Select(d => d.Ordinal));
        Assert.Same(registry[0], registry.Head);
    }

    [Fact]
    public void FewerCpuDevicesThanCoresSplitEveryCore()
    {
        var budget = new CpuComputeBudget(5);
        using var host = Build(options => options.Devices = "cpu:2", services => services.AddSingleton(budget));
        var registry = host.Services.GetRequiredService<DeviceRegistry>();
        Assert.Equal([3, 2], Enumerable.Range(0, 2).Select(i => registry[i].Device.Parallelism.MaxDegreeOfParallelism));
    }

    [Fact]
    public void AutoPrefersAnAcceleratorProviderThatHasDevices()
    {
        using var host = Build(options => options.Devices = "auto",
            services => services.AddSingleton<IComputeDeviceProvider>(new FakeAcceleratorProvider(autoCount: 2)));
        var registry = host.Services.GetRequiredService<DeviceRegistry>();
        Assert.Equal(2, registry.Count);
        Assert.All(registry.Describe(), d => Assert.Contains("fake", d.Name));
    }

    [Fact]
    public void AutoFallsBackToOneCpuDeviceWithEveryCore()
    {
        var budget = new CpuComputeBudget(3);
        using var host = Build(options => options.Devices = "auto", services => services
            .AddSingleton(budget)
            .AddSingleton<IComputeDeviceProvider>(new FakeAcceleratorProvider(autoCount: 0)));
        var registry = host.Services.GetRequiredService<DeviceRegistry>();
        Assert.Equal(1, registry.Count);
        Assert.Equal(3, registry.Head.Device.Parallelism.MaxDegreeOfParallelism);
    }

    [Fact]
    public void AnExplicitKindUsesItsRegisteredProvider()
    {
        using var host = Build(options => options.Devices = "cuda",
            services => services.AddSingleton<IComputeDeviceProvider>(new FakeAcceleratorProvider(autoCount: 3)));
        var registry = host.Services.GetRequiredService<DeviceRegistry>();
        Assert.Equal(3, registry.Count);
        Assert.All(registry.Describe(), d => Assert.Equal("fake accelerator", d.Name));
    }

    [Fact]
    public void AnUnknownDeviceOrdinalNamesHowManyThereAre()
    {
        using var host = Build(options => options.Devices = "cpu:2");
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => host.Services.GetRequiredService<DeviceRegistry>()[2]);
        Assert.Contains("it has 2: cpu:0, cpu:1", error.Message);
    }

    private static IHost Build(Action<OrleansQuantOptions>? configure = null, Action<IServiceCollection>? services = null,
        Dictionary<string, string?>? configuration = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (configuration is not null)
        {
            Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(builder.Configuration, configuration);
        }

        services?.Invoke(builder.Services);
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering();
            silo.AddOrleansQuant(configure);
        });
        return builder.Build();
    }
}
