using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using OrleansQuant.Contracts;

namespace OrleansQuant.Silo.Http;

/// <summary>
/// The admin routes under /admin/v1, mapped only when an admin key is configured (<see cref="HttpApiOptions.AdminKeys"/>;
/// <see cref="ApiKeyCheck"/> asks for it): the jobs <c>cluster quantize|requantize|load|save</c> run, through the same
/// SDK calls, each streamed by <see cref="AdminJobs"/>; a model's status; a job, its events again, and its cancellation.
/// Errors are written by <see cref="OpenAiApi"/>'s handler, in OpenAI's shape.
/// </summary>
internal static class AdminApi
{
    public const string Prefix = "/admin/v1";

    /// <summary>Where a job is polled: the model travels in the query, as a job id is a model grain's own.</summary>
    public static string JobPath(string model, string jobId) => $"{Prefix}/jobs/{Uri.EscapeDataString(jobId)}?model={Uri.EscapeDataString(model)}";

    public static void Map(IEndpointRouteBuilder app, AdminJobs jobs, HttpApiOptions options)
    {
        var admin = app.MapGroup(Prefix);
        long maxBytes = options.MaxBodyBytes;

        admin.MapGet("/models/{model}/status", async context =>
            await AdminJson.Write(context.Response, await jobs.Status(jobs.Model(context), context.RequestAborted)));

        admin.MapPost("/models/{model}/quantize", context => Quantize(context, jobs, maxBytes));
        admin.MapPost("/models/{model}/layers/{layer}/requantize", context => Requantize(context, jobs, maxBytes));
        admin.MapPost("/models/{model}/load", context => Load(context, jobs, maxBytes));
        admin.MapPost("/models/{model}/save", context => Save(context, jobs, maxBytes));

        admin.MapGet("/jobs/{id}", async context =>
        {
            string model = jobs.Model(context);
            await AdminJson.Write(context.Response, AdminJob.From(model, await jobs.Job(model, Id(context), context.RequestAborted)));
        });

        admin.MapGet("/jobs/{id}/events", async context =>
        {
            string model = jobs.Model(context), id = Id(context);
            int from = AdminBodies.From(context);
            await jobs.Job(model, id, context.RequestAborted);
            await jobs.Stream(context, model, id, from);
        });

        admin.MapDelete("/jobs/{id}", async context =>
        {
            string model = jobs.Model(context);
            await AdminJson.Write(context.Response, AdminJob.From(model, await jobs.Cancel(model, Id(context), context.RequestAborted)));
        });
    }

    private static async Task Quantize(HttpContext context, AdminJobs jobs, long maxBytes)
    {
        string model = jobs.Model(context);
        var body = await AdminBodies.Read(context, maxBytes, recipe => new AdminQuantizeRequest { Recipe = recipe });
        var request = body.ToContract();
        AdminRecipe.Check(request.RecipeYaml, (await jobs.Status(model, context.RequestAborted)).Layers.Count, required: false);
        await jobs.StartThenStream(context, model, AdminBodies.Streams(context, body.Stream), "calibration", AdminJobs.WeightsKinds,
            grain => grain.StartQuantize(request));
    }

    private static async Task Requantize(HttpContext context, AdminJobs jobs, long maxBytes)
    {
        string model = jobs.Model(context);
        var body = await AdminBodies.Read(context, maxBytes, recipe => new AdminRequantizeRequest { Recipe = recipe });
        int layers = (await jobs.Status(model, context.RequestAborted)).Layers.Count;
        int layer = Layer(context, layers);
        AdminRecipe.Check(body.Recipe, layers, required: true);
        await jobs.StartThenStream(context, model, AdminBodies.Streams(context, body.Stream), "recipe", AdminJobs.WeightsKinds,
            grain => grain.StartRequantize(layer, body.Recipe!));
    }

    private static async Task Load(HttpContext context, AdminJobs jobs, long maxBytes)
    {
        string model = jobs.Model(context);
        var body = await AdminBodies.Read<AdminLoadRequest>(context, maxBytes);
        string checkpoint = string.IsNullOrWhiteSpace(body.Checkpoint)
            ? throw OpenAiException.BadRequest("checkpoint", "checkpoint is missing; expected a checkpoint directory every silo can read, or a demo model name")
            : body.Checkpoint;
        await jobs.StartThenStream(context, model, AdminBodies.Streams(context, body.Stream), "checkpoint", [],
            grain => grain.StartLoad(new LoadModelRequest(checkpoint, DType: body.Dtype)));
    }

    private static async Task Save(HttpContext context, AdminJobs jobs, long maxBytes)
    {
        string model = jobs.Model(context);
        var body = await AdminBodies.Read<AdminSaveRequest>(context, maxBytes);
        await jobs.StartThenStream(context, model, AdminBodies.Streams(context, body.Stream), "directory", [],
            grain => grain.StartSave(body.Directory ?? ""));
    }

    private static string Id(HttpContext context) => (string)context.Request.RouteValues["id"]!;

    private static int Layer(HttpContext context, int layers)
    {
        // While the model loads it has no layers yet: the grain answers that (503), not a range check here.
        string text = (string)context.Request.RouteValues["layer"]!;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int layer) && (layers == 0 || layer < layers)
            ? layer
            : throw OpenAiException.BadRequest("layer", $"layer '{text}' does not exist; expected 0 to {layers - 1} (the model has {layers} layers)");
    }
}
