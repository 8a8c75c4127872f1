using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>
/// <see cref="HttpApiFixture"/>'s server with an admin key, in a silo of its own: the admin tests change the model's
/// weights, which the other HTTP tests must not see. The model is quantized once (W8A8, 8 × 32 self-calibration
/// tokens) before any test, since a layer is re-quantized from the statistics its quantization kept.
/// </summary>
public sealed class AdminFixture : HttpApiFixture
{
    public const string Key = "admin-test-key";

    protected override string? AdminKey => Key;

    /// <summary>Sends the admin key.</summary>
    public HttpClient Admin { get; private set; } = null!;

    protected override async Task Prepare()
    {
        Admin = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromMinutes(5) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        await foreach (var e in Sdk.QuantizeAsync("default", new QuantizeRequest(Calibration: "self", SampleCount: 8, MaxTokens: 32)))
        {
            Assert.NotEqual("failed", e.Stage);
        }
    }

    /// <summary>POSTs JSON with the admin key and reads the answer as server-sent events: each data line's JSON, and whether [DONE] ended them.</summary>
    public async Task<SseAnswer> Sse(string path, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(body) };
        using var response = await Admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        string contentType = response.Content.Headers.ContentType?.MediaType ?? "";
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<JsonElement>();
        bool done = false;
        while (await reader.ReadLineAsync() is { } line)
        {
            Assert.False(done && line.Length > 0, $"a line after [DONE]: {line}");
            if (line == "data: [DONE]")
            {
                done = true;
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone());
            }
        }

        return new SseAnswer(response.StatusCode, contentType, events, done);
    }

    /// <summary>Sends with the admin key (or <paramref name="client"/>) and parses the JSON answer.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Send(HttpMethod method, string path, object? body = null, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) };
        var response = await (client ?? Admin).SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    /// <summary>The layers' versions now, from the admin status route.</summary>
    public async Task<int[]> Versions()
    {
        var (status, body, _) = await Send(HttpMethod.Get, "admin/v1/models/default/status");
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("layers").EnumerateArray().Select(l => l.GetProperty("version").GetInt32()).ToArray();
    }

    private static StringContent Json(object body) =>
        new(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}

/// <summary>A streamed admin answer: its status, content type, the events' JSON, and whether it ended with [DONE].</summary>
public sealed record SseAnswer(HttpStatusCode Status, string ContentType, IReadOnlyList<JsonElement> Events, bool Done)
{
    /// <summary>The job's events (<c>"object": "job.event"</c>), heartbeats left out.</summary>
    public IEnumerable<JsonElement> Progress => Events.Where(e => e.GetProperty("object").GetString() == "job.event" && e.GetProperty("stage").GetString() != "heartbeat");

    /// <summary>The job as it ended: the last event.</summary>
    public JsonElement Job => Events[^1];
}

[CollectionDefinition(Name)]
public sealed class AdminCollection : ICollectionFixture<AdminFixture>
{
    public const string Name = "http admin";
}
