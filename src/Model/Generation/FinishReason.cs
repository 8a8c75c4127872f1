namespace OrleansQuant.Model.Generation;

/// <summary>Why a sequence stopped, with OpenAI's names.</summary>
public enum FinishReason
{
    /// <summary>A stop token (EOS) was generated.</summary>
    Stop,

    /// <summary>The token budget ran out.</summary>
    Length,
}
