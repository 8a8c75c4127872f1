using System.Text;
using System.Text.Json;
using OrleansQuant.Model.Demo;

namespace OrleansQuant.Model.Tokenization;

/// <summary>
/// The tokenizer of a Hugging Face model directory, as the model runtime uses it: tokenizer.json (byte-level
/// BPE: GPT-2, Llama 3, Qwen2) or else tokenizer.model (SentencePiece BPE: Llama 2, Mistral), with BOS/EOS
/// and the chat template from tokenizer_config.json. Immutable after <see cref="Load"/>; safe to share across threads.
/// </summary>
public sealed class ModelTokenizer
{
    public const string TokenizerJsonFile = "tokenizer.json";
    public const string SentencePieceModelFile = "tokenizer.model";
    public const string TokenizerConfigFile = "tokenizer_config.json";

    private readonly ITokenizerBackend _backend;

    private ModelTokenizer(ITokenizerBackend backend, int? bosId, int? eosId, bool addBos, bool addEos, string? chatTemplate)
    {
        _backend = backend;
        BosId = bosId;
        EosId = eosId;
        AddBos = addBos;
        AddEos = addEos;
        ChatTemplate = chatTemplate;
    }

    public int? BosId { get; }

    public int? EosId { get; }

    /// <summary>Whether <see cref="Encode"/> prepends <see cref="BosId"/> by default.</summary>
    public bool AddBos { get; }

    /// <summary>Whether <see cref="Encode"/> appends <see cref="EosId"/> (tokenizer_config.json add_eos_token).</summary>
    public bool AddEos { get; }

    /// <summary>The Jinja chat template from tokenizer_config.json, unrendered.</summary>
    public string? ChatTemplate { get; }

    /// <summary>Highest token id + 1, added tokens included: the embedding rows the ids can address.</summary>
    public int VocabSize => _backend.VocabSize;

    public static ModelTokenizer Load(string modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        if (SyntheticModels.Find(modelDirectory) is { } synthetic)
        {
            // Generated weights come without a vocabulary: ids in and out, and a clear refusal of text.
            var shape = synthetic.Config;
            return new ModelTokenizer(new IdsOnlyTokenizerBackend(SyntheticModels.Prefix + synthetic.Name, shape.VocabSize),
                shape.BosTokenId, shape.EosTokenIds.Count > 0 ? shape.EosTokenIds[0] : null, addBos: false, addEos: false, chatTemplate: null);
        }

        if (!Directory.Exists(modelDirectory))
        {
            throw new ModelFormatException(modelDirectory, $"directory not found; expected a model directory with {TokenizerJsonFile} or {SentencePieceModelFile}");
        }

        string jsonPath = Path.Combine(modelDirectory, TokenizerJsonFile);
        string spPath = Path.Combine(modelDirectory, SentencePieceModelFile);
        string configPath = Path.Combine(modelDirectory, TokenizerConfigFile);

        ITokenizerBackend backend;
        string backendSource;
        if (File.Exists(jsonPath))
        {
            using var document = ParseJson(jsonPath);

            // Llama 2 and Mistral ship a SentencePiece-style tokenizer.json beside tokenizer.model; the latter is
            // the one Microsoft.ML.Tokenizers reads exactly.
            if (TokenizerJsonReader.IsSentencePieceStyle(document.RootElement) && File.Exists(spPath))
            {
                (backend, backendSource) = (new SentencePieceBackend(spPath), spPath);
            }
            else
            {
                (backend, backendSource) = (ReadByteLevelBpe(jsonPath, document.RootElement), jsonPath);
            }
        }
        else if (File.Exists(spPath))
        {
            (backend, backendSource) = (new SentencePieceBackend(spPath), spPath);
        }
        else
        {
            throw new ModelFormatException(modelDirectory, $"no tokenizer found; expected {TokenizerJsonFile} (byte-level BPE) or {SentencePieceModelFile} (SentencePiece)");
        }

        var config = File.Exists(configPath) ? TokenizerConfig.Read(configPath) : TokenizerConfig.Empty;

        string? bosToken = config.HasBosToken ? config.BosToken : backend.DefaultBosToken;
        string? eosToken = config.HasEosToken ? config.EosToken : backend.DefaultEosToken;
        int? bosId = ResolveId(backend, bosToken, config.HasBosToken ? configPath : backendSource, "bos_token");
        int? eosId = ResolveId(backend, eosToken, config.HasEosToken ? configPath : backendSource, "eos_token");
        bool addBos = config.AddBosToken ?? backend.DefaultAddBos;
        bool addEos = config.AddEosToken ?? backend.DefaultAddEos;

        if (addBos && bosId is null)
        {
            throw new ModelFormatException(config.AddBosToken is null ? backendSource : configPath, "add_bos_token is true but there is no bos_token; expected a bos_token or add_bos_token false");
        }

        if (addEos && eosId is null)
        {
            throw new ModelFormatException(config.AddEosToken is null ? backendSource : configPath, "add_eos_token is true but there is no eos_token; expected an eos_token or add_eos_token false");
        }

        return new ModelTokenizer(backend, bosId, eosId, addBos, addEos, config.ChatTemplate);
    }

