using OrleansQuant.ChatTemplates;

namespace OrleansQuant.ChatTemplates.Tests;

/// <summary>
/// Language features one at a time. Every expected string is what Jinja2 3.1 renders for the same template with
/// transformers' environment (trim_blocks, lstrip_blocks, loopcontrols), so the two renderers agree byte for byte.
/// </summary>
public sealed class ChatTemplateFeatureTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new("system", " Be brief. "),
        new("user", "Hi there"),
        new("assistant", "Hello"),
    ];

    [Theory]
    [InlineData("{% for m in messages %}{{ loop.index0 }}/{{ loop.index }}/{{ loop.length }}:{{ m.role }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %};{% endfor %}", "0/1/3:systemF;1/2/3:user;2/3/3:assistantL;")]
    [InlineData("{% set ns = namespace(n=0, s='') %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% set ns.s = ns.s ~ m['role'][0] %}{% endfor %}{{ ns.n }} {{ ns.s }}", "3 sua")]
    [InlineData("{% set x = 1 %}{% for m in messages %}{% set x = 5 %}{% endfor %}{{ x }}", "1")]
    [InlineData("{{ messages[1:] | length }} {{ messages[-1].content }} {{ 'abcdef'[1:4] }} {{ 'abcdef'[::-1] }} {{ [1,2,3][:-1] }}", "2 Hello bcd fedcba [1, 2]")]
    [InlineData("{{ messages[0].content | trim | upper }}|{{ 'MiXed' | lower }}|{{ undefined_thing | default('dflt') }}|{{ '' | default('e', true) }}", "BE BRIEF.|mixed|dflt|e")]
    [InlineData("{{ {'a': [1, 2.5, none, true], 'b': 'x\"y\\n'} | tojson }}|{{ [1, {'k': 'v'}] | tojson(indent=2) }}", "{\"a\": [1, 2.5, null, true], \"b\": \"x\\\"y\\n\"}|[\n  1,\n  {\n    \"k\": \"v\"\n  }\n]")]
    [InlineData("{{ ' pad '.strip() }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x','c')) }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}", "pad|True|True|['a', 'b', '', 'c']|['a', 'b']")]
    [InlineData("{{ 7 // 2 }} {{ 7 / 2 }} {{ -7 % 3 }} {{ 2 * 3 + 1 }} {{ 2 ** 10 }} {{ 1 - 2 - 3 }} {{ 'a' ~ 1 ~ none }}", "3 3.5 2 7 1024 -4 a1None")]
    [InlineData("{{ 'b' in 'abc' }} {{ 'z' not in ['a'] }} {{ 'role' in messages[0] }} {{ 1 < 2 <= 2 }} {{ not true or false }} {{ true and 'x' }}", "True True True True False x")]
    [InlineData("{{ x is defined }} {{ none is none }} {{ 'a' is string }} {{ 1 is not string }} {{ messages[0] is mapping }} {{ 3 is odd }} {{ 4 is divisibleby 2 }}", "False True True True True True True")]
    [InlineData("{{ 'yes' if messages else 'no' }} {{ 'yes' if [] else 'no' }}", "yes no")]
    [InlineData("a\n  {%- if true %}\n    b\n  {% endif %}\n  c {{- ' d' }}  \n{{ 'e' -}}   f\n{# comment #}\ng\n", "a    b\n  c d  \nef\ng")]
    [InlineData("{% for k, v in {'x': 1, 'y': 2} | items %}{{ k }}={{ v }}{% if not loop.last %},{% endif %}{% endfor %}", "x=1,y=2")]
    [InlineData("{{ messages | selectattr('role', 'equalto', 'user') | list | length }} {{ ['a','b','code'] | reject('equalto', 'code') | join(', ') }} {{ messages | map(attribute='role') | join('/') }}", "1 a, b system/user/assistant")]
    [InlineData("{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}", "02")]
    [InlineData("{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{% else %}none{% endfor %}{% for z in [] %}x{% else %}empty{% endfor %}", "1user2assistantempty")]
    [InlineData("{{ 1 == 1.0 }} {{ [1] + [2] }} {{ 'x' * 3 }} {{ none }} {{ true }} {{ 1.5 }} {{ 2.0 }} {{ messages[9] is defined }}", "True [1, 2] xxx None True 1.5 2.0 False")]
    [InlineData("{% set greeting %}Hi {{ messages[1].content }}{% endset %}[{{ greeting }}]", "[Hi Hi there]")]
    [InlineData("{{ \"it's\" }} {{ 'tab\\there' }} {{ ('a', 'b') | join }}", "it's tab\there ab")]
    [InlineData("  {% if true %}\n    x\n  {%+ if true %}y{% endif %}\n{% endif %}", "    x\n  y")]
    public void Renders_like_jinja2(string template, string expected)
    {
        Assert.Equal(expected, ChatTemplate.Parse(template, "test").Render(Conversation, addGenerationPrompt: false, bosToken: null, eosToken: null));
    }
}
