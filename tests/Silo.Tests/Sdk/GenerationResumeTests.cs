using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Orleans.Runtime;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Silo.Tests.Membership;

namespace OrleansQuant.Silo.Tests.Sdk;

/// <summary>
/// The SDK's resume of a generation whose stream broke with a silo (<see cref="GenerationResume"/>), against scripted
/// streams: what the caller sees, what is re-issued, and when it refuses. No cluster needed.
/// </summary>
public sealed class GenerationResumeTests
{
    private static readonly GenerationResumeOptions s_fast = new() { FirstDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero };

    [Fact]
    public async Task A_greedy_stream_broken_by_a_dead_silo_is_reissued_with_the_delivered_tokens_and_reads_as_one_stream()
    {
        // The model would generate 10, 11, ..., 17 after the prompt; the first stream dies after three tokens.
        var cluster = new ScriptedCluster(breakAfter: [3]);
        var log = new ConcurrentQueue<string>();
        var resume = new GenerationResume(s_fast, Logger(log));

        var tokens = await Collect(resume.Run("m", new GenerateRequest(PromptIds: [0, 5], MaxTokens: 8, Logprobs: 2, PromptLogprobs: true), cluster.Open, cluster.Tokenize));

        Assert.Equal([10, 11, 12, 13, 14, 15, 16, 17], tokens.Select(t => t.TokenId));
        Assert.Equal(Enumerable.Range(0, 8), tokens.Select(t => t.Index));
        Assert.Equal("length", tokens[^1].FinishReason);
        var (first, second) = (cluster.Requests[0], cluster.Requests[1]);
        Assert.Equal([0, 5], first.PromptIds!);
        Assert.Equal([0, 5, 10, 11, 12], second.PromptIds!);
        Assert.Equal(5, second.MaxTokens);
        Assert.False(second.PromptLogprobs);
        Assert.Equal(2, second.Logprobs);
        Assert.Empty(cluster.Tokenized);
        var line = Assert.Single(log, l => l.Contains("resuming", StringComparison.Ordinal));
        Assert.Contains("interrupted after 3 tokens", line);
    }

    [Fact]
    public async Task A_text_prompt_is_tokenized_by_the_cluster_once_and_resumed_as_ids()
    {
        var cluster = new ScriptedCluster(breakAfter: [2, 1]);
        var resume = new GenerationResume(s_fast, Logger(new()));

        var tokens = await Collect(resume.Run("m", new GenerateRequest(Prompt: "hi", MaxTokens: 6), cluster.Open, cluster.Tokenize));

        Assert.Equal([10, 11, 12, 13, 14, 15], tokens.Select(t => t.TokenId));
        Assert.Equal(Enumerable.Range(0, 6), tokens.Select(t => t.Index));
        Assert.Equal("hi", Assert.Single(cluster.Tokenized).Prompt);
        Assert.Equal([0, 7, 7, 10, 11], cluster.Requests[1].PromptIds!);
        Assert.Null(cluster.Requests[1].Prompt);
        Assert.Equal([0, 7, 7, 10, 11, 12], cluster.Requests[2].PromptIds!);
        Assert.Equal(3, cluster.Requests[2].MaxTokens);
    }

    [Fact]
    public async Task A_stream_broken_before_its_first_token_is_reissued_unchanged_even_when_seeded_and_sampled()
    {
        var cluster = new ScriptedCluster(breakAfter: [0]);
        var resume = new GenerationResume(s_fast, Logger(new()));
        var request = new GenerateRequest(PromptIds: [0, 5], MaxTokens: 3, Temperature: 0.8f, Seed: 7);

        var tokens = await Collect(resume.Run("m", request, cluster.Open, cluster.Tokenize));

        Assert.Equal(3, tokens.Count);
        Assert.All(cluster.Requests, r => Assert.Same(request, r));
    }

