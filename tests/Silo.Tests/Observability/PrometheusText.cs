using System.Globalization;

namespace OrleansQuant.Silo.Tests.Observability;

/// <summary>Prometheus' text format read back: each sample line as its metric name, its labels and its value.</summary>
public sealed class PrometheusText(IReadOnlyList<PrometheusText.Sample> samples)
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public IReadOnlyList<Sample> Samples { get; } = samples;

    public static PrometheusText Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            int brace = line.IndexOf('{'), space = line.LastIndexOf(' ');
            string head = line[..space];
            var labels = new Dictionary<string, string>();
            if (brace >= 0)
            {
                foreach (var pair in head[(brace + 1)..head.LastIndexOf('}')].Split("\","))
                {
                    int equals = pair.IndexOf('=');
                    labels[pair[..equals]] = pair[(equals + 1)..].Trim('"');
                }
            }

            // A timestamp may follow the value; the value is the first number after the name and labels.
            string rest = brace >= 0 ? line[(line.LastIndexOf('}') + 1)..].Trim() : line[(line.IndexOf(' ') + 1)..].Trim();
            samples.Add(new Sample(brace >= 0 ? line[..brace] : line[..line.IndexOf(' ')], labels,
                double.Parse(rest.Split(' ')[0], CultureInfo.InvariantCulture)));
        }

        return new PrometheusText(samples);
    }

    /// <summary>The samples of <paramref name="name"/> whose labels include every one of <paramref name="labels"/>.</summary>
    public IEnumerable<Sample> Find(string name, params (string Key, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    /// <summary>The one sample of <paramref name="name"/> with these labels; fails naming what the text held instead.</summary>
    public double Single(string name, params (string Key, string Value)[] labels)
    {
        var found = Find(name, labels).ToArray();
        Assert.True(found.Length == 1, $"expected one sample of {name} with {string.Join(",", labels)}; found {found.Length} of "
            + string.Join(", ", Samples.Select(s => s.Name).Distinct().Where(n => n.StartsWith("orleansquant", StringComparison.Ordinal))));
        return found[0].Value;
    }
}
