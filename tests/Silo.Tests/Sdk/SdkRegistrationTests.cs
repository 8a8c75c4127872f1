using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Silo.Tests.Http;

namespace OrleansQuant.Silo.Tests.Sdk;

/// <summary><c>AddOrleansQuantClient</c> in a host of its own: what it binds, what it resolves, and how it fails.</summary>
[Collection(HttpApiCollection.Name)]
public sealed class SdkRegistrationTests(HttpApiFixture fixture)
{
    [Fact]
    public void OptionsBindFromTheConfigurationSectionAndTheDelegateWins()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["OrleansQuant:Client:Gateways:0"] = "10.0.0.5:30000",
            ["OrleansQuant:Client:Gateways:1"] = "10.0.0.6:30001",
            ["OrleansQuant:Client:ClusterId"] = "prod",
            ["OrleansQuant:Client:ServiceId"] = "quant",
            ["OrleansQuant:Client:DefaultModel"] = "llama",
            ["OrleansQuant:Client:ConnectTimeout"] = "00:00:03",
        });
        builder.AddOrleansQuantClient(o => o.ServiceId = "from-code");
        using var services = builder.Services.BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<OrleansQuantClientOptions>>().Value;
        Assert.Equal(["10.0.0.5:30000", "10.0.0.6:30001"], options.Gateways);
        Assert.Equal("prod", options.ClusterId);
        Assert.Equal("from-code", options.ServiceId);
        Assert.Equal("llama", options.DefaultModel);
        Assert.Equal(TimeSpan.FromSeconds(3), options.ConnectTimeout);

        // What Orleans' client is given to connect with.
        var gateways = services.GetRequiredService<IOptions<Orleans.Configuration.StaticGatewayListProviderOptions>>().Value.Gateways;
        Assert.Equal(["gwy.tcp://10.0.0.5:30000/0", "gwy.tcp://10.0.0.6:30001/0"], gateways.Select(g => g.ToString()));
        Assert.Equal("prod", services.GetRequiredService<IOptions<Orleans.Configuration.ClusterOptions>>().Value.ClusterId);
    }

    [Fact]
    public async Task TheRegisteredClientsServeTheDefaultModelAndChatEqualsGenerate()
    {
        using var host = await SdkClientHost.StartAsync(fixture);
        var sdk = host.Services.GetRequiredService<OrleansQuantClient>();
        var chat = host.Services.GetRequiredService<IChatClient>();
        Assert.Same(sdk, chat.GetService<OrleansQuantClient>());
        Assert.Equal(SdkClientHost.Model, chat.GetService<ChatClientMetadata>()?.DefaultModelId);

        var response = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], new ChatOptions { MaxOutputTokens = 8 });

        // The same conversation through the typed call: ids, text and the layers' versions stream back.
        var text = new StringBuilder();
        var tokens = new List<GeneratedToken>();
        await foreach (var token in sdk.GenerateAsync(SdkClientHost.Model, new GenerateRequest(Messages: [new ChatTurn("user", "hi")], MaxTokens: 8)))
        {
            tokens.Add(token);
            text.Append(token.Text);
        }

        Assert.Equal(8, tokens.Count);
        Assert.Equal("length", tokens[^1].FinishReason);
        Assert.All(tokens, t => Assert.Equal(4, t.LayerVersions?.Count));
        Assert.False(string.IsNullOrEmpty(response.Text));
        Assert.Equal(text.ToString(), response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(SdkClientHost.Model, response.ModelId);

        int[] prompt = await sdk.TokenizeAsync(SdkClientHost.Model, null, [new ChatTurn("user", "hi")]);
        Assert.Equal(prompt.Length, response.Usage?.InputTokenCount);
        Assert.Equal(8, response.Usage?.OutputTokenCount);
        Assert.Equal(prompt.Length + 8, response.Usage?.TotalTokenCount);
    }

    [Fact]
    public async Task StreamingUpdatesConcatenateToTheNonStreamedText()
    {
        using var host = await SdkClientHost.StartAsync(fixture);
        var chat = host.Services.GetRequiredService<IChatClient>();
        ChatMessage[] messages = [new(ChatRole.System, "be brief"), new(ChatRole.User, "the manual says")];
        var options = new ChatOptions { MaxOutputTokens = 12, Temperature = 0f };

        var whole = await chat.GetResponseAsync(messages, options);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in chat.GetStreamingResponseAsync(messages, options))
        {
            updates.Add(update);
        }

        Assert.True(updates.Count > 2, $"{updates.Count} updates");
        Assert.Equal(whole.Text, string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Length, updates[^1].FinishReason);
        Assert.Single(updates, u => u.Contents.OfType<UsageContent>().Any());
    }

    [Fact]
    public async Task AStopSequenceCutsTheAnswerEndsTheGenerationAndReportsStop()
    {
        using var host = await SdkClientHost.StartAsync(fixture);
        var chat = host.Services.GetRequiredService<IChatClient>();
        ChatMessage[] messages = [new(ChatRole.User, "a")];
        string full = (await chat.GetResponseAsync(messages, new ChatOptions { MaxOutputTokens = 16 })).Text;
        string stop = full.Substring(4, 2);

        var cut = await chat.GetResponseAsync(messages, new ChatOptions { MaxOutputTokens = 2000, StopSequences = [stop] });
        var streamed = new StringBuilder();
        ChatFinishReason? streamedFinish = null;
        await foreach (var update in chat.GetStreamingResponseAsync(messages, new ChatOptions { MaxOutputTokens = 2000, StopSequences = ["no such text", stop] }))
        {
            streamed.Append(update.Text);
            streamedFinish = update.FinishReason ?? streamedFinish;
        }

        string expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];
        Assert.Equal(expected, cut.Text);
        Assert.Equal(ChatFinishReason.Stop, cut.FinishReason);
        Assert.InRange(cut.Usage?.OutputTokenCount ?? -1, 1, 16);
        Assert.Equal(expected, streamed.ToString());
        Assert.Equal(ChatFinishReason.Stop, streamedFinish);
        await fixture.AssertNoSequenceWithin(SdkClientHost.Model, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task ACancelledStreamThrowsAndEndsTheGenerationOnTheCluster()
    {
        using var host = await SdkClientHost.StartAsync(fixture);
        var sdk = host.Services.GetRequiredService<OrleansQuantClient>();
        var chat = host.Services.GetRequiredService<IChatClient>();
        using var cancellation = new CancellationTokenSource();

        await using var stream = chat.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "a")], new ChatOptions { MaxOutputTokens = 2000 }, cancellation.Token)
            .GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync());

        // Observed while it streams: the sequence is in the model's batch.
        Assert.Equal(1, (await sdk.StatusAsync(SdkClientHost.Model)).ActiveSequences);

        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await stream.MoveNextAsync());
        await fixture.AssertNoSequenceWithin(SdkClientHost.Model, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task NoSiloAtTheGatewayFailsWithinTheTimeoutNamingIt()
    {
        string gateway = $"127.0.0.1:{FreePort.Next()}";
        using var host = SdkClientHost.Builder(SdkClientHost.Settings(gateway, TimeSpan.FromSeconds(2))).Build();
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<TimeoutException>(() => host.StartAsync());

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        Assert.Contains($"no OrleansQuant silo answers at gateway {gateway} within 2 s", error.Message);
        Assert.Contains("orleansquant serve", error.Message);
    }
}