    [Fact]
    public async Task A_seeded_sampled_stream_broken_after_tokens_is_reissued_with_its_seed_offset_advanced_by_them()
    {
        // Broken twice: after 2 tokens, then after 3 more. Each re-issue keeps the seed and starts its draws where the
        // delivered tokens left them (the engine's draw for token i depends on the seed and i alone).
        var cluster = new ScriptedCluster(breakAfter: [2, 3]);
        var resume = new GenerationResume(s_fast, Logger(new()));

        var tokens = await Collect(resume.Run("m", new GenerateRequest(PromptIds: [0, 5], MaxTokens: 8, Temperature: 0.8f, Seed: 7), cluster.Open, cluster.Tokenize));

        Assert.Equal([10, 11, 12, 13, 14, 15, 16, 17], tokens.Select(t => t.TokenId));
        Assert.Equal([0, 2, 5], cluster.Requests.Select(r => r.SeedOffset));
        Assert.All(cluster.Requests, r => Assert.Equal((7, 0.8f), (r.Seed!.Value, r.Temperature)));
        Assert.Equal([0, 5, 10, 11, 12, 13, 14], cluster.Requests[2].PromptIds!);
        Assert.Equal(3, cluster.Requests[2].MaxTokens);
    }

    [Fact]
    public async Task A_request_that_already_continues_a_seeded_one_adds_its_own_offset()
    {
        var cluster = new ScriptedCluster(breakAfter: [1]);
        var resume = new GenerationResume(s_fast, Logger(new()));

        await Collect(resume.Run("m", new GenerateRequest(PromptIds: [0, 5], MaxTokens: 4, Temperature: 1f, Seed: 3, SeedOffset: 10), cluster.Open, cluster.Tokenize));

        Assert.Equal([10, 11], cluster.Requests.Select(r => r.SeedOffset));
    }

    [Fact]
    public async Task An_unseeded_sampled_stream_is_resumed()
    {
        var cluster = new ScriptedCluster(breakAfter: [2]);
        var resume = new GenerationResume(s_fast, Logger(new()));

        var tokens = await Collect(resume.Run("m", new GenerateRequest(PromptIds: [0], MaxTokens: 4, Temperature: 0.8f), cluster.Open, cluster.Tokenize));

        Assert.Equal(4, tokens.Count);
        Assert.Equal(2, cluster.Requests.Count);
        Assert.Equal(0, cluster.Requests[1].SeedOffset);
    }

    [Fact]
    public async Task Resumes_are_bounded_in_number()
    {
        var cluster = new ScriptedCluster(breakAfter: [1, 0, 0, 0, 0]);
        var resume = new GenerationResume(new GenerationResumeOptions { MaxResumes = 3, FirstDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero }, Logger(new()));

        var error = await Assert.ThrowsAsync<GenerationInterruptedException>(() => Collect(resume.Run("m", new GenerateRequest(PromptIds: [0], MaxTokens: 4), cluster.Open, cluster.Tokenize)));

        Assert.Equal(3, error.Resumes);
        Assert.Equal([10], error.Delivered);
        Assert.Contains("3 resumes allowed are used up", error.Message);
        Assert.Equal(4, cluster.Requests.Count);
    }

    [Fact]
    public async Task Resumes_are_bounded_in_time_from_the_first_interruption()
    {
        var cluster = new ScriptedCluster(breakAfter: [1, 0, 0, 0, 0, 0, 0, 0]);
        var options = new GenerationResumeOptions { MaxResumes = 100, Window = TimeSpan.FromMilliseconds(300), FirstDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromMilliseconds(100) };
        var resume = new GenerationResume(options, Logger(new()));

        var error = await Assert.ThrowsAsync<GenerationInterruptedException>(() => Collect(resume.Run("m", new GenerateRequest(PromptIds: [0], MaxTokens: 4), cluster.Open, cluster.Tokenize)));

        Assert.Contains("past the 0.3 s allowed", error.Message);
        Assert.InRange(error.Resumes, 1, 8);
    }

    [Fact]
    public async Task An_error_that_is_not_a_silo_going_away_is_not_resumed()
    {
        var cluster = new ScriptedCluster(breakAfter: [2], error: () => new ArgumentException("prompt ids must lie in [0, 258)"));
        var resume = new GenerationResume(s_fast, Logger(new()));

        await Assert.ThrowsAsync<ArgumentException>(() => Collect(resume.Run("m", new GenerateRequest(PromptIds: [0], MaxTokens: 4), cluster.Open, cluster.Tokenize)));

        Assert.Single(cluster.Requests);
    }

