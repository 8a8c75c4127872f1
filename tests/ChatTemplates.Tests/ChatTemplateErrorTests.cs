using OrleansQuant.ChatTemplates;

namespace OrleansQuant.ChatTemplates.Tests;

public sealed class ChatTemplateErrorTests
{
    private static ChatTemplateException ParseError(string template) =>
        Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(template, "cfg.json"));

    private static ChatTemplateException RenderError(string template) =>
        Assert.Throws<ChatTemplateException>(() => ChatTemplate.Parse(template, "cfg.json").Render([new("user", "hi")], false, null, null));

    [Fact]
    public void Unknown_tag_names_the_tag_and_its_line_and_column()
    {
        var e = ParseError("Hello\n  {% macro greet() %}x{% endmacro %}");
        Assert.StartsWith("cfg.json: chat_template at 2:6:", e.Message);
        Assert.Contains("unknown tag '{% macro %}'", e.Message);
    }

    [Fact]
    public void Unknown_filter_names_the_filter_and_position()
    {
        var e = ParseError("{{ messages | shout }}");
        Assert.StartsWith("cfg.json: chat_template at 1:15:", e.Message);
        Assert.Contains("unknown filter 'shout'", e.Message);
    }

    [Fact]
    public void Unknown_test_is_rejected()
    {
        Assert.Contains("unknown test 'shiny'", ParseError("{% if x is shiny %}{% endif %}").Message);
    }

    [Fact]
    public void Unclosed_block_names_the_expected_end_tag()
    {
        var e = ParseError("{% for m in messages %}\n{{ m }}");
        Assert.Contains("at 1:4", e.Message);
        Assert.Contains("{% endfor %}", e.Message);
    }

    [Fact]
    public void Stray_end_tag_is_rejected()
    {
        Assert.Contains("'{% endif %}' has no matching opening tag", ParseError("a{% endif %}").Message);
    }

    [Theory]
    [InlineData("{{ 'abc }}", "string literal is never closed")]
    [InlineData("{{ x ", "is never closed")]
    [InlineData("{# note", "comment '{#' is never closed")]
    [InlineData("{{ 1 + }}", "expected an expression")]
    [InlineData("{{ a b }}", "expected the end of the tag")]
    [InlineData("{{ a ; b }}", "unexpected character ';'")]
    public void Syntax_errors_say_what_was_expected(string template, string message)
    {
        Assert.Contains(message, ParseError(template).Message);
    }

    [Fact]
    public void Raise_exception_keeps_the_templates_message()
    {
        Assert.Equal("cfg.json: nope", RenderError("{{ raise_exception('nope') }}").Message);
    }

    [Fact]
    public void Run_time_type_errors_name_the_position()
    {
        var e = RenderError("{{ 'a' + 1 }}");
        Assert.Contains("at 1:8", e.Message);
        Assert.Contains("a string and an integer", e.Message);
    }

    [Fact]
    public void Reading_through_an_undefined_name_fails()
    {
        Assert.Contains("'nothing' is undefined", RenderError("{{ nothing.field }}").Message);
    }

    [Fact]
    public void Setting_an_attribute_of_a_non_namespace_fails()
    {
        Assert.Contains("is not a namespace", RenderError("{% set x = 1 %}{% set x.y = 2 %}").Message);
    }

    [Fact]
    public void Globals_are_defined_and_tokens_may_be_absent()
    {
        var template = ChatTemplate.Parse("{{ bos_token }}|{{ tools is none }}|{{ date_string }}|{{ strftime_now is defined }}|{{ eos_token }}", "t");
        Assert.Equal("|True|26 Jul 2024|True|</s>", template.Render([], false, null, "</s>"));
    }
}
