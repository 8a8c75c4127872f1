namespace OrleansQuant.Contracts;

/// <summary>A silo's device inventory (key: the silo's parsable address); placed on that silo.</summary>
public interface IDeviceHostGrain : IGrainWithStringKey
{
    Task<SiloDevices> GetDevices();
}
