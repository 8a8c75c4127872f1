using OrleansQuant.Contracts;
using OrleansQuant.Grains.Hosting;

namespace OrleansQuant.Grains;

/// <summary>
/// The names of the models this service has loaded, persisted with the models' own records, so that the list outlives
/// any silo and a whole-cluster restart. Models add themselves when a load succeeds (<see cref="ModelGrain"/>).
/// </summary>
public sealed class ModelCatalogGrain([PersistentState("catalog", StoreOptions.StorageName)] IPersistentState<ModelCatalog> catalog)
    : Grain, IModelCatalogGrain
{
    public async Task Add(string model)
    {
        int at = catalog.State.Models.BinarySearch(model, StringComparer.Ordinal);
        if (at >= 0)
        {
            return;
        }

        catalog.State.Models.Insert(~at, model);
        try
        {
            await catalog.WriteStateAsync();
        }
        catch
        {
            // Listed only once stored: the next load's Add tries again.
            catalog.State.Models.Remove(model);
            throw;
        }
    }

    public Task<string[]> Models() => Task.FromResult(catalog.State.Models.ToArray());
}
