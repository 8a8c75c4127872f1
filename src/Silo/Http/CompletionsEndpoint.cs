using Microsoft.AspNetCore.Http;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// POST /v1/completions: one choice per prompt (a batch runs its generations at once, continuously batched by the
/// model grain), streamed as text_completion chunks or answered whole.
/// </summary>
internal sealed class CompletionsEndpoint(ServedModels models, HttpApiOptions options)
{
    /// <summary>OpenAI's default for the legacy completions endpoint.</summary>
    public const int DefaultMaxTokens = 16;

    public async Task Handle(HttpContext context)
    {
        var request = await HttpBodies.Read<CompletionRequest>(context, options.MaxBodyBytes);
        if (request.Echo == true)
        {
            throw OpenAiException.BadRequest("echo", "echo is not supported yet (it comes with logprobs, for loglikelihood tasks); expected echo false or absent");
        }

        if (request.Logprobs is not null)
        {
            throw OpenAiException.BadRequest("logprobs", "logprobs is not supported yet; expected logprobs null or absent");
        }

        var stops = request.Check();
        var prompts = PromptShapes.Read(request.Prompt);
        var model = await models.Resolve(request.Model);
        int maxTokens = request.MaxTokens ?? DefaultMaxTokens;
        var ids = await Task.WhenAll(prompts.Select(p => p.Ids is { } given ? Task.FromResult(given) : model.Grain.Tokenize(p.Text, null, addSpecialTokens: true)));
        for (int i = 0; i < ids.Length; i++)
        {
            model.CheckPrompt(ids[i], maxTokens, prompts.Count > 1 ? $"prompt[{i}]" : "prompt");
        }

        string id = $"cmpl-{Guid.NewGuid():N}";
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var cancellation = context.RequestAborted;
        if (request.Stream == true)
        {
            var events = new ServerSentEvents(context.Response);
            CompletionResponse Chunk(int index, string text, string? finish) => new(id, created, model.Name, [new CompletionChoice(text, index, finish)], null);
            var streamed = await Task.WhenAll(ids.Select(async (prompt, index) =>
            {
                var outcome = await GenerationRun.Run(model.Grain, request.ToGenerate(prompt, maxTokens), stops, text => events.Write(Chunk(index, text, null), cancellation), cancellation);
                await events.Write(Chunk(index, "", outcome.FinishReason), cancellation);
                return outcome;
            }));
            if (request.StreamOptions?.IncludeUsage == true)
            {
                await events.Write(new CompletionResponse(id, created, model.Name, [], UsageOf(streamed)), cancellation);
            }

            await events.Done(cancellation);
            return;
        }

        var outcomes = await Task.WhenAll(ids.Select(prompt => GenerationRun.Run(model.Grain, request.ToGenerate(prompt, maxTokens), stops, null, cancellation)));
        var choices = outcomes.Select((o, index) => new CompletionChoice(o.Text, index, o.FinishReason)).ToArray();
        await HttpBodies.Write(context.Response, new CompletionResponse(id, created, model.Name, choices, UsageOf(outcomes)));
    }

    public static Usage UsageOf(IEnumerable<GenerationOutcome> outcomes) =>
        outcomes.Aggregate(new Usage(0, 0), (sum, o) => new Usage(sum.PromptTokens + o.PromptTokens, sum.CompletionTokens + o.CompletionTokens));
}
