using OrleansQuant.Gpu;

namespace OrleansQuant.Model.Inference;

/// <summary>
/// One linear input of a step (<see cref="LinearInput"/>) in the forms its readers take: float for full-precision
/// linears and calibration observers, int8 per token (with its scales) for W8A8 linears. Each form is made once
/// however many linears read it — q, k and v share one quantization, as gate and up do — and, where the input is an
/// RMSNorm or SwiGLU output, in the same kernel that makes it (<see cref="IComputeDevice.RmsNormQuantize"/>).
/// </summary>
public sealed class LinearActivation : IDisposable
{
    private readonly IComputeDevice _device;
    private readonly bool _ownsFloat;
    private DeviceTensor? _quantized;
    private DeviceTensor? _scales;

    private LinearActivation(IComputeDevice device, DeviceTensor? value, bool ownsFloat, int rows, int columns)
    {
        _device = device;
        Float = value;
        _ownsFloat = ownsFloat;
        Rows = rows;
        Columns = columns;
    }

    public int Rows { get; }

    public int Columns { get; }

    /// <summary>The float form, or null when every reader is W8A8 and nothing observes it.</summary>
    public DeviceTensor? Float { get; }

    /// <summary>RMSNorm(x)·gain in the forms <paramref name="forms"/> asks for, in one kernel when both or only int8; the float form in x's type.</summary>
    public static LinearActivation Normalize(IComputeDevice device, DeviceTensor x, DeviceTensor gain, float eps, LinearForms forms)
    {
        var activation = Allocate(device, x, forms);
        if (forms.Int8)
        {
            var (quantized, scales) = activation.AllocateQuantized();
            device.RmsNormQuantize(x, gain, eps, activation.Float, quantized, scales);
        }
        else
        {
            device.RmsNorm(x, gain, eps, activation.Float!);
        }

        return activation;
    }

    /// <summary>silu(gate)·up in the forms asked for; the float form, when asked for, is written over <paramref name="gate"/>.</summary>
    public static LinearActivation SwiGlu(IComputeDevice device, DeviceTensor gate, DeviceTensor up, LinearForms forms)
    {
        var activation = new LinearActivation(device, forms.Float ? gate : null, ownsFloat: false, gate.Rows, gate.Columns);
        if (forms.Int8)
        {
            var (quantized, scales) = activation.AllocateQuantized();
            device.SiluMulQuantize(gate, up, activation.Float, quantized, scales);
        }
        else
        {
            device.SiluMul(gate, up, gate);
        }

        return activation;
    }

    /// <summary>An input that already exists in float (the attention output); its int8 form is made on first use.</summary>
    public static LinearActivation Of(IComputeDevice device, DeviceTensor value) =>
        new(device, value, ownsFloat: false, value.Rows, value.Columns);

    /// <summary>The int8 form and its per-token scales, quantized now if no kernel made them yet.</summary>
    public (DeviceTensor Quantized, DeviceTensor Scales) Int8()
    {
        if (_quantized is null)
        {
            var source = Float ?? throw new InvalidOperationException("an activation made without a float form has its int8 form from the start");
            var (quantized, scales) = AllocateQuantized();
            _device.QuantizePerToken(source, quantized, scales);
        }

        return (_quantized!, _scales!);
    }

    public void Dispose()
    {
        if (_ownsFloat)
        {
            Float?.Dispose();
        }

        _quantized?.Dispose();
        _scales?.Dispose();
    }

    private static LinearActivation Allocate(IComputeDevice device, DeviceTensor like, LinearForms forms) =>
        new(device, forms.Float ? device.AllocateScratch(like.Type, like.Rows, like.Columns) : null, ownsFloat: true, like.Rows, like.Columns);

    private (DeviceTensor Quantized, DeviceTensor Scales) AllocateQuantized()
    {
        _quantized = _device.AllocateScratch(TensorType.Int8, Rows, Columns);
        _scales = _device.AllocateScratch(TensorType.Float32, Rows, 1);
        return (_quantized, _scales);
    }
}

/// <summary>Which forms of a linear input a step needs: float (full-precision readers, observers), int8 (W8A8 readers).</summary>
public readonly record struct LinearForms(bool Float, bool Int8);
