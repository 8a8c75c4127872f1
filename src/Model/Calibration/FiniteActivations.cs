using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;

namespace OrleansQuant.Model.Calibration;

/// <summary>
/// Refuses a layer whose calibration activations held NaN or infinity: the |x| maxima propagate NaN, so one look at
/// the four small vectors (already downloaded for SmoothQuant) tells, and names the layer and input where it began,
/// instead of GPTQ failing later on a Hessian that "needs more dampening".
/// </summary>
public static class FiniteActivations
{
    /// <exception cref="ArithmeticException">naming the layer, the linear input and its readers, and the channel.</exception>
    public static void Check(int layer, LayerCalibration calibration)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        foreach (LinearInput input in Enum.GetValues<LinearInput>())
        {
            double[] maxima = calibration.Statistics(input).AbsMax;
            int channel = Array.FindIndex(maxima, m => !double.IsFinite(m));
            if (channel >= 0)
            {
                string readers = string.Join(", ", LinearSlot.Readers(input).Select(slot => slot.ModuleName(layer)));
                throw new ArithmeticException(
                    $"layer {layer}: calibration activations entering {readers} are {(double.IsNaN(maxima[channel]) ? "NaN" : "infinite")} in channel {channel}; expected finite activations (a weight of this or an earlier layer, or the calibration input, overflows)");
            }
        }
    }
}
