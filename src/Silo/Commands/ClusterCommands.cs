using System.CommandLine;
using OrleansQuant.Client;
using OrleansQuant.Contracts;
using OrleansQuant.Model.Recipes;
using OrleansQuant.Silo.Logging;

namespace OrleansQuant.Silo.Commands;

/// <summary>
/// <c>orleansquant cluster load|quantize|watch|cancel|generate|requantize|status</c>: an operator's client for a
/// running cluster (silos started with <c>serve</c>), through a gateway on this machine. Quantization is a job the
/// cluster owns: leaving the command (Ctrl+C) leaves it running; <c>watch</c> re-attaches, <c>cancel</c> stops it.
/// </summary>
internal static class ClusterCommands
{
    private static readonly Option<int> s_gateway = new("--gateway") { Description = "Gateway port of a silo", DefaultValueFactory = _ => 30000, Recursive = true };
    private static readonly Option<string> s_name = new("--name") { Description = "Model name in the cluster", DefaultValueFactory = _ => "default", Recursive = true };
    private static readonly Option<double> s_connectTimeout = new("--connect-timeout")
    {
        Description = "Seconds to wait for the gateway to answer",
        DefaultValueFactory = _ => 5,
        Recursive = true,
    };

    private static readonly Option<string?> s_redis = ClusterConnection.RedisOption();
    private static readonly Option<string?> s_clusterId = ClusterConnection.ClusterIdOption();

    public static Command Create()
    {
        var command = new Command("cluster", "Talk to a running OrleansQuant cluster") { s_gateway, s_name, s_connectTimeout, s_redis, s_clusterId };
        ClusterTlsOption.AddTo(command);
        command.Subcommands.Add(Load());
        command.Subcommands.Add(Quantize());
        command.Subcommands.Add(Watch());
        command.Subcommands.Add(Cancel());
        command.Subcommands.Add(Generate());
        command.Subcommands.Add(Requantize());
        command.Subcommands.Add(Status());
        return command;
    }

