using OrleansQuant.Silo;

return await Cli.RunAsync(args);
