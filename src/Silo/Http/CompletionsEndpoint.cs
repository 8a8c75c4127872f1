using Microsoft.AspNetCore.Http;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// POST /v1/completions: n choices per prompt (a batch runs all its generations at once, continuously batched by the
/// model grain), streamed as text_completion chunks or answered whole; answered whole, a choice can echo its prompt and
/// carry log-probabilities (<see cref="CompletionLogprobs"/>), prompt tokens' included with echo, for log-likelihoods.
/// </summary>
internal sealed class CompletionsEndpoint(ServedModels models, HttpApiOptions options)
{
    /// <summary>OpenAI's default for the legacy completions endpoint.</summary>
    public const int DefaultMaxTokens = 16;

    public async Task Handle(HttpContext context)
    {
        var request = await HttpBodies.Read<CompletionRequest>(context, options.MaxBodyBytes);
        var stops = request.CheckCompletion();
        bool echo = request.Echo == true;
        var prompts = PromptShapes.Read(request.Prompt);
        var model = await models.Resolve(request.Model);
        int maxTokens = request.MaxTokens ?? DefaultMaxTokens;
        var ids = await Task.WhenAll(prompts.Select(p => p.Ids is { } given ? Task.FromResult(given) : model.Grain.Tokenize(p.Text, null, addSpecialTokens: true)));
        for (int i = 0; i < ids.Length; i++)
        {
            model.CheckPrompt(ids[i], maxTokens, prompts.Count > 1 ? $"prompt[{i}]" : "prompt");
        }

        var header = CompletionHeader.New("cmpl", model.Name);
        var cancellation = context.RequestAborted;
        // Choice index = prompt index × n + sample, OpenAI's order for a batch with n > 1.
        int n = request.Choices;
        // Echo needs the prompt's tokens back, scored; scoring a prompt alone (max_tokens 0) still runs the one step
        // that scores it, whose token is then left out of the answer.
        var runs = ids.SelectMany(prompt => Enumerable.Range(0, n).Select(sample => request.ToGenerate(prompt, Math.Max(1, maxTokens), sample) with
        {
            Logprobs = request.Logprobs ?? 0,
            PromptLogprobs = echo,
        })).ToArray();
        if (request.Stream == true)
        {
            var events = new ServerSentEvents(context.Response);
            CompletionEnvelope<CompletionChoice> Chunk(int index, string text, string? finish) => header.Envelope(CompletionHeader.TextCompletion, [new CompletionChoice(text, index, finish)]);
            var streamed = await Task.WhenAll(runs.Select(async (generate, index) =>
            {
                var outcome = await GenerationRun.Run(model.Grain, generate, stops, text => events.Write(Chunk(index, text, null), cancellation), cancellation);
                await events.Write(Chunk(index, "", outcome.FinishReason), cancellation);
                return outcome;
            }));
            if (request.StreamOptions?.IncludeUsage == true)
            {
                await events.Write(header.Envelope<CompletionChoice>(CompletionHeader.TextCompletion, [], Usage.Of(streamed, n)), cancellation);
            }

            await events.Done(cancellation);
            return;
        }

        var outcomes = await Task.WhenAll(runs.Select(generate => GenerationRun.Run(model.Grain, generate, stops, null, cancellation)));
        if (request.PromptOnly)
        {
            outcomes = outcomes.Select(o => o with { Text = "", FinishReason = "length", CompletionTokens = 0 }).ToArray();
        }

        var choices = outcomes.Select((o, index) =>
        {
            var (text, logprobs) = CompletionLogprobs.Answer(o, echo, request.PromptOnly, request.Logprobs);
            return new CompletionChoice(text, index, o.FinishReason, logprobs);
        }).ToArray();
        await HttpBodies.Write(context.Response, header.Envelope(CompletionHeader.TextCompletion, choices, Usage.Of(outcomes, n)));
    }
}
