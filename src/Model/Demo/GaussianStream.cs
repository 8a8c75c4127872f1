namespace OrleansQuant.Model.Demo;

/// <summary>
/// Seeded normal and uniform draws (Box–Muller over <see cref="Random"/>, whose seeded sequence .NET keeps stable
/// across versions), so a demo checkpoint is the same on every machine.
/// </summary>
internal sealed class GaussianStream
{
    private readonly Random _random;

    public GaussianStream(int seed) => _random = new Random(seed);

    public float[] Next(int count, float std)
    {
        var values = new float[count];
        for (int i = 0; i < count; i += 2)
        {
            double u1 = 1.0 - _random.NextDouble(), u2 = _random.NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1)) * std;
            values[i] = (float)(radius * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < count)
            {
                values[i + 1] = (float)(radius * Math.Sin(2 * Math.PI * u2));
            }
        }

        return values;
    }

    public float[] NextUniform(int count, float low, float high)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = low + (float)_random.NextDouble() * (high - low);
        }

        return values;
    }
}
