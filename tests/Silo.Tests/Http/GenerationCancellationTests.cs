using System.Net;
using System.Text;
using System.Text.Json;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>A generation no one will read any more leaves the model's batch: when its client leaves, or a stop string ends it.</summary>
[Collection(HttpApiCollection.Name)]
public sealed class GenerationCancellationTests(HttpApiFixture fixture)
{
    [Fact]
    public async Task AClientThatLeavesMidStreamEndsItsGeneration()
    {
        var request = new { prompt = "a", max_tokens = 2000, temperature = 0, stream = true };
        using (var message = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new StringContent(JsonSerializer.Serialize(request), Encoding.UTF8, "application/json") })
        using (var response = await fixture.Http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: {", await reader.ReadLineAsync());

            // Observed while it streams: the sequence is in the model's batch.
            Assert.Equal(1, (await fixture.Sdk.StatusAsync("default")).ActiveSequences);
        }

        await fixture.AssertNoSequenceWithin("default", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task AStopStringEndsTheGenerationLongBeforeMaxTokens()
    {
        int[] prompt = fixture.Tokenizer.Encode("a").ToArray();
        var (_, text) = await fixture.Engine(prompt, 8);

        var (status, body) = await fixture.Post("v1/completions", new { prompt = "a", max_tokens = 2000, temperature = 0, stop = text.Substring(3, 2) });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.InRange(body.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 8);
        await fixture.AssertNoSequenceWithin("default", TimeSpan.FromSeconds(10));
    }
}
