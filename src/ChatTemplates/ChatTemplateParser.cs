namespace OrleansQuant.ChatTemplates;

/// <summary>
/// Recursive-descent parser for the Jinja2 subset of Hugging Face chat templates, with Jinja's operator
/// precedence (or &lt; and &lt; not &lt; comparisons &lt; ~ &lt; + - &lt; * / // % &lt; ** &lt; unary &lt; filters and tests &lt; postfix).
/// Unknown tags, filters and tests fail here, at load, rather than when a rare branch first renders.
/// </summary>
internal sealed class ChatTemplateParser
{
    private static readonly string[] ComparisonOperators = ["==", "!=", "<", ">", "<=", ">="];

    private readonly ChatTemplateSource _source;
    private readonly List<ChatTemplateSegment> _segments;
    private int _segment;
    private IReadOnlyList<ChatTemplateToken> _tokens = [];
    private int _token;

    private ChatTemplateParser(ChatTemplateSource source, List<ChatTemplateSegment> segments)
    {
        _source = source;
        _segments = segments;
    }

    public static IReadOnlyList<ChatTemplateNode> Parse(ChatTemplateSource source)
    {
        var parser = new ChatTemplateParser(source, ChatTemplateLexer.Lex(source));
        var (body, _, _) = parser.ParseBody(null, -1);
        return body;
    }

    private ChatTemplateToken Current => _tokens[_token];

    /// <summary>Parses nodes until a statement named in <paramref name="endTags"/>; returns its name and offset.</summary>
    private (List<ChatTemplateNode> Body, string EndTag, int EndOffset) ParseBody(string[]? endTags, int openOffset)
    {
        var body = new List<ChatTemplateNode>();
        while (_segment < _segments.Count)
        {
            var segment = _segments[_segment++];
            switch (segment.Kind)
            {
                case ChatTemplateSegmentKind.Text:
                    body.Add(new TextNode(segment.Offset, segment.Text));
                    break;
                case ChatTemplateSegmentKind.Output:
                    Begin(segment);
                    var value = ParseExpression();
                    ExpectEnd();
                    body.Add(new OutputNode(segment.Offset, value));
                    break;
                default:
                    Begin(segment);
                    var name = Current;
                    if (name.Kind != ChatTemplateTokenKind.Name)
                    {
                        throw _source.Error(name.Offset, $"'{name.Text}' cannot start a statement; expected a tag name such as if, for or set");
                    }

                    if (endTags is not null && endTags.Contains(name.Text))
                    {
                        _token++;
                        return (body, name.Text, name.Offset);
                    }

                    _token++;
                    body.Add(ParseStatement(name));
                    break;
            }
        }

        if (endTags is not null)
        {
            throw _source.Error(openOffset, $"this block is never closed; expected {{% {endTags[^1]} %}}");
        }

        return (body, "", _source.Text.Length);
    }

    private void Begin(ChatTemplateSegment segment)
    {
        _tokens = segment.Tokens;
        _token = 0;
    }

    private ChatTemplateNode ParseStatement(ChatTemplateToken tag)
    {
        switch (tag.Text)
        {
            case "if":
                return ParseIf(tag);
            case "for":
                return ParseFor(tag);
            case "set":
                return ParseSet(tag);
            case "break":
            case "continue":
                ExpectEnd();
                return new LoopControlNode(tag.Offset, tag.Text == "break");
            case "generation":
            {
                ExpectEnd();
                var (body, _, _) = ParseBody(["endgeneration"], tag.Offset);
                ExpectEnd();
                return new BlockNode(tag.Offset, body);
            }

            case "elif" or "else" or "endif" or "endfor" or "endset" or "endgeneration":
                throw _source.Error(tag.Offset, $"'{{% {tag.Text} %}}' has no matching opening tag");
            default:
                throw _source.Error(tag.Offset, $"unknown tag '{{% {tag.Text} %}}'; expected one of if, elif, else, endif, for, endfor, set, endset, break, continue, generation");
        }
    }

