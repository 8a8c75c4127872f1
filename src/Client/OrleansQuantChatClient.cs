using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;
using OrleansQuant.Contracts;

namespace OrleansQuant.Client;

/// <summary>
/// A model served by the cluster as a <see cref="IChatClient"/> (Microsoft.Extensions.AI), so .NET services written
/// against that abstraction use it unchanged. The conversation is rendered with the model's chat template.
/// </summary>
public sealed class OrleansQuantChatClient(OrleansQuantClient client, string model) : IChatClient
{
    private readonly ChatClientMetadata _metadata = new("orleansquant", defaultModelId: model);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            text.Append(update.Text);
            finish = update.FinishReason ?? finish;
        }

        return new ChatResponse(new ChatMessage(ChatRole.Assistant, text.ToString())) { FinishReason = finish, ModelId = model };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = new GenerateRequest(
            MaxTokens: options?.MaxOutputTokens ?? 256,
            Temperature: options?.Temperature ?? 0f,
            TopK: options?.TopK ?? 0,
            TopP: options?.TopP ?? 1f,
            Seed: options?.Seed is long seed ? (int)seed : null,
            Messages: messages.Select(m => new ChatTurn(m.Role.Value, m.Text)).ToArray());
        await foreach (var token in client.GenerateAsync(options?.ModelId ?? model, request).WithCancellation(cancellationToken))
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, token.Text)
            {
                ModelId = model,
                FinishReason = token.FinishReason switch
                {
                    "stop" => ChatFinishReason.Stop,
                    "length" => ChatFinishReason.Length,
                    _ => null,
                },
            };
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
    }
}
