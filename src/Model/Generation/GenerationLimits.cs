namespace OrleansQuant.Model.Generation;

/// <summary>
/// What one generation may ask for: its prompt and new tokens together within the model's context
/// (config.json max_position_embeddings). Past it RoPE positions are ones the model never saw, and without the check
/// <c>max_tokens 2147483647</c> would grow a sequence's KV cache until the device runs out.
/// </summary>
public static class GenerationLimits
{
    /// <summary>Returns <paramref name="request"/> when it fits <paramref name="config"/>'s context.</summary>
    /// <exception cref="ArgumentException">naming the prompt length, max_tokens and the context.</exception>
    public static GenerationRequest Checked(GenerationRequest request, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(config);
        Check(request.PromptIds.Count, request.MaxNewTokens, config.MaxPositionEmbeddings);
        return request;
    }

    public static void Check(int promptTokens, int maxNewTokens, int context)
    {
        long total = (long)promptTokens + maxNewTokens;
        if (total > context)
        {
            throw new ArgumentException(
                $"the prompt's {promptTokens} tokens plus max_tokens {maxNewTokens} make {total}, over the model's context of {context} tokens (config.json max_position_embeddings); expected prompt + max_tokens <= {context}");
        }
    }
}
