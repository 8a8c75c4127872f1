using System.Numerics.Tensors;

namespace OrleansQuant.Model.Generation;

/// <summary>
/// Picks a token from one row of logits: argmax when greedy (lowest id on ties, as torch.argmax), otherwise
/// temperature → top-k → top-p (Holtzman et al. 2020, nucleus sampling) → a draw from this sampler's own seeded stream.
/// </summary>
public sealed class TokenSampler
{
    private readonly SamplingOptions _options;
    private readonly Random _random;
    private int[] _order = [];
    private float[] _probabilities = [];

    public TokenSampler(SamplingOptions options)
    {
        options.Validate();
        _options = options;
        _random = options.Seed is int seed ? new Random(seed) : new Random();
    }

    public int Next(ReadOnlySpan<float> logits)
    {
        if (_options.IsGreedy)
        {
            return TensorPrimitives.IndexOfMax(logits);
        }

        if (_order.Length != logits.Length)
        {
            _order = new int[logits.Length];
            _probabilities = new float[logits.Length];
        }

        TensorPrimitives.Divide(logits, _options.Temperature, _probabilities);
        for (int i = 0; i < _order.Length; i++)
        {
            _order[i] = i;
        }

        // Most likely first; the stable tie-break by id keeps a seeded run reproducible.
        var scores = _probabilities;
        Array.Sort(_order, (a, b) => scores[b] != scores[a] ? scores[b].CompareTo(scores[a]) : a.CompareTo(b));

        int kept = _options.TopK > 0 ? Math.Min(_options.TopK, _order.Length) : _order.Length;
        Span<float> sorted = new float[kept];
        for (int i = 0; i < kept; i++)
        {
            sorted[i] = scores[_order[i]];
        }

        TensorPrimitives.SoftMax(sorted, sorted);
        if (_options.TopP < 1f)
        {
            float cumulative = 0f;
            int nucleus = 0;
            while (nucleus < kept && cumulative < _options.TopP)
            {
                cumulative += sorted[nucleus++];
            }

            kept = nucleus;
            sorted = sorted[..kept];
            TensorPrimitives.Divide(sorted, cumulative, sorted);
        }

        float draw = (float)_random.NextDouble();
        for (int i = 0; i < kept; i++)
        {
            draw -= sorted[i];
            if (draw <= 0f)
            {
                return _order[i];
            }
        }

        return _order[kept - 1];
    }
}
