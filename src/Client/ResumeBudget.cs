using System.Diagnostics;

namespace OrleansQuant.Client;

/// <summary>
/// How many more times one interrupted stream may be resumed, and when: at most <see cref="GenerationResumeOptions.MaxResumes"/>
/// times, within <see cref="GenerationResumeOptions.Window"/> of its first interruption, waiting
/// <see cref="GenerationResumeOptions.FirstDelay"/> doubling up to <see cref="GenerationResumeOptions.MaxDelay"/> before each.
/// </summary>
internal sealed class ResumeBudget(GenerationResumeOptions options)
{
    private Stopwatch? _sinceFirst;

    /// <summary>Resumes taken so far.</summary>
    public int Resumes { get; private set; }

    public int MaxResumes => options.MaxResumes;

    /// <summary>Time since the first interruption (zero before it).</summary>
    public TimeSpan SinceFirst => _sinceFirst?.Elapsed ?? TimeSpan.Zero;

    /// <summary>Takes one resume: null when allowed (then wait <see cref="Delay"/>), else why not.</summary>
    public string? Take()
    {
        _sinceFirst ??= Stopwatch.StartNew();
        string? why = Resumes >= options.MaxResumes
            ? $"the {options.MaxResumes} resumes allowed are used up"
            : _sinceFirst.Elapsed >= options.Window
                ? $"{_sinceFirst.Elapsed.TotalSeconds:0.#} s since the first interruption, past the {options.Window.TotalSeconds:0.#} s allowed"
                : null;
        if (why is null)
        {
            Resumes++;
        }

        return why;
    }

    /// <summary>The wait before the resume just taken.</summary>
    public TimeSpan Delay => TimeSpan.FromMilliseconds(Math.Min(options.FirstDelay.TotalMilliseconds * Math.Pow(2, Resumes - 1), options.MaxDelay.TotalMilliseconds));
}