    /// <summary>
    /// Token ids of <paramref name="text"/>. BOS is prepended when <paramref name="addBos"/> (default
    /// <see cref="AddBos"/>) is set, and only if the text did not already start with it, e.g. from a rendered
    /// chat template, because a doubled BOS measurably changes the model's output.
    /// </summary>
    public IReadOnlyList<int> Encode(string text, bool? addBos = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = _backend.Encode(text);
        if (addBos ?? AddBos)
        {
            int bos = BosId ?? throw new InvalidOperationException("this tokenizer has no BOS token to add");
            if (ids.Count == 0 || ids[0] != bos)
            {
                ids.Insert(0, bos);
            }
        }

        if (AddEos && EosId is int eos && (ids.Count == 0 || ids[^1] != eos))
        {
            ids.Add(eos);
        }

        return ids;
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return _backend.Decode(ids, skipSpecialTokens);
    }

    /// <summary>
    /// The text of one token for streaming, special tokens included and spaces kept (SentencePiece '▁' → ' ').
    /// A byte-level token may hold part of a UTF-8 character, which comes out as U+FFFD here; a streamer that
    /// must not split characters feeds <see cref="TokenBytes"/> to a <see cref="Decoder"/> instead.
    /// </summary>
    public string DecodeToken(int id) => Encoding.UTF8.GetString(_backend.TokenBytes(id));

    /// <summary>The UTF-8 bytes one token stands for.</summary>
    public ReadOnlyMemory<byte> TokenBytes(int id) => _backend.TokenBytes(id);

    // The reader checks the fields it knows; a field of the wrong JSON type deeper down, or data the tokenizers
    // library rejects, still surfaces as a refusal naming the file rather than an InvalidOperationException.
    private static ByteLevelBpeBackend ReadByteLevelBpe(string path, JsonElement root)
    {
        try
        {
            return new ByteLevelBpeBackend(TokenizerJsonReader.Read(path, root));
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException)
        {
            throw new ModelFormatException(path, $"cannot be read as a byte-level BPE tokenizer ({ex.Message}); expected the tokenizers library's tokenizer.json layout", ex);
        }
    }

    private static JsonDocument ParseJson(string path)
    {
        try
        {
            var document = JsonDocument.Parse(Files.InputFile.ReadAllBytes(path, Files.InputLimits.TokenizerJson, "a tokenizers library tokenizer.json"), new JsonDocumentOptions { AllowTrailingCommas = true });
            try
            {
                Files.JsonStrings.RequireValid(document.RootElement, path);
                return document;
            }
            catch
            {
                document.Dispose();
                throw;
            }
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"is not valid JSON ({e.Message}); expected a tokenizers library file", e);
        }
    }

    private static int? ResolveId(ITokenizerBackend backend, string? token, string source, string field)
    {
        if (token is null)
        {
            return null;
        }

        return backend.TryGetId(token, out int id)
            ? id
            : throw new ModelFormatException(source, $"{field} \"{token}\" is not in the vocabulary; expected a token of this tokenizer");
    }
}
