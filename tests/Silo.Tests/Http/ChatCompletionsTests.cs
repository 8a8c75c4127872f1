using System.ClientModel;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace OrleansQuant.Silo.Tests.Http;

/// <summary>/v1/chat/completions through the official OpenAI .NET client, against what the engine makes of the same conversation.</summary>
[Collection(HttpApiCollection.Name)]
public sealed class ChatCompletionsTests(HttpApiFixture fixture)
{
    private ChatClient Client(string key = HttpApiFixture.ApiKey, string model = "default") =>
        new(model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(fixture.BaseUri, "v1") });

    private static readonly ChatMessage[] s_conversation = [new SystemChatMessage("be brief"), new UserChatMessage("hi")];

    /// <summary>The tiny model has no chat template: a conversation goes in as a "role: content" transcript, assistant's turn open.</summary>
    private int[] ConversationIds() => fixture.Tokenizer.Encode("system: be brief\nuser: hi\nassistant:").ToArray();

    [Fact]
    public async Task AGreedyChatCompletionIsWhatTheEngineGeneratesWithUsageCounted()
    {
        var completion = (await Client().CompleteChatAsync(s_conversation, new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = 8 })).Value;

        int[] prompt = ConversationIds();
        var (ids, text) = await fixture.Engine(prompt, 8);
        Assert.Equal(text, completion.Content[0].Text);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal(ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(prompt.Length, completion.Usage.InputTokenCount);
        Assert.Equal(ids.Count, completion.Usage.OutputTokenCount);
        Assert.Equal(prompt.Length + ids.Count, completion.Usage.TotalTokenCount);
        Assert.Equal("default", completion.Model);
    }

    [Fact]
    public async Task StreamedDeltasConcatenateToTheWholeAnswer()
    {
        var options = new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = 8 };
        string whole = (await Client().CompleteChatAsync(s_conversation, options)).Value.Content[0].Text;

        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatMessageRole? role = null;
        int updates = 0;
        await foreach (var update in Client().CompleteChatStreamingAsync(s_conversation, options))
        {
            updates++;
            role ??= update.Role;
            finish = update.FinishReason ?? finish;
            foreach (var part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal(whole, streamed.ToString());
        Assert.Equal(ChatMessageRole.Assistant, role);
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.True(updates > 3, $"expected a chunk per token, got {updates} updates");
    }

    [Fact]
    public async Task AStopStringCutsTheAnswerAndEndsItWithStop()
    {
        var (_, text) = await fixture.Engine(ConversationIds(), 16);
        string stop = text.Substring(6, 2);
        var options = new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = 16, StopSequences = { stop } };

        var completion = (await Client().CompleteChatAsync(s_conversation, options)).Value;

        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
    }

    [Fact]
    public async Task AWrongKeyIsRefusedWith401()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client(key: "wrong").CompleteChatAsync(s_conversation));
        Assert.Equal(401, error.Status);
    }

    [Fact]
    public async Task AnUnknownModelIsRefusedWith404()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client(model: "no-such-model").CompleteChatAsync(s_conversation));
        Assert.Equal(404, error.Status);
        Assert.Contains("no-such-model", error.Message);
    }
}
