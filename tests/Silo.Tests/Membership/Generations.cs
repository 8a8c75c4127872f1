using System.Diagnostics;
using OrleansQuant.Client;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Tests.Membership;

/// <summary>
/// Several generations at once through the SDK, each its own stream, watched as they go: how many tokens each has
/// streamed (<see cref="Counts"/>) and when each arrived, on <see cref="Clock"/>.
/// </summary>
internal sealed class Generations(OrleansQuantClient sdk, string model, IReadOnlyList<GenerateRequest> requests)
{
    /// <summary>Greedy generations of <paramref name="prompts"/>, <paramref name="maxTokens"/> each.</summary>
    public Generations(OrleansQuantClient sdk, string model, IReadOnlyList<int[]> prompts, int maxTokens)
        : this(sdk, model, prompts.Select(p => new GenerateRequest(PromptIds: p, MaxTokens: maxTokens)).ToArray())
    {
    }

    private readonly List<TimeSpan>[] _arrivals = requests.Select(_ => new List<TimeSpan>()).ToArray();
    private readonly int[] _counts = new int[requests.Count];

    public Stopwatch Clock { get; } = new();

    public IReadOnlyList<int> Counts => Enumerable.Range(0, _counts.Length).Select(i => Volatile.Read(ref _counts[i])).ToArray();

    /// <summary>Every request's ids, in order; each token's index is checked to follow the one before.</summary>
    public Task<List<int>[]> Run()
    {
        Clock.Start();
        return Task.WhenAll(requests.Select((request, i) => Task.Run(async () =>
        {
            var ids = new List<int>();
            await foreach (var token in sdk.GenerateAsync(model, request))
            {
                if (token.Index != ids.Count)
                {
                    throw new InvalidOperationException($"generation {i}: token {ids.Count} came with index {token.Index}");
                }

                ids.Add(token.TokenId);
                lock (_arrivals[i])
                {
                    _arrivals[i].Add(Clock.Elapsed);
                }

                Interlocked.Increment(ref _counts[i]);
            }

            return ids;
        })));
    }

    /// <summary>The longest any stream that was not finished at <paramref name="from"/> waited for a token from then on.</summary>
    public TimeSpan LongestGapAfter(TimeSpan from)
    {
        var longest = TimeSpan.Zero;
        foreach (var arrivals in _arrivals)
        {
            lock (arrivals)
            {
                var previous = from;
                foreach (var at in arrivals.Where(a => a > from))
                {
                    longest = at - previous > longest ? at - previous : longest;
                    previous = at;
                }
            }
        }

        return longest;
    }
}
