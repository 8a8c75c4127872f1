using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using OrleansQuant.Contracts;

namespace OrleansQuant.Client;

/// <summary>
/// Makes one generation's stream outlive the loss of the silo it came through. When the stream breaks the way a silo
/// going away breaks it (<see cref="IsInterruption"/>), the request is issued again with the prompt followed by the
/// tokens already delivered and <see cref="GenerateRequest.MaxTokens"/> reduced by their count, and the new stream's
/// tokens are passed on with their indices continued: the caller sees one stream. The coordinator, reactivated on a
/// survivor, restores its model from the store on that call.
/// <para>
/// What this promises: a greedy request (temperature 0) yields exactly the ids a run without the fault yields, since
/// its continuation depends on its ids alone. A seeded sampled request yields exactly the ids of a run without the
/// fault too: it is re-issued with <see cref="GenerateRequest.SeedOffset"/> advanced by the tokens delivered, so the
/// seed's draws go on where they stopped instead of starting again on a longer prompt. An unseeded sampled request goes
/// on as a draw from the same distribution. Re-issues are bounded in number and in time
/// (<see cref="GenerationResumeOptions"/>); each is logged, and past the bounds the stream fails with
/// <see cref="GenerationInterruptedException"/>.
/// </para>
/// </summary>
/// <param name="gatewayLoss">when given, a generation waiting on a gateway that closed is re-issued at once rather than after its response timeout.</param>
public sealed class GenerationResume(GenerationResumeOptions options, ILogger logger, GatewayLoss? gatewayLoss = null)
{
    /// <summary>Opens a generation's stream (the model grain's <c>Generate</c>).</summary>
    public delegate IAsyncEnumerable<GeneratedToken> Open(GenerateRequest request, CancellationToken cancellation);

    /// <summary>The prompt ids the cluster runs for a text or conversation request (the model grain's <c>Tokenize</c>).</summary>
    public delegate Task<int[]> Tokenize(GenerateRequest request, CancellationToken cancellation);

    /// <summary>Errors of a call whose silo, or whose gateway, went away, or that got no answer in time.</summary>
    public static bool IsInterruption(Exception error) => error switch
    {
        SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException or EnumerationAbortedException or TimeoutException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsInterruption),
        _ => error.InnerException is { } inner && IsInterruption(inner),
    };

    /// <summary><paramref name="request"/>'s tokens on model <paramref name="model"/>, resumed across interruptions.</summary>
    public async IAsyncEnumerable<GeneratedToken> Run(string model, GenerateRequest request, Open open, Tokenize tokenize,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        var delivered = new List<int>();
        var next = request;
        var budget = new ResumeBudget(options);
        int[]? prompt = request.PromptIds;
        while (true)
        {
            // Tokens of this attempt are numbered after those delivered before it.
            int offset = delivered.Count;
            Exception? broken = null;
            var attempt = next;
            await foreach (var step in InterruptibleStream.Attempt(c => open(attempt, c), gatewayLoss, "this generation waited for its next token", cancellation))
            {
                if (step.Broken is not null)
                {
                    broken = step.Broken;
                    break;
                }

                var token = step.Item;
                delivered.Add(token.TokenId);
                yield return offset == 0 ? token : token with { Index = token.Index + offset };
                if (token.FinishReason is not null)
                {
                    yield break;
                }
            }

            if (broken is null)
            {
                yield break;
            }

            while (true)
            {
                Refuse(model, delivered, budget, broken);
                logger.LogWarning("Generation on model {Model} interrupted after {Delivered} tokens ({Error}); resuming, attempt {Attempt} of {MaxResumes}, {Seconds:F1} s after the first interruption",
                    model, delivered.Count, broken.Message, budget.Resumes, budget.MaxResumes, budget.SinceFirst.TotalSeconds);
                await Task.Delay(budget.Delay, cancellation);
                if (delivered.Count == 0)
                {
                    next = request;
                    break;
                }

                try
                {
                    // The ids the cluster ran for a text or a conversation: asked once, of the coordinator that is back.
                    prompt ??= await tokenize(request, cancellation);
                }
                catch (Exception error) when (IsInterruption(error) && !cancellation.IsCancellationRequested)
                {
                    broken = error;
                    continue;
                }

                next = request with
                {
                    Prompt = null, Messages = null, PromptIds = [.. prompt, .. delivered], MaxTokens = request.MaxTokens - delivered.Count,
                    PromptLogprobs = false, SeedOffset = request.Seed is null ? 0 : request.SeedOffset + delivered.Count,
                };
                break;
            }
        }
    }

    /// <summary>Throws when this interruption is not to be resumed: the bounds are reached.</summary>
    private void Refuse(string model, List<int> delivered, ResumeBudget budget, Exception broken)
    {
        if (budget.Take() is { } why)
        {
            logger.LogWarning("Generation on model {Model} interrupted after {Delivered} tokens and not resumed: {Reason}", model, delivered.Count, why);
            throw new GenerationInterruptedException(model, delivered.ToArray(), budget.Resumes, why, broken);
        }
    }
}