    [Fact]
    public async Task A_cancelled_generation_is_not_resumed()
    {
        using var cancel = new CancellationTokenSource();
        var cluster = new ScriptedCluster(breakAfter: [], hangAfter: 1);
        var resume = new GenerationResume(s_fast, Logger(new()));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in resume.Run("m", new GenerateRequest(PromptIds: [0], MaxTokens: 4), cluster.Open, cluster.Tokenize, cancel.Token))
            {
                cancel.Cancel();
            }
        });

        Assert.Single(cluster.Requests);
    }

    [Fact]
    public async Task A_gateway_that_closes_reissues_a_generation_waiting_on_it_at_once()
    {
        // The first stream hangs after two tokens, as a call through a dead gateway does until its response timeout.
        var cluster = new ScriptedCluster(breakAfter: [], hangAfter: 2);
        var loss = new GatewayLoss();
        var resume = new GenerationResume(s_fast, Logger(new()), loss);
        var tokens = new List<GeneratedToken>();

        var run = Task.Run(async () =>
        {
            await foreach (var token in resume.Run("m", new GenerateRequest(PromptIds: [0], MaxTokens: 5), cluster.Open, cluster.Tokenize))
            {
                tokens.Add(token);
            }
        });
        await ProcessCluster.Until(() => Task.FromResult(cluster.Requests.Count == 1 && cluster.Waiting), TimeSpan.FromSeconds(10), "the first stream waiting");
        loss.NotifyGatewayCountChanged(currentNumberOfGateways: 2, previousNumberOfGateways: 3, connectionRecovered: false);
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([10, 11, 12, 13, 14], tokens.Select(t => t.TokenId));
        Assert.Equal([0, 10, 11], cluster.Requests[1].PromptIds!);
    }

    [Theory]
    [InlineData(typeof(SiloUnavailableException), true)]
    [InlineData(typeof(Orleans.Runtime.Messaging.ConnectionFailedException), true)]
    [InlineData(typeof(TimeoutException), true)]
    [InlineData(typeof(InvalidOperationException), false)]
    [InlineData(typeof(ArgumentException), false)]
    public void Interruptions_are_the_errors_of_a_silo_or_gateway_going_away_or_a_timeout(Type type, bool interruption)
    {
        var error = (Exception)Activator.CreateInstance(type, "x")!;
        Assert.Equal(interruption, GenerationResume.IsInterruption(error));
        Assert.Equal(interruption, GenerationResume.IsInterruption(new AggregateException(error)));
    }

    private static async Task<List<GeneratedToken>> Collect(IAsyncEnumerable<GeneratedToken> tokens)
    {
        var list = new List<GeneratedToken>();
        await foreach (var token in tokens)
        {
            list.Add(token);
        }

        return list;
    }

    private static Microsoft.Extensions.Logging.ILogger Logger(ConcurrentQueue<string> lines) => new QueueLoggerProvider(lines).CreateLogger("test");

    /// <summary>
    /// A deterministic "model": after any prompt, generation step k yields id 10 + (prompt tokens beyond the first
    /// prompt's) + k, so a resumed request continues where the first left off. Text prompts tokenize to [0, 7, 7].
    /// Attempt n breaks (SiloUnavailableException) after <c>breakAfter[n]</c> tokens, or hangs after <c>hangAfter</c>.
    /// </summary>
    private sealed class ScriptedCluster(int[] breakAfter, int? hangAfter = null, Func<Exception>? error = null)
    {
        private int[]? _firstPrompt;

        public List<GenerateRequest> Requests { get; } = new();

        public List<GenerateRequest> Tokenized { get; } = new();

        public bool Waiting { get; private set; }

        public Task<int[]> Tokenize(GenerateRequest request, CancellationToken cancellation)
        {
            Tokenized.Add(request);
            return Task.FromResult<int[]>([0, 7, 7]);
        }

        public async IAsyncEnumerable<GeneratedToken> Open(GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellation)
        {
            int attempt = Requests.Count;
            Requests.Add(request);
            int[] prompt = request.PromptIds ?? [0, 7, 7];
            _firstPrompt ??= prompt;
            int start = prompt.Length - _firstPrompt.Length;
            for (int k = 0; k < request.MaxTokens; k++)
            {
                await Task.Yield();
                if (attempt < breakAfter.Length && k == breakAfter[attempt])
                {
                    throw error?.Invoke() ?? new SiloUnavailableException("the silo went away");
                }

                if (attempt == 0 && k == hangAfter)
                {
                    Waiting = true;
                    await Task.Delay(Timeout.Infinite, cancellation);
                }

                yield return new GeneratedToken(k, 10 + start + k, "t", k == request.MaxTokens - 1 ? "length" : null);
            }
        }
    }
}
