using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The routes of the OpenAI-compatible API and the one place its errors are written: an <see cref="OpenAiException"/>
/// as itself, the grain's refusals of a request (<see cref="ArgumentException"/>) as 400, its "not now" answers
/// (<see cref="InvalidOperationException"/>: not loaded, KV cache full) as 503, anything else as a logged 500; a full
/// request queue answers 429 (<see cref="RequestQueue"/>). A request can fail; the silo goes on.
/// </summary>
internal static class OpenAiApi
{
    public static void Map(WebApplication app, ServedModels models, HttpApiOptions options, ILogger logger)
    {
        app.Use(async (context, next) =>
        {
            try
            {
                ApiKeyCheck.Check(context, options);
                await next(context);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                // The client left; the generation's stream was disposed with the token, and no one is there to answer.
                logger.LogInformation("Client left {Method} {Path} before the answer was complete", context.Request.Method, context.Request.Path);
            }
            catch (Exception error)
            {
                await WriteError(context, Translate(error, logger));
            }
        });

        var completions = new CompletionsEndpoint(models, options);
        var chat = new ChatCompletionsEndpoint(models, options);
        var tokenizer = new TokenizerEndpoints(models, options);
        app.MapGet("/v1/models", async context =>
        {
            var loaded = await models.Loaded();
            long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            await HttpBodies.Write(context.Response, new ModelList(loaded.Select(m => new ModelCard(m.Name, created, m.Info.ModelMaxLength)).ToArray()));
        });
        var queue = new RequestQueue(options.MaxRunningRequests, options.MaxWaitingRequests);
        app.MapPost("/v1/completions", context => queue.Run(context, completions.Handle));
        app.MapPost("/v1/chat/completions", context => queue.Run(context, chat.Handle));
        app.MapGet("/tokenizer_info", tokenizer.Info);
        app.MapPost("/tokenize", tokenizer.Tokenize);
        app.MapPost("/detokenize", tokenizer.Detokenize);
    }

    private static OpenAiException Translate(Exception error, ILogger logger)
    {
        switch (error)
        {
            case OpenAiException refused:
                logger.LogInformation("Refused a request with {Status} (param {Param}): {Message}", refused.Status, refused.Param, refused.Message);
                return refused;
            case ArgumentException bad:
                logger.LogInformation("The model refused a request: {Message}", bad.Message);
                return new OpenAiException(StatusCodes.Status400BadRequest, bad.Message);
            case InvalidOperationException busy:
                logger.LogWarning("The model cannot serve a request now: {Message}", busy.Message);
                return new OpenAiException(StatusCodes.Status503ServiceUnavailable, busy.Message, type: "server_error");
            default:
                logger.LogError(error, "A request failed unexpectedly");
                return new OpenAiException(StatusCodes.Status500InternalServerError, $"{error.GetType().Name}: {error.Message}", type: "server_error");
        }
    }

    /// <summary>Before the answer started: a JSON error with its status. Mid-stream: an error event, as vLLM sends, then [DONE].</summary>
    private static async Task WriteError(HttpContext context, OpenAiException error)
    {
        if (!context.Response.HasStarted)
        {
            await HttpBodies.Write(context.Response, error.ToError(), error.Status);
            return;
        }

        var events = new ServerSentEvents(context.Response);
        await events.Write(error.ToError(), context.RequestAborted);
        await events.Done(context.RequestAborted);
    }
}
