namespace OrleansQuant.Contracts;

/// <summary>
/// The models this service has loaded, by name (one grain, key 0): each has a <see cref="ModelRecord"/> to restore
/// from. What the silo that watches membership wakes when a silo dies, so that a model whose coordinator or layers
/// went with it is whole again before its next request rather than during it.
/// </summary>
public interface IModelCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>Adds <paramref name="model"/>; a name already listed is left as it is.</summary>
    Task Add(string model);

    /// <summary>Every model listed, in ordinal order.</summary>
    Task<string[]> Models();
}
