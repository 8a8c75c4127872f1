using OrleansQuant.Contracts;
using OrleansQuant.Grains.Devices;
using OrleansQuant.Grains.Placement;

namespace OrleansQuant.Grains;

/// <summary>Reports the devices of the silo it lives on; the coordinator places one on every silo.</summary>
[SiloTargetPlacement]
public sealed class DeviceHostGrain(DeviceRegistry devices, ILocalSiloDetails silo) : Grain, IDeviceHostGrain
{
    public Task<SiloDevices> GetDevices()
    {
        string here = silo.SiloAddress.ToParsableString();
        if (here != this.GetPrimaryKeyString())
        {
            throw new InvalidOperationException($"device host for {this.GetPrimaryKeyString()} was activated on {here}; that silo is gone");
        }

        return Task.FromResult(new SiloDevices(here, devices.Describe()));
    }
}
