using Microsoft.Extensions.Options;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The model grains the API serves (<see cref="HttpApiOptions.ServedNames"/>): a request's model name resolves to a
/// loaded one, or to 404 for a name not served and 503 for one not loaded yet or still loading.
/// </summary>
internal sealed class ServedModels(IClusterClient cluster, IOptions<HttpApiOptions> options)
{
    public IReadOnlyList<string> Names => options.Value.ServedNames;

    public async Task<ServedModel> Resolve(string? name)
    {
        name = string.IsNullOrEmpty(name) ? Names[0] : name;
        if (!Names.Contains(name, StringComparer.Ordinal))
        {
            throw new OpenAiException(404, $"The model '{name}' does not exist; this server serves {string.Join(", ", Names.Select(n => $"'{n}'"))}", "model", code: "model_not_found");
        }

        var grain = cluster.GetGrain<IModelGrain>(name);
        try
        {
            return new ServedModel(name, grain, await grain.GetTokenizerInfo());
        }
        catch (InvalidOperationException e)
        {
            // The grain says why: not loaded yet, or which load job is still running and how far it got.
            throw new OpenAiException(503, e.Message, "model", "server_error", "model_not_ready");
        }
    }

    /// <summary>The served models that are loaded now; one not loaded is left out, not an error.</summary>
    public async Task<IReadOnlyList<ServedModel>> Loaded()
    {
        var loaded = new List<ServedModel>();
        foreach (string name in Names)
        {
            try
            {
                loaded.Add(await Resolve(name));
            }
            catch (OpenAiException e) when (e.Status == 503)
            {
            }
        }

        return loaded;
    }
}
