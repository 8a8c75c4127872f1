using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OrleansQuant.Client;

// A .NET service that talks to an OrleansQuant cluster only through Microsoft.Extensions.AI's IChatClient.
// Gateways, cluster id and model come from appsettings.json's "OrleansQuant:Client" section (or OrleansQuant__Client__… variables).
var builder = Host.CreateApplicationBuilder(args);
builder.AddOrleansQuantClient();
using var host = builder.Build();

// Connects to the gateways, or fails after OrleansQuant:Client:ConnectTimeout naming them.
await host.StartAsync();

var chat = host.Services.GetRequiredService<IChatClient>();
string question = args.Length > 0 ? string.Join(' ', args) : "How do I list the files in a directory?";
Console.WriteLine($"> {question}");

using var cancellation = new CancellationTokenSource();

// Ctrl+C ends the answer, and with it the generation on the cluster.
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

ChatFinishReason? finish = null;
UsageDetails? usage = null;
try
{
    await foreach (var update in chat.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, question)],
        new ChatOptions { MaxOutputTokens = 128, Temperature = 0f, StopSequences = ["\n\n"] }, cancellation.Token))
    {
        Console.Write(update.Text);
        finish = update.FinishReason ?? finish;
        usage = update.Contents.OfType<UsageContent>().FirstOrDefault()?.Details ?? usage;
    }

    Console.WriteLine();
    Console.WriteLine($"[{finish}; {usage?.InputTokenCount} prompt tokens, {usage?.OutputTokenCount} generated]");
}
catch (OperationCanceledException)
{
    Console.WriteLine();
    Console.WriteLine("[cancelled]");
}

await host.StopAsync();