    private static Command Load()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint directory every silo can read, or a demo model name", Required = true };
        var dtype = DTypeOption.Create();
        return WithClient(new Command("load", "Load a model across the cluster") { model, dtype }, async (parse, client, name, cancellation) =>
            Console.WriteLine(Reports.PlacementTable(await client.LoadAsync(name, parse.GetValue(model)!, dtype: parse.GetValue(dtype)!).WaitAsync(cancellation))));
    }

    private static Command Quantize()
    {
        var recipe = new Option<string?>("--recipe") { Description = "llm-compressor recipe file (default SmoothQuant 0.8 + GPTQ W8A8)" };
        var calibration = new Option<string>("--calibration") { Description = "Calibration file (readable by the coordinator's silo) or 'self'", DefaultValueFactory = _ => "self" };
        var samples = new Option<int>("--samples") { DefaultValueFactory = _ => 512 };
        var maxTokens = new Option<int>("--max-tokens") { DefaultValueFactory = _ => 2048 };
        var sequential = new Option<bool>("--sequential") { Description = "Calibrate each layer on the quantized layers before it" };
        return WithClient(new Command("quantize", "Calibrate and quantize every layer, layer-parallel") { recipe, calibration, samples, maxTokens, sequential },
            async (parse, client, name, cancellation) =>
            {
                string yaml = parse.GetValue(recipe) is string path ? RecipeWriter.ToYaml(RecipeReader.Load(path)) : "";
                var request = new QuantizeRequest(yaml, parse.GetValue(calibration)!, parse.GetValue(samples), parse.GetValue(maxTokens),
                    Mode: parse.GetValue(sequential) ? ClusterQuantizationMode.Sequential : ClusterQuantizationMode.LayerParallel);
                var job = await client.Model(name).StartQuantize(request).WaitAsync(cancellation);
                Console.Error.WriteLine($"job {job.Id} (Ctrl+C leaves it running; 'cluster watch --job {job.Id}' re-attaches, 'cluster cancel --job {job.Id}' stops it)");
                await ShowQuantization(client, name, job.Id, from: 0, cancellation);
            });
    }

    private static readonly Option<string> s_job = new("--job") { Description = "Job id, as 'quantize' or 'status' prints it", Required = true };
    private static readonly Option<int> s_from = new("--from") { Description = "First event to show (the job keeps its whole log)", DefaultValueFactory = _ => 0 };

    private static Command Watch() =>
        WithClient(new Command("watch", "Re-attach to a quantization job's progress") { s_job, s_from }, (parse, client, name, cancellation) =>
            ShowQuantization(client, name, parse.GetValue(s_job)!, parse.GetValue(s_from), cancellation));

    private static Command Cancel() =>
        WithClient(new Command("cancel", "Stop a job; nothing it built goes into service") { s_job }, async (parse, client, name, cancellation) =>
        {
            var job = await client.CancelAsync(name, parse.GetValue(s_job)!).WaitAsync(cancellation);
            await foreach (var _ in client.WatchAsync(name, job.Id, job.Events).Until(cancellation))
            {
                // Wait for it to end: a layer stops at its next linear.
            }

            var ended = await client.Model(name).GetJob(job.Id).WaitAsync(cancellation);
            Console.WriteLine($"job {ended.Id}: {ended.State.ToString().ToLowerInvariant()}{(ended.Error is null ? "" : $" ({ended.Error})")}");
        });

    private static async Task ShowQuantization(OrleansQuantClient client, string name, string jobId, int from, CancellationToken cancellation)
    {
        var progress = new QuantizationProgressView(Console.Error, StatusLine.ForStandardError(), "calibrating", "quantizing");
        await foreach (var e in client.WatchAsync(name, jobId, from).Until(cancellation))
        {
            progress.Show(e);
        }

        Console.WriteLine(Reports.LayerTable(progress.Events, await client.StatusAsync(name).WaitAsync(cancellation)));
        if (!progress.Succeeded)
        {
            throw new InvalidOperationException($"quantization {progress.Outcome ?? "ended without an outcome"}");
        }
    }

    private static Command Generate()
    {
        var prompt = new Option<string>("--prompt") { Required = true };
        var maxTokens = new Option<int>("--max-tokens") { DefaultValueFactory = _ => 32 };
        var temperature = new Option<float>("--temperature") { DefaultValueFactory = _ => 0f };
        return WithClient(new Command("generate", "Continue a prompt through the cluster, streaming tokens") { prompt, maxTokens, temperature },
            async (parse, client, name, cancellation) =>
            {
                var request = new GenerateRequest(parse.GetValue(prompt), MaxTokens: parse.GetValue(maxTokens), Temperature: parse.GetValue(temperature));
                await foreach (var token in client.GenerateAsync(name, request).Until(cancellation))
                {
                    Console.Write(token.Text);
                }

                Console.WriteLine();
            });
    }

    private static Command Requantize()
    {
        var layer = new Option<int>("--layer") { Required = true };
        var recipe = new Option<string>("--recipe") { Description = "llm-compressor recipe file", Required = true };
        return WithClient(new Command("requantize", "Re-quantize one layer with another recipe while the model serves") { layer, recipe },
            async (parse, client, name, cancellation) =>
            {
                string yaml = RecipeWriter.ToYaml(RecipeReader.Load(parse.GetValue(recipe)!));
                var result = await client.RequantizeLayerAsync(name, parse.GetValue(layer), yaml).WaitAsync(cancellation);
                Console.WriteLine(result.Succeeded
                    ? $"layer {result.Layer} now serves version {result.Version} (W8A8 error {result.ErrorBefore:E3} → {result.ErrorAfter:E3})"
                    : $"layer {result.Layer} kept version {result.Version}: {result.Error}");
            });
    }

    private static Command Status() =>
        WithClient(new Command("status", "Placement map, per-layer state and the model's jobs"), async (_, client, name, cancellation) =>
        {
            var status = await client.StatusAsync(name).WaitAsync(cancellation);
            Console.WriteLine(Reports.PlacementTable(status));
            Console.WriteLine(Reports.JobTable(status.Jobs));
        });

    private static Command WithClient(Command command, Func<ParseResult, OrleansQuantClient, string, CancellationToken, Task> action)
    {
        command.SetAction(async (parse, cancellation) =>
        {
            double seconds = parse.GetValue(s_connectTimeout);
            if (!(seconds > 0))
            {
                throw new ArgumentException($"--connect-timeout {seconds}: expected a positive number of seconds");
            }

            var logging = CliLogging.For(parse);
            logging.Announce();

            var (client, host) = await ClusterConnection.ConnectAsync(parse.GetValue(s_gateway), parse.GetValue(s_redis), parse.GetValue(s_clusterId),
                TimeSpan.FromSeconds(seconds), logging, cancellation, ClusterTlsOption.Read(parse));
            using (host)
            {
                await action(parse, client, parse.GetValue(s_name)!, cancellation);
                await host.StopAsync(cancellation);
            }

            return 0;
        });
        return command;
    }
}
