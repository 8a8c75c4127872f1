using OrleansQuant.Model.Calibration;
using OrleansQuant.Model.Tokenization;

namespace OrleansQuant.Model.Tests.Calibration;

public sealed class CalibrationDataTests
{
    private static int[] Ids(params object[] parts) =>
        parts.SelectMany(p => p is string s ? CalibrationFixture.Bytes(s) : [(int)p]).ToArray();

    private static string Key(int[] ids) => string.Join(',', ids);

    [Fact]
    public void Plain_text_paragraphs_are_packed_into_samples_with_bos()
    {
        using var f = new CalibrationFixture();
        string path = f.Write("corpus.txt", "ab\n\ncd\r\n\n  \nef\n");

        var samples = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 10, MaxTokens: 7));

        // "ab" + "\n\n" + "cd" fills 6 of 7 tokens after BOS; "ef" would not fit and starts the next sample.
        var expected = new[] { Ids(0, "ab\n\ncd"), Ids(0, "ef") };
        Assert.Equal(expected.Select(Key).Order(), samples.Select(Key).Order());
    }

    [Fact]
    public void A_paragraph_longer_than_max_tokens_is_cut_and_its_tail_keeps_packing()
    {
        using var f = new CalibrationFixture();
        string path = f.Write("corpus.txt", "abcdefghij\n\nxy\n\nz");

        var samples = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 10, MaxTokens: 4));

        var expected = new[] { Ids(0, "abc"), Ids(0, "def"), Ids(0, "ghi"), Ids(0, "j"), Ids(0, "xy"), Ids(0, "z") };
        Assert.Equal(expected.Select(Key).Order(), samples.Select(Key).Order());
        Assert.All(samples, s => Assert.True(s.Length <= 4));
    }

    [Fact]
    public void Plain_text_takes_the_first_samples_after_the_shuffle()
    {
        using var f = new CalibrationFixture();
        string path = f.Write("corpus.txt", string.Join("\n\n", Enumerable.Range(0, 10).Select(i => $"p{i}")));

        var all = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 100, MaxTokens: 3));
        var some = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 4, MaxTokens: 3));

        Assert.Equal(10, all.Count);
        Assert.Equal(all.Take(4).Select(Key), some.Select(Key));
    }

    [Fact]
    public void Jsonl_text_samples_are_truncated_to_max_tokens()
    {
        using var f = new CalibrationFixture();
        string path = f.Write("data.jsonl", "{\"text\": \"abcdef\"}\n");

        var samples = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 1, MaxTokens: 3));

        Assert.Equal([Ids(0, "ab")], samples);
    }

    [Fact]
    public void The_same_seed_gives_the_same_order_and_another_seed_another()
    {
        using var f = new CalibrationFixture();
        string path = f.Write("data.jsonl", string.Join("\n", Enumerable.Range(0, 20).Select(i => $"{{\"text\": \"line {i}\"}}")));

        var a = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 20, Seed: 42)).Select(Key).ToList();
        var b = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 20, Seed: 42)).Select(Key).ToList();
        var c = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 20, Seed: 7)).Select(Key).ToList();

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(a.Order(), c.Order());
        Assert.Equal(Enumerable.Range(0, 20).Select(i => Key(Ids(0, $"line {i}"))).Order(), a.Order());
    }

    [Fact]
    public void Messages_are_rendered_with_the_chat_template_and_get_one_bos()
    {
        using var f = new CalibrationFixture("{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<gen>{% endif %}");
        string path = f.Write("chat.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}]}\n");

        var samples = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 1));

        Assert.Equal([Ids(0, "<user>hi<assistant>yo")], samples);
    }

    [Fact]
    public void A_template_without_bos_gets_the_tokenizers_bos()
    {
        using var f = new CalibrationFixture("{% for m in messages %}{{ m['role'] | upper }}={{ m['content'] }};{% endfor %}");
        string path = f.Write("chat.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n");

        var samples = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 1));

        Assert.Equal([Ids(0, "USER=hi;")], samples);
    }

    [Fact]
    public void Without_a_chat_template_messages_become_role_colon_content_lines()
    {
        using var f = new CalibrationFixture();
        Assert.Null(f.Tokenizer.ChatTemplate);
        string path = f.Write("chat.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"yo\"}]}\n");

        var samples = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 1));

        Assert.Equal([Ids(0, "user: hi\nassistant: yo\n")], samples);
    }

    [Fact]
    public void Text_and_messages_lines_mix_and_blank_and_empty_lines_are_skipped()
    {
        using var f = new CalibrationFixture();
        string path = f.Write("mixed.jsonl", "{\"text\": \"a\"}\n\n   \n{\"text\": \"\"}\n{\"messages\": []}\n{\"messages\": [{\"role\": \"user\", \"content\": \"b\"}]}\n");

        var samples = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 10));

        Assert.Equal(new[] { Key(Ids(0, "a")), Key(Ids(0, "user: b\n")) }.Order(), samples.Select(Key).Order());
    }

    [Fact]
    public void Fewer_samples_than_asked_are_returned_and_reported()
    {
        using var f = new CalibrationFixture();
        string path = f.Write("data.jsonl", "{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
        var progress = new ListProgress();

        var samples = CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions(Samples: 5), progress);

        Assert.Equal(2, samples.Count);
        Assert.Contains(progress.Lines, l => l.Contains("only 2 samples of the 5 asked for", StringComparison.Ordinal));
        Assert.Contains(progress.Lines, l => l.Contains("2 samples, 4 tokens (length 2..2)", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("empty.jsonl", "")]
    [InlineData("blank.jsonl", "\n  \n{\"text\": \"\"}\n")]
    [InlineData("empty.txt", "\n\n   \n")]
    public void No_samples_at_all_is_an_error_naming_the_file(string name, string content)
    {
        using var f = new CalibrationFixture();
        string path = f.Write(name, content);

        var e = Assert.Throws<ModelFormatException>(() => CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions()));
        Assert.StartsWith($"{path}: holds no non-empty sample", e.Message);
    }

    [Theory]
    [InlineData("{\"text\": \"a\"}\n{not json}\n", 2, "is not valid JSON")]
    [InlineData("{\"text\": \"a\"}\n\n[1, 2]\n", 3, "is a JSON array; expected an object with \"text\" or \"messages\"")]
    [InlineData("{\"prompt\": \"a\"}\n", 1, "has neither \"text\" nor \"messages\"")]
    [InlineData("{\"text\": 5}\n", 1, "field \"text\" is a JSON number; expected a string")]
    [InlineData("{\"messages\": {\"role\": \"user\"}}\n", 1, "field \"messages\" is a JSON object; expected an array")]
    [InlineData("{\"messages\": [{\"role\": \"user\", \"content\": 3}]}\n", 1, "messages[0].content is a JSON number; expected a string")]
    [InlineData("{\"messages\": [{\"content\": \"x\"}]}\n", 1, "messages[0] has no \"role\"; expected a string")]
    [InlineData("{\"messages\": [\"hi\"]}\n", 1, "messages[0] is a JSON string; expected an object")]
    public void Jsonl_errors_name_the_file_and_line(string content, int line, string message)
    {
        using var f = new CalibrationFixture();
        string path = f.Write("bad.jsonl", content);

        var e = Assert.Throws<ModelFormatException>(() => CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions()));
        Assert.StartsWith($"{path}:{line}: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_template_raise_exception_names_the_data_line()
    {
        using var f = new CalibrationFixture("{% for m in messages %}{% if m.role != 'user' %}{{ raise_exception('Only user turns') }}{% endif %}{{ m.content }}{% endfor %}");
        string path = f.Write("chat.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n{\"messages\": [{\"role\": \"bot\", \"content\": \"hi\"}]}\n");

        var e = Assert.Throws<ModelFormatException>(() => CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions()));
        Assert.StartsWith($"{path}:2: messages cannot be rendered with the chat template", e.Message);
        Assert.Contains("Only user turns", e.Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        using var f = new CalibrationFixture();
        string path = Path.Combine(f.Path, "nope.jsonl");
        var e = Assert.Throws<ModelFormatException>(() => CalibrationData.Load(path, f.Tokenizer, new CalibrationOptions()));
        Assert.StartsWith($"{path}: file does not exist", e.Message);
    }

    [Theory]
    [InlineData(0, 2048, "Samples")]
    [InlineData(512, 0, "MaxTokens")]
    public void Options_validation_names_the_field(int samples, int maxTokens, string field)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new CalibrationOptions(samples, maxTokens).Validate());
        Assert.Equal(field, e.ParamName);
        Assert.Contains($"{field} is 0", e.Message);
    }

    [Fact]
    public void Defaults_are_llm_compressors()
    {
        Assert.Equal(new CalibrationOptions(512, 2048, 42), new CalibrationOptions());
    }

    [Fact]
    public void Describe_counts_samples_and_tokens()
    {
        Assert.Equal(new CalibrationSummary(3, 6, 1, 3), CalibrationData.Describe([[1], [1, 2], [1, 2, 3]]));
        Assert.Equal(new CalibrationSummary(0, 0, 0, 0), CalibrationData.Describe([]));
    }
}
