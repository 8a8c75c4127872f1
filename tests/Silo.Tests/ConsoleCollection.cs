namespace OrleansQuant.Silo.Tests;

/// <summary>Tests that swap Console.Out/Error: the console is one per process, so they must not run at the same time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}
