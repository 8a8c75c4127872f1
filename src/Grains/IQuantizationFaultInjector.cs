namespace OrleansQuant.Grains;

/// <summary>
/// A seam for failure tests: when registered in a silo, it is called before each linear of a layer is quantized
/// and may throw, as a real GPTQ failure (a Hessian that is not positive definite, say) would.
/// </summary>
public interface IQuantizationFaultInjector
{
    void BeforeLinear(string model, int layer, string module, string recipeYaml);
}
