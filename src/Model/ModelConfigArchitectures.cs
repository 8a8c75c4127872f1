namespace OrleansQuant.Model;

/// <summary>The decoder architectures this runtime implements and the model_type transformers pairs with each.</summary>
public static class ModelConfigArchitectures
{
    public const string Llama = "LlamaForCausalLM";
    public const string Mistral = "MistralForCausalLM";
    public const string Qwen2 = "Qwen2ForCausalLM";

    public static IReadOnlyList<string> Supported { get; } = [Llama, Mistral, Qwen2];

    /// <summary>model_type for a supported architecture, or null when the architecture is not supported.</summary>
    public static string? ModelTypeOf(string architecture) => architecture switch
    {
        Llama => "llama",
        Mistral => "mistral",
        Qwen2 => "qwen2",
        _ => null,
    };

    public static string UnknownArchitectureMessage(string architecture) =>
        $"unknown architecture '{architecture}'; expected one of {string.Join(", ", Supported)}";
}
