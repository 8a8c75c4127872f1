namespace OrleansQuant.Contracts;

/// <summary>The model catalog's persisted state (<see cref="IModelCatalogGrain"/>): the names of the models loaded.</summary>
[GenerateSerializer]
public sealed class ModelCatalog
{
    [Id(0)] public List<string> Models { get; set; } = new();
}