    private IfNode ParseIf(ChatTemplateToken tag)
    {
        var branches = new List<(ChatTemplateExpr, IReadOnlyList<ChatTemplateNode>)>();
        var condition = ParseExpression();
        ExpectEnd();
        while (true)
        {
            var (body, end, endOffset) = ParseBody(["elif", "else", "endif"], tag.Offset);
            branches.Add((condition, body));
            if (end == "elif")
            {
                condition = ParseExpression();
                ExpectEnd();
                continue;
            }

            ExpectEnd();
            if (end == "endif")
            {
                return new IfNode(tag.Offset, branches, null);
            }

            var (elseBody, _, _) = ParseBody(["endif"], endOffset);
            ExpectEnd();
            return new IfNode(tag.Offset, branches, elseBody);
        }
    }

    private ForNode ParseFor(ChatTemplateToken tag)
    {
        var targets = new List<string> { ExpectName() };
        while (Accept(","))
        {
            targets.Add(ExpectName());
        }

        Expect("in");

        // The iterable is parsed without a conditional so that a trailing "if" filters the loop, as in Jinja.
        var iterable = ParseOr();
        ChatTemplateExpr? filter = null;
        if (Accept("if"))
        {
            filter = ParseOr();
        }

        if (Current.Is("recursive"))
        {
            throw _source.Error(Current.Offset, "recursive loops are not supported; expected '%}'");
        }

        ExpectEnd();
        var (body, end, endOffset) = ParseBody(["else", "endfor"], tag.Offset);
        ExpectEnd();
        IReadOnlyList<ChatTemplateNode>? elseBody = null;
        if (end == "else")
        {
            (elseBody, _, _) = ParseBody(["endfor"], endOffset);
            ExpectEnd();
        }

        return new ForNode(tag.Offset, targets, iterable, filter, body, elseBody);
    }

    private ChatTemplateNode ParseSet(ChatTemplateToken tag)
    {
        string name = ExpectName();
        string? attribute = null;
        if (Accept("."))
        {
            attribute = ExpectName();
        }

        if (attribute is null && Current.Kind == ChatTemplateTokenKind.End)
        {
            ExpectEnd();
            var (body, _, _) = ParseBody(["endset"], tag.Offset);
            ExpectEnd();
            return new SetBlockNode(tag.Offset, name, body);
        }

        Expect("=");
        var value = ParseExpression();
        ExpectEnd();
        return new SetNode(tag.Offset, name, attribute, value);
    }

    private ChatTemplateExpr ParseExpression()
    {
        var value = ParseOr();
        if (!Current.Is("if"))
        {
            return value;
        }

        int offset = Current.Offset;
        _token++;
        var condition = ParseOr();
        ChatTemplateExpr? otherwise = Accept("else") ? ParseExpression() : null;
        return new ConditionalExpr(offset, condition, value, otherwise);
    }

    private ChatTemplateExpr ParseOr()
    {
        var left = ParseAnd();
        while (Current.Is("or"))
        {
            int offset = Current.Offset;
            _token++;
            left = new BinaryExpr(offset, "or", left, ParseAnd());
        }

        return left;
    }

    private ChatTemplateExpr ParseAnd()
    {
        var left = ParseNot();
        while (Current.Is("and"))
        {
            int offset = Current.Offset;
            _token++;
            left = new BinaryExpr(offset, "and", left, ParseNot());
        }

        return left;
    }

    private ChatTemplateExpr ParseNot()
    {
        if (Current.Is("not"))
        {
            int offset = Current.Offset;
            _token++;
            return new UnaryExpr(offset, "not", ParseNot());
        }

        return ParseCompare();
    }

    private ChatTemplateExpr ParseCompare()
    {
        var first = ParseConcat();
        var rest = new List<(string, ChatTemplateExpr)>();
        while (true)
        {
            var token = Current;
            if (token.Kind == ChatTemplateTokenKind.Operator && ComparisonOperators.Contains(token.Text))
            {
                _token++;
                rest.Add((token.Text, ParseConcat()));
            }
            else if (token.Is("in"))
            {
                _token++;
                rest.Add(("in", ParseConcat()));
            }
            else if (token.Is("not") && Peek(1).Is("in"))
            {
                _token += 2;
                rest.Add(("not in", ParseConcat()));
            }
            else
            {
                break;
            }
        }

        return rest.Count == 0 ? first : new CompareExpr(first.Offset, first, rest);
    }

    private ChatTemplateExpr ParseConcat()
    {
        var left = ParseAdditive();
        while (Current.Kind == ChatTemplateTokenKind.Operator && Current.Text == "~")
        {
            int offset = Current.Offset;
            _token++;
            left = new BinaryExpr(offset, "~", left, ParseAdditive());
        }

        return left;
    }

