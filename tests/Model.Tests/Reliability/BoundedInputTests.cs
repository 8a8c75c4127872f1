using System.Diagnostics;
using System.Text;
using OrleansQuant.Gpu;
using OrleansQuant.Gpu.Cpu;
using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Checkpoints;
using OrleansQuant.Model.Demo;
using OrleansQuant.Model.Files;
using OrleansQuant.Model.Generation;
using OrleansQuant.Model.Inference;
using OrleansQuant.Model.Quantization;
using OrleansQuant.Model.Recipes;
using OrleansQuant.Model.Tests.Checkpoints;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Tests.Reliability;

/// <summary>Issue 10, "bounded inputs": each reported case, as the user hit it, now refused at once by name.</summary>
public sealed class BoundedInputTests : IDisposable
{
    // The 481-byte recipe: nine levels of nine aliases, 9^9 ≈ 387 million strings when expanded.
    private const string NestedAliases = """
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
        GPTQModifier: {targets: Linear, scheme: W8A8, ignore: *i}
        """;

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    // Case 1
    [Fact]
    public void Case1_a_recipe_of_nested_yaml_aliases_is_refused_at_once_naming_the_recipe_and_line()
    {
        string path = _temp.File("laughs.yaml");
        File.WriteAllText(path, NestedAliases);
        var clock = Stopwatch.StartNew();

        var error = BadInputFiles.WithinSeconds(5, () => Assert.Throws<ModelFormatException>(() => RecipeReader.Load(path)));

        Assert.Equal(path, error.Source);
        Assert.Equal($"{path}: line 1: YAML anchor '&a' is not supported; expected every value written out (aliases can expand a small recipe without bound)", error.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Case1_the_silo_parses_client_recipes_the_same_way_and_refuses_an_alias()
    {
        // What Quantize and RequantizeLayer do with a client's recipe text.
        var error = Assert.Throws<ModelFormatException>(() => RecipeReader.Parse("x: &x 1\ny: *x\nGPTQModifier: {}\n", "recipe"));
        Assert.Equal("recipe: line 1: YAML anchor '&x' is not supported; expected every value written out (aliases can expand a small recipe without bound)", error.Message);
    }

    [Fact]
    public void Case1_deep_nesting_is_refused_before_any_recursion()
    {
        string deep = "GPTQModifier: " + new string('[', 10_000) + new string(']', 10_000);
        var error = Assert.Throws<ModelFormatException>(() => RecipeReader.Parse(deep, "deep.yaml"));
        Assert.Equal($"deep.yaml: line 1: nested more than {RecipeYaml.MaxDepth} levels deep; expected a recipe of stages, groups and modifiers", error.Message);
    }

    // Case 2
    [Fact]
    public void Case2_prompt_plus_max_tokens_beyond_the_context_is_refused()
    {
        var config = DemoModels.Tiny.Config;
        var request = new GenerationRequest([0, 1, 2], 3000, new SamplingOptions(0, 0, 1, null), [1]);

        var error = Assert.Throws<ArgumentException>(() => GenerationLimits.Checked(request, config));
        Assert.Equal("the prompt's 3 tokens plus max_tokens 3000 make 3003, over the model's context of 2048 tokens (config.json max_position_embeddings); expected prompt + max_tokens <= 2048", error.Message);
    }

    [Fact]
    public void Case2_max_tokens_int_max_does_not_overflow_past_the_check()
    {
        var error = Assert.Throws<ArgumentException>(() => GenerationLimits.Check(10, int.MaxValue, 2048));
        Assert.Contains("make 2147483657, over the model's context of 2048 tokens", error.Message);
    }

    [Fact]
    public void Case2_a_request_that_exactly_fills_the_context_is_accepted()
    {
        var request = new GenerationRequest([0, 1], 2046, new SamplingOptions(0, 0, 1, null), [1]);
        Assert.Same(request, GenerationLimits.Checked(request, DemoModels.Tiny.Config));
    }

    [Fact]
    public void Case2_the_kv_cache_never_grows_a_sequence_past_the_context()
    {
        using var device = new CpuDevice();
        using var cache = new PagedKvCache(device, width: 8, maxSequenceLength: 64);
        cache.Extend(1, 64);

        var error = Assert.Throws<InvalidOperationException>(() => cache.Extend(1, 65));
        Assert.Equal("sequence 1: 65 positions exceed the model's context of 64 (max_position_embeddings); expected requests within it", error.Message);
        Assert.Equal(64, cache.Length(1));
    }

    // Case 4
    [Fact]
    public void Case4_a_nan_weight_is_refused_at_load_naming_the_tensor_and_shard()
    {
        string model = _temp.File("poisoned");
        BadInputFiles.CopyModel(TestModels.Directory(DemoModels.Tiny), model);
        string shard = Path.Combine(model, CheckpointFiles.SingleFile);
        BadInputFiles.Poison(shard, "model.layers.2.mlp.up_proj.weight", element: 77, float.NaN);
        using var device = new CpuDevice();

        var error = Assert.Throws<ModelFormatException>(() => CausalLanguageModel.Load(model, device));

        Assert.Equal(shard, error.Source);
        Assert.Equal($"{shard}: tensor 'model.layers.2.mlp.up_proj.weight': element 77 is NaN; expected finite weights (the file is corrupt, or the weights overflowed when saved)", error.Message);
    }

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Case4_the_scan_finds_the_first_nan_or_inf_of_every_float_dtype_in_vector_body_and_tail(TensorDType dtype)
    {
        foreach (int length in new[] { 1, 7, 64, 1000, 4099 })
        {
            var values = Enumerable.Range(0, length).Select(i => (i % 13) - 6.5f).ToArray();
            Assert.Equal(-1, NonFiniteScan.IndexOf(dtype, FloatConversion.FromFloat32(dtype, values)));
            foreach (int at in new[] { 0, length / 2, length - 1 })
            {
                foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    var poisoned = (float[])values.Clone();
                    poisoned[at] = bad;
                    if (at + 1 < length)
                    {
                        poisoned[length - 1] = float.NaN;
                    }

                    Assert.Equal(at, NonFiniteScan.IndexOf(dtype, FloatConversion.FromFloat32(dtype, poisoned)));
                }
            }
        }

        // The largest finite values are not flagged: only an all-ones exponent is.
        float largest = dtype switch { TensorDType.F16 => 65504f, TensorDType.BF16 => 3.3895314e38f, _ => float.MaxValue };
        Assert.Equal(-1, NonFiniteScan.IndexOf(dtype, FloatConversion.FromFloat32(dtype, [largest, -largest])));
    }

    [Fact]
    public void Case4_non_finite_calibration_activations_are_reported_naming_the_layer()
    {
        var config = DemoModels.Tiny.Config;
        using var device = new CpuDevice();
        using var calibration = new LayerCalibration(3, config, device);
        var activations = new float[2 * config.IntermediateSize];
        activations[config.IntermediateSize + 5] = float.PositiveInfinity;
        using var tensor = device.UploadFloats(activations, 2, config.IntermediateSize, TensorType.Float32);
        calibration.Observe(LinearInput.MlpDown, tensor);

        var error = Assert.Throws<ArithmeticException>(() => FiniteActivations.Check(3, calibration));
        Assert.Equal("layer 3: calibration activations entering model.layers.3.mlp.down_proj are infinite in channel 5; expected finite activations (a weight of this or an earlier layer, or the calibration input, overflows)", error.Message);
    }

    // Case 5
    [Fact]
    public void Case5_a_shard_that_is_a_fifo_is_refused_without_hanging()
    {
        string model = _temp.File("fifo-model");
        Directory.CreateDirectory(model);
        string shard = Path.Combine(model, CheckpointFiles.SingleFile);
        BadInputFiles.MakeFifo(shard);

        var error = BadInputFiles.WithinSeconds(5, () => Assert.Throws<ModelFormatException>(() => CheckpointReader.Open(model)));
        Assert.Equal($"{shard}: is a named pipe (FIFO); expected a safetensors file as a regular file", error.Message);
    }

    [Fact]
    public void Case5_an_indexed_shard_that_is_a_fifo_or_a_directory_is_named_as_such()
    {
        string model = _temp.File("index-model");
        Directory.CreateDirectory(model);
        File.WriteAllText(Path.Combine(model, CheckpointFiles.IndexFile), """{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}""");
        string fifo = Path.Combine(model, "model-00001-of-00002.safetensors");
        BadInputFiles.MakeFifo(fifo);
        Directory.CreateDirectory(Path.Combine(model, "model-00002-of-00002.safetensors"));

        var error = BadInputFiles.WithinSeconds(5, () => Assert.Throws<ModelFormatException>(() => CheckpointReader.Open(model)));
        Assert.Equal($"{fifo}: is a named pipe (FIFO); expected a safetensors shard (a regular file), as model.safetensors.index.json names it for tensor a", error.Message);

        File.Delete(fifo);
        Directory.CreateDirectory(fifo);
        var directory = Assert.Throws<ModelFormatException>(() => CheckpointReader.Open(model));
        Assert.Equal($"{fifo}: is a directory; expected a safetensors shard (a regular file), as model.safetensors.index.json names it for tensor a", directory.Message);
    }

    [Fact]
    public void Case5_a_config_that_is_a_directory_is_not_reported_as_missing()
    {
        string model = _temp.File("dir-config");
        Directory.CreateDirectory(Path.Combine(model, "config.json"));

        var error = Assert.Throws<ModelFormatException>(() => ModelCheckpoint.Open(model));
        Assert.Equal($"{model}/config.json: is a directory; expected a Hugging Face config.json as a regular file", error.Message);
    }

    [Fact]
    public void Case5_a_character_device_is_refused_by_kind()
    {
        Assert.Equal(FileKind.CharacterDevice, FileKinds.Of("/dev/zero"));
        var error = Assert.Throws<ModelFormatException>(() => RecipeReader.Load("/dev/zero"));
        Assert.Equal("/dev/zero: is a character device; expected an llm-compressor recipe (YAML or JSON) as a regular file", error.Message);
    }

    // Case 6
    [Theory]
    [InlineData("nul.txt", new byte[] { (byte)'a', (byte)'b', 0, (byte)'c' }, "byte 2 is NUL, so this is a binary file; expected a UTF-8 plain-text corpus")]
    [InlineData("latin1.jsonl", new byte[] { (byte)'{', 0xFF, 0xFE, (byte)'}' }, "byte 1 is not valid UTF-8, so this is not a text file; expected a UTF-8 .jsonl file of {\"text\"} or {\"messages\"} objects")]
    public void Case6_a_binary_calibration_file_is_refused_naming_it(string name, byte[] bytes, string expected)
    {
        string path = _temp.File(name);
        File.WriteAllBytes(path, bytes);
        var tokenizer = ModelTokenizer.Load(TestModels.Directory(DemoModels.Tiny));

        var error = Assert.Throws<ModelFormatException>(() => CalibrationData.Load(path, tokenizer, new CalibrationOptions(Samples: 4, MaxTokens: 16)));
        Assert.Equal($"{path}: {expected}", error.Message);
    }

    [Fact]
    public void Case6_a_utf8_character_cut_by_the_first_block_is_still_text()
    {
        // "é" is two bytes; put it across the 8192-byte boundary.
        var bytes = new byte[TextFileCheck.BlockBytes + 1];
        bytes.AsSpan().Fill((byte)'a');
        Encoding.UTF8.GetBytes("é").CopyTo(bytes, TextFileCheck.BlockBytes - 1);
        string path = _temp.File("cut.txt");
        File.WriteAllBytes(path, bytes);

        TextFileCheck.RequireText(path, "text");
    }

    // Case 7
    [Fact]
    public void Case7_a_recipe_that_quantizes_nothing_is_refused_naming_the_recipe_and_why()
    {
        string path = _temp.File("nothing.yaml");
        File.WriteAllText(path, "GPTQModifier:\n  targets: [Linear]\n  scheme: W8A8\n  ignore: [\"re:.*\"]\n");

        var error = Assert.Throws<ModelFormatException>(() => RecipeReader.Load(path));
        Assert.Equal($"{path}: recipe quantizes no layer: GPTQModifier.ignore ['re:.*'] excludes every linear layer GPTQModifier.targets ['Linear'] select; expected at least one decoder-layer linear to quantize", error.Message);
    }

    // Plus: whole-file reads are bounded
    [Fact]
    public void A_recipe_over_the_size_limit_is_refused_before_it_is_parsed()
    {
        string path = _temp.File("huge.yaml");
        using (var stream = File.Create(path))
        {
            stream.SetLength(InputLimits.Recipe + 1);
        }

        var error = Assert.Throws<ModelFormatException>(() => RecipeReader.Load(path));
        Assert.Equal($"{path}: is {InputLimits.Recipe + 1} bytes, over the {InputLimits.Recipe}-byte limit for an llm-compressor recipe (YAML or JSON)", error.Message);
    }

    [Fact]
    public void A_safetensors_header_over_100_MB_is_refused_as_the_spec_says()
    {
        string path = _temp.File("big-header.safetensors");
        RawSafeTensors.Write(path, "{}", 0, declaredHeaderLength: (ulong)SafeTensorsHeader.MaxHeaderLength + 1);

        // Sparse: the file is long enough for the declared header, so the limit, not the file's end, is what refuses it.
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(8 + SafeTensorsHeader.MaxHeaderLength + 8);
        }

        var error = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal($"{path}: header length {SafeTensorsHeader.MaxHeaderLength + 1} exceeds the {SafeTensorsHeader.MaxHeaderLength}-byte limit of safetensors", error.Message);
    }

    [Fact]
    public void A_config_over_the_size_limit_is_refused()
    {
        string model = _temp.File("big-config");
        Directory.CreateDirectory(model);
        string config = Path.Combine(model, "config.json");
        using (var stream = File.Create(config))
        {
            stream.SetLength(InputLimits.ConfigJson + 1);
        }

        var error = Assert.Throws<ModelFormatException>(() => ModelCheckpoint.Open(model));
        Assert.Equal($"{config}: is {InputLimits.ConfigJson + 1} bytes, over the {InputLimits.ConfigJson}-byte limit for a Hugging Face config.json", error.Message);
    }
}
