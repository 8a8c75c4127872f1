using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using OrleansQuant.Contracts;

namespace OrleansQuant.Client;

/// <summary>
/// A model served by the cluster as a <see cref="IChatClient"/> (Microsoft.Extensions.AI), so .NET services written
/// against that abstraction use it unchanged. The conversation is rendered with the model's chat template.
/// <see cref="ChatOptions"/>: MaxOutputTokens (256 by default), Temperature (0, greedy, by default), TopK, TopP, Seed,
/// ModelId (another model of the cluster) and StopSequences — the engine has none, so they are applied here, as the
/// text streams: the answer is cut before the first one, the generation ends on the cluster and the finish reason is
/// <see cref="ChatFinishReason.Stop"/>. The last update carries the usage (prompt and generated tokens).
/// </summary>
public sealed class OrleansQuantChatClient(OrleansQuantClient client, string model) : IChatClient
{
    private const int DefaultMaxOutputTokens = 256;

    private readonly ChatClientMetadata _metadata = new("orleansquant", defaultModelId: model);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string modelId = options?.ModelId ?? model;
        var turns = messages.Select(m => new ChatTurn(m.Role.Value, m.Text)).ToArray();

        // Tokenized first, so the usage can count the prompt; the ids are what a generation of the turns would run.
        int[] prompt = await client.TokenizeAsync(modelId, null, turns, cancellation: cancellationToken);
        var request = new GenerateRequest(
            PromptIds: prompt,
            MaxTokens: options?.MaxOutputTokens ?? DefaultMaxOutputTokens,
            Temperature: options?.Temperature ?? 0f,
            TopK: options?.TopK ?? 0,
            TopP: options?.TopP ?? 1f,
            Seed: Seed(options?.Seed));

        string responseId = Guid.NewGuid().ToString("N");
        var answer = new GeneratedText(options?.StopSequences?.ToArray() ?? []);
        ChatResponseUpdate Update(string text) => new(ChatRole.Assistant, text) { ModelId = modelId, ResponseId = responseId, MessageId = responseId };

        // Leaving this loop (a stop sequence, or the caller's cancellation) disposes the grain's stream, which ends the generation.
        await foreach (var piece in answer.Pieces(client.GenerateAsync(modelId, request, cancellationToken)))
        {
            yield return Update(piece);
        }

        var last = Update(answer.Rest);
        last.FinishReason = answer.FinishReason switch
        {
            null => null,
            "stop" => ChatFinishReason.Stop,
            _ => ChatFinishReason.Length,
        };
        last.Contents.Add(new UsageContent(new UsageDetails { InputTokenCount = prompt.Length, OutputTokenCount = answer.Tokens, TotalTokenCount = prompt.Length + answer.Tokens }));
        yield return last;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType == typeof(OrleansQuantClient) ? client
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }

    private static int? Seed(long? seed) => seed switch
    {
        null => null,
        >= int.MinValue and <= int.MaxValue => (int)seed,
        _ => throw new ArgumentOutOfRangeException(nameof(ChatOptions.Seed), seed, "ChatOptions.Seed must fit in 32 bits, the engine's seed"),
    };
}
