using CsCheck;
using OrleansQuant.Model.Generation;

namespace OrleansQuant.Model.Tests.Fuzz;

/// <summary>Generate requests of any size: accepted exactly when prompt + max_tokens fits the context, else refused by name.</summary>
public sealed class GenerationLimitsFuzzTests
{
    [Fact]
    public void A_request_is_accepted_exactly_when_it_fits_the_context() =>
        Gen.Select(Gen.OneOf(Gen.Int[0, 4096], Gen.Int[0, int.MaxValue]), Gen.OneOf(Gen.Int[1, 4096], Gen.Int[1, int.MaxValue]), Gen.Int[1, 1 << 13]).Sample(
            (prompt, maxTokens, context) =>
            {
                bool fits = (long)prompt + maxTokens <= context;
                var error = Record.Exception(() => GenerationLimits.Check(prompt, maxTokens, context));
                if (fits)
                {
                    Assert.Null(error);
                }
                else
                {
                    var refused = Assert.IsType<ArgumentException>(error);
                    Assert.Contains($"over the model's context of {context} tokens", refused.Message);
                }
            },
            iter: FuzzRules.Cases);
}
