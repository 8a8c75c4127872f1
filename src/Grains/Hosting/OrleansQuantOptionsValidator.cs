using Microsoft.Extensions.Options;
using OrleansQuant.Grains.Devices;

namespace OrleansQuant.Grains.Hosting;

/// <summary>
/// Checks the settings when the silo starts, so a typo in the devices setting stops the silo with a message naming
/// the setting, its value and what is accepted, instead of surfacing later as a failed grain activation. The kinds
/// accepted are those of the registered device providers.
/// </summary>
public sealed class OrleansQuantOptionsValidator(IEnumerable<IComputeDeviceProvider> providers) : IValidateOptions<OrleansQuantOptions>
{
    public ValidateOptionsResult Validate(string? name, OrleansQuantOptions options)
    {
        var kinds = providers.Select(p => p.Kind).ToArray();
        if (!DeviceSpec.TryParse(options.Devices, out var spec) || (spec.Kind is not null && !kinds.Contains(spec.Kind.Value)))
        {
            return ValidateOptionsResult.Fail(DeviceSpec.Expected(options.Devices, kinds));
        }

        try
        {
            OrleansQuantOptions.ParsePlacement(options.FullPrecisionCopy);
            return ValidateOptionsResult.Success;
        }
        catch (ArgumentException error)
        {
            return ValidateOptionsResult.Fail(error.Message);
        }
    }
}