    private ChatTemplateExpr ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Current.Kind == ChatTemplateTokenKind.Operator && Current.Text is "+" or "-")
        {
            var op = Current;
            _token++;
            left = new BinaryExpr(op.Offset, op.Text, left, ParseMultiplicative());
        }

        return left;
    }

    private ChatTemplateExpr ParseMultiplicative()
    {
        var left = ParsePower();
        while (Current.Kind == ChatTemplateTokenKind.Operator && Current.Text is "*" or "/" or "//" or "%")
        {
            var op = Current;
            _token++;
            left = new BinaryExpr(op.Offset, op.Text, left, ParsePower());
        }

        return left;
    }

    private ChatTemplateExpr ParsePower()
    {
        var left = ParseUnary();
        while (Current.Kind == ChatTemplateTokenKind.Operator && Current.Text == "**")
        {
            var op = Current;
            _token++;
            left = new BinaryExpr(op.Offset, op.Text, left, ParseUnary());
        }

        return left;
    }

    private ChatTemplateExpr ParseUnary()
    {
        var token = Current;
        ChatTemplateExpr value;
        if (token.Kind == ChatTemplateTokenKind.Operator && token.Text is "-" or "+")
        {
            _token++;
            value = new UnaryExpr(token.Offset, token.Text, ParseUnary());
        }
        else
        {
            value = ParsePostfix(ParsePrimary());
        }

        return ParseFiltersAndTests(value);
    }

    private ChatTemplateExpr ParseFiltersAndTests(ChatTemplateExpr value)
    {
        while (true)
        {
            if (Current.Kind == ChatTemplateTokenKind.Operator && Current.Text == "|")
            {
                _token++;
                var name = Current;
                string filter = ExpectName();
                if (!ChatTemplateFilters.IsKnown(filter))
                {
                    throw _source.Error(name.Offset, $"unknown filter '{filter}'; expected one of {string.Join(", ", ChatTemplateFilters.Names)}");
                }

                var arguments = Current.Is("(") ? ParseArguments() : ChatTemplateArguments.None;
                value = ParsePostfix(new FilterExpr(name.Offset, value, filter, arguments));
            }
            else if (Current.Is("is"))
            {
                _token++;
                bool negated = Accept("not");
                var name = Current;
                string test = ExpectName();
                if (!ChatTemplatePredicates.IsKnown(test))
                {
                    throw _source.Error(name.Offset, $"unknown test '{test}'; expected one of {string.Join(", ", ChatTemplatePredicates.Names)}");
                }

                ChatTemplateArguments arguments;
                if (Current.Is("("))
                {
                    arguments = ParseArguments();
                }
                else if (Current.Kind is ChatTemplateTokenKind.String or ChatTemplateTokenKind.Integer or ChatTemplateTokenKind.Float)
                {
                    arguments = new ChatTemplateArguments([ParsePrimary()], []);
                }
                else
                {
                    arguments = ChatTemplateArguments.None;
                }

                value = new TestExpr(name.Offset, value, test, negated, arguments);
            }
            else
            {
                return value;
            }
        }
    }

    private ChatTemplateExpr ParsePostfix(ChatTemplateExpr value)
    {
        while (true)
        {
            var token = Current;
            if (token.Is("."))
            {
                _token++;
                var name = Current;
                if (name.Kind == ChatTemplateTokenKind.Integer)
                {
                    _token++;
                    value = new IndexExpr(name.Offset, value, new LiteralExpr(name.Offset, name.Value));
                }
                else
                {
                    value = new AttributeExpr(name.Offset, value, ExpectName());
                }
            }
            else if (token.Is("["))
            {
                _token++;
                value = ParseSubscript(token.Offset, value);
            }
            else if (token.Is("("))
            {
                value = new CallExpr(token.Offset, value, ParseArguments());
            }
            else
            {
                return value;
            }
        }
    }

    private ChatTemplateExpr ParseSubscript(int offset, ChatTemplateExpr target)
    {
        ChatTemplateExpr? start = Current.Is(":") ? null : ParseExpression();
        if (Accept("]"))
        {
            return new IndexExpr(offset, target, start!);
        }

        Expect(":");
        ChatTemplateExpr? stop = Current.Is(":") || Current.Is("]") ? null : ParseExpression();
        ChatTemplateExpr? step = null;
        if (Accept(":") && !Current.Is("]"))
        {
            step = ParseExpression();
        }

        Expect("]");
        return new SliceExpr(offset, target, start, stop, step);
    }

    private ChatTemplateArguments ParseArguments()
    {
        Expect("(");
        var positional = new List<ChatTemplateExpr>();
        var named = new List<(string, ChatTemplateExpr)>();
        while (!Accept(")"))
        {
            if (Current.Kind == ChatTemplateTokenKind.Name && Peek(1).Is("="))
            {
                string name = Current.Text;
                _token += 2;
                named.Add((name, ParseExpression()));
            }
            else
            {
                if (named.Count > 0)
                {
                    throw _source.Error(Current.Offset, "a positional argument follows a keyword argument; expected name=value");
                }

                positional.Add(ParseExpression());
            }

            if (!Current.Is(")"))
            {
                Expect(",");
            }
        }

        return new ChatTemplateArguments(positional, named);
    }

    private ChatTemplateExpr ParsePrimary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case ChatTemplateTokenKind.String:
            {
                _token++;
                string text = (string)token.Value!;

                // Adjacent string literals concatenate, as in Python.
                while (Current.Kind == ChatTemplateTokenKind.String)
                {
                    text += (string)Current.Value!;
                    _token++;
                }

                return new LiteralExpr(token.Offset, text);
            }

            case ChatTemplateTokenKind.Integer:
            case ChatTemplateTokenKind.Float:
                _token++;
                return new LiteralExpr(token.Offset, token.Value);
            case ChatTemplateTokenKind.Name:
                _token++;
                return token.Text switch
                {
                    "true" or "True" => new LiteralExpr(token.Offset, true),
                    "false" or "False" => new LiteralExpr(token.Offset, false),
                    "none" or "None" => new LiteralExpr(token.Offset, null),
                    _ => new NameExpr(token.Offset, token.Text),
                };
            case ChatTemplateTokenKind.Operator when token.Text == "(":
            {
                _token++;
                var inner = ParseExpression();
                if (Current.Is(","))
                {
                    // A tuple; it behaves as a list here since templates only read it.
                    var items = new List<ChatTemplateExpr> { inner };
                    while (Accept(",") && !Current.Is(")"))
                    {
                        items.Add(ParseExpression());
                    }

                    inner = new ListExpr(token.Offset, items);
                }

                Expect(")");
                return inner;
            }

            case ChatTemplateTokenKind.Operator when token.Text == "[":
            {
                _token++;
                var items = new List<ChatTemplateExpr>();
                while (!Accept("]"))
                {
                    items.Add(ParseExpression());
                    if (!Current.Is("]"))
                    {
                        Expect(",");
                    }
                }

                return new ListExpr(token.Offset, items);
            }

            case ChatTemplateTokenKind.Operator when token.Text == "{":
            {
                _token++;
                var entries = new List<(ChatTemplateExpr, ChatTemplateExpr)>();
                while (!Accept("}"))
                {
                    var key = ParseExpression();
                    Expect(":");
                    entries.Add((key, ParseExpression()));
                    if (!Current.Is("}"))
                    {
                        Expect(",");
                    }
                }

                return new DictExpr(token.Offset, entries);
            }

            default:
                throw _source.Error(token.Offset, $"unexpected '{token.Text}'; expected an expression");
        }
    }

    private ChatTemplateToken Peek(int ahead) => _tokens[Math.Min(_token + ahead, _tokens.Count - 1)];

    private bool Accept(string text)
    {
        if (Current.Kind != ChatTemplateTokenKind.String && Current.Is(text))
        {
            _token++;
            return true;
        }

        return false;
    }

    private void Expect(string text)
    {
        if (!Accept(text))
        {
            throw _source.Error(Current.Offset, $"unexpected '{Current.Text}'; expected '{text}'");
        }
    }

    private string ExpectName()
    {
        var token = Current;
        if (token.Kind != ChatTemplateTokenKind.Name)
        {
            throw _source.Error(token.Offset, $"unexpected '{token.Text}'; expected a name");
        }

        _token++;
        return token.Text;
    }

    private void ExpectEnd()
    {
        if (Current.Kind != ChatTemplateTokenKind.End)
        {
            throw _source.Error(Current.Offset, $"unexpected '{Current.Text}'; expected the end of the tag");
        }
    }
}
