using System.Text.Json;
using Microsoft.AspNetCore.Http;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// POST /v1/chat/completions: the conversation rendered with the model's chat template (the grain's own prompt path),
/// streamed as chat.completion.chunk deltas (the first carries the assistant's role) or answered whole.
/// </summary>
internal sealed class ChatCompletionsEndpoint(ServedModels models, HttpApiOptions options)
{
    private static readonly string[] s_roles = ["system", "user", "assistant"];

    public async Task Handle(HttpContext context)
    {
        var request = await HttpBodies.Read<ChatCompletionRequest>(context, options.MaxBodyBytes);
        if (request.Logprobs == true)
        {
            throw OpenAiException.BadRequest("logprobs", "logprobs is not supported yet; expected logprobs false or absent");
        }

        if (request.MaxCompletionTokens is < 1)
        {
            throw OpenAiException.BadRequest("max_completion_tokens", $"max_completion_tokens is {request.MaxCompletionTokens}; expected at least 1");
        }

        var stops = request.Check();
        var turns = Turns(request.Messages, "messages");
        var model = await models.Resolve(request.Model);
        int[] prompt = await model.Grain.Tokenize(null, turns, addSpecialTokens: true);

        // vLLM's default: whatever room the context leaves.
        int maxTokens = request.MaxCompletionTokens ?? request.MaxTokens ?? Math.Max(1, model.Info.ModelMaxLength - prompt.Length);
        model.CheckPrompt(prompt, maxTokens, "messages");
        int n = request.Choices;
        var runs = Enumerable.Range(0, n).Select(sample => request.ToGenerate(prompt, maxTokens, sample)).ToArray();

        var header = CompletionHeader.New("chatcmpl", model.Name);
        var cancellation = context.RequestAborted;
        if (request.Stream == true)
        {
            var events = new ServerSentEvents(context.Response);
            CompletionEnvelope<ChatChunkChoice> Chunk(int index, ChatDelta delta, string? finish) => header.Envelope(CompletionHeader.ChatCompletionChunk, [new ChatChunkChoice(index, delta, finish)]);
            var streamed = await Task.WhenAll(runs.Select(async (generate, index) =>
            {
                await events.Write(Chunk(index, new ChatDelta("assistant", ""), null), cancellation);
                var outcome = await GenerationRun.Run(model.Grain, generate, stops, text => events.Write(Chunk(index, new ChatDelta(null, text), null), cancellation), cancellation);
                await events.Write(Chunk(index, new ChatDelta(null, null), outcome.FinishReason), cancellation);
                return outcome;
            }));
            if (request.StreamOptions?.IncludeUsage == true)
            {
                await events.Write(header.Envelope<ChatChunkChoice>(CompletionHeader.ChatCompletionChunk, [], Usage.Of(streamed, n)), cancellation);
            }

            await events.Done(cancellation);
            return;
        }

        var outcomes = await Task.WhenAll(runs.Select(generate => GenerationRun.Run(model.Grain, generate, stops, null, cancellation)));
        await HttpBodies.Write(context.Response, header.Envelope(CompletionHeader.ChatCompletion,
            outcomes.Select((o, index) => new ChatChoice(index, new ChatDelta("assistant", o.Text), o.FinishReason)).ToArray(), Usage.Of(outcomes, n)));
    }

    /// <summary>The messages as the grain takes them; <paramref name="field"/> names the request's list in errors.</summary>
    public static ChatTurn[] Turns(List<ChatMessageDto>? messages, string field)
    {
        if (messages is not { Count: > 0 })
        {
            throw OpenAiException.BadRequest(field, $"{field} is missing or empty; expected a list of {{\"role\", \"content\"}} messages");
        }

        return messages.Select((m, i) =>
        {
            if (m is null || !s_roles.Contains(m.Role, StringComparer.Ordinal))
            {
                throw OpenAiException.BadRequest($"{field}[{i}].role", $"{field}[{i}].role is '{m?.Role}'; expected one of {string.Join(", ", s_roles)}");
            }

            return new ChatTurn(m.Role!, Content(m.Content, $"{field}[{i}].content"));
        }).ToArray();
    }

    private static string Content(JsonElement? content, string field) => content switch
    {
        null or { ValueKind: JsonValueKind.Null } => "",
        { ValueKind: JsonValueKind.String } text => text.GetString()!,
        { ValueKind: JsonValueKind.Array } parts when parts.EnumerateArray().All(IsTextPart) =>
            string.Concat(parts.EnumerateArray().Select(p => p.GetProperty("text").GetString())),
        _ => throw OpenAiException.BadRequest(field, $"{field} is not text; expected a string or a list of {{\"type\": \"text\", \"text\": ...}} parts"),
    };

    private static bool IsTextPart(JsonElement part) =>
        part.ValueKind == JsonValueKind.Object
        && part.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "text"
        && part.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String;
}
