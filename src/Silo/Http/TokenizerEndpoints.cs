using Microsoft.AspNetCore.Http;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// vLLM's tokenizer endpoints, answered by the model grain's own tokenizer (so ids here are exactly the ids a
/// completion of the same text runs): GET /tokenizer_info, POST /tokenize, POST /detokenize.
/// </summary>
internal sealed class TokenizerEndpoints(ServedModels models, HttpApiOptions options)
{
    public async Task Info(HttpContext context)
    {
        var model = await models.Resolve(context.Request.Query["model"].FirstOrDefault());
        var info = model.Info;
        await HttpBodies.Write(context.Response, new TokenizerInfoResponse(info.BosToken, info.EosToken, info.ChatTemplate, info.ModelMaxLength, info.VocabSize, "orleansquant"));
    }

    public async Task Tokenize(HttpContext context)
    {
        var request = await HttpBodies.Read<TokenizeRequest>(context, options.MaxBodyBytes);
        var turns = request.Messages is null ? null : ChatCompletionsEndpoint.Turns(request.Messages, "messages");
        if (turns is null && request.Prompt is null)
        {
            throw OpenAiException.BadRequest("prompt", "prompt is missing; expected a string (or messages, a conversation)");
        }

        var model = await models.Resolve(request.Model);
        int[] ids = await model.Grain.Tokenize(request.Prompt, turns, request.AddSpecialTokens ?? true);
        await HttpBodies.Write(context.Response, new TokenizeResponse(ids, ids.Length, model.Info.ModelMaxLength));
    }

    public async Task Detokenize(HttpContext context)
    {
        var request = await HttpBodies.Read<DetokenizeRequest>(context, options.MaxBodyBytes);
        if (request.Tokens is not { } tokens)
        {
            throw OpenAiException.BadRequest("tokens", "tokens is missing; expected a list of token ids");
        }

        int[] ids = PromptShapes.Ids(tokens, "tokens");
        var model = await models.Resolve(request.Model);
        model.CheckIds(ids, "tokens");
        await HttpBodies.Write(context.Response, new DetokenizeResponse(await model.Grain.Detokenize(ids)));
    }
}
