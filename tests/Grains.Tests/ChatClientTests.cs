using Microsoft.Extensions.AI;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Model.Demo;
using ModelTokenizer = OrleansQuant.Model.Tokenization.ModelTokenizer;

namespace OrleansQuant.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ChatClientTests(ClusterFixture fixture)
{
    [Fact]
    public async Task TheSdkServesAModelAsAnIChatClient()
    {
        var sdk = new OrleansQuantClient(fixture.Cluster.Client);
        await sdk.LoadAsync("chat", "tiny");
        using IChatClient chat = sdk.AsChatClient("chat");
        var response = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], new ChatOptions { MaxOutputTokens = 6 });

        // The tiny model has no chat template: the conversation goes in as a plain transcript, assistant's turn open.
        var tokenizer = ModelTokenizer.Load(ModelDirectory.Resolve("tiny"));
        int[] prompt = tokenizer.Encode("user: hi\nassistant:").ToArray();
        var expected = await ClusterCalls.Collect(sdk.Model("chat"), prompt, 6);
        Assert.Equal(tokenizer.Decode(expected), response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        Assert.Equal("chat", response.ModelId);
        Assert.Equal("orleansquant", chat.GetService<ChatClientMetadata>()?.ProviderName);
    }
}
