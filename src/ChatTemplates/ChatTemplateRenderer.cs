using System.Text;

namespace OrleansQuant.ChatTemplates;

/// <summary>
/// Executes a parsed chat template. Scoping follows Jinja: a for-loop iteration gets its own scope, so a
/// <c>{% set %}</c> inside it is gone after the iteration, while if-blocks share the enclosing scope.
/// </summary>
internal sealed class ChatTemplateRenderer
{
    // Templates are data from a model directory; these bound what a hostile one can make us do.
    private const int MaxOutputChars = 64 * 1024 * 1024;
    private const int MaxLoopIterations = 1_000_000;

    private readonly ChatTemplateSource _source;
    private readonly StringBuilder _output = new();
    private readonly List<Dictionary<string, object?>> _scopes = [];
    private long _iterations;

    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    public ChatTemplateRenderer(ChatTemplateSource source, Dictionary<string, object?> globals)
    {
        _source = source;
        _scopes.Add(globals);
        _scopes.Add(new Dictionary<string, object?>(StringComparer.Ordinal));
    }

    public string Render(IReadOnlyList<ChatTemplateNode> nodes)
    {
        Execute(nodes, _output);
        return _output.ToString();
    }

    private Flow Execute(IReadOnlyList<ChatTemplateNode> nodes, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            var flow = Execute(node, output);
            if (flow != Flow.Normal)
            {
                return flow;
            }

            if (output.Length > MaxOutputChars)
            {
                throw _source.Error(node.Offset, $"the rendered text passed {MaxOutputChars} characters; expected a chat prompt");
            }
        }

        return Flow.Normal;
    }

    private Flow Execute(ChatTemplateNode node, StringBuilder output)
    {
        switch (node)
        {
            case TextNode text:
                output.Append(text.Text);
                return Flow.Normal;
            case OutputNode print:
                output.Append(ChatTemplateValues.ToText(Evaluate(print.Value)));
                return Flow.Normal;
            case IfNode branch:
                foreach (var (condition, body) in branch.Branches)
                {
                    if (ChatTemplateValues.IsTruthy(Evaluate(condition)))
                    {
                        return Execute(body, output);
                    }
                }

                return branch.Else is null ? Flow.Normal : Execute(branch.Else, output);
            case ForNode loop:
                ExecuteFor(loop, output);
                return Flow.Normal;
            case SetNode set:
                Assign(set);
                return Flow.Normal;
            case SetBlockNode setBlock:
            {
                var captured = new StringBuilder();
                Execute(setBlock.Body, captured);
                _scopes[^1][setBlock.Name] = captured.ToString();
                return Flow.Normal;
            }

            case BlockNode block:
                return Execute(block.Body, output);
            case LoopControlNode control:
                return control.IsBreak ? Flow.Break : Flow.Continue;
            default:
                throw _source.Error(node.Offset, $"cannot execute {node.GetType().Name}");
        }
    }

    private void Assign(SetNode set)
    {
        var value = Evaluate(set.Value);
        if (set.Attribute is null)
        {
            _scopes[^1][set.Name] = value;
            return;
        }

        if (Lookup(set.Name) is not ChatTemplateNamespace ns)
        {
            throw _source.Error(set.Offset, $"cannot set '{set.Name}.{set.Attribute}': '{set.Name}' is not a namespace; expected {set.Name} = namespace(...)");
        }

        ns.Attributes[set.Attribute] = value;
    }

    private void ExecuteFor(ForNode loop, StringBuilder output)
    {
        var iterable = Evaluate(loop.Iterable);
        var items = ChatTemplateValues.Iterate(iterable)
            ?? throw _source.Error(loop.Iterable.Offset, $"cannot loop over {ChatTemplateValues.TypeName(iterable)}; expected a list, mapping or string");

        if (loop.Filter is not null)
        {
            var kept = new List<object?>();
            foreach (var item in items)
            {
                _scopes.Add(new Dictionary<string, object?>(StringComparer.Ordinal));
                Bind(loop, item);
                if (ChatTemplateValues.IsTruthy(Evaluate(loop.Filter)))
                {
                    kept.Add(item);
                }

                _scopes.RemoveAt(_scopes.Count - 1);
            }

            items = kept;
        }

        if (items.Count == 0)
        {
            if (loop.Else is not null)
            {
                Execute(loop.Else, output);
            }

            return;
        }

        for (int i = 0; i < items.Count; i++)
        {
            if (++_iterations > MaxLoopIterations)
            {
                throw _source.Error(loop.Offset, $"loops ran more than {MaxLoopIterations} iterations; expected a chat prompt");
            }

            var scope = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["loop"] = new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["index0"] = (long)i,
                    ["index"] = (long)(i + 1),
                    ["revindex0"] = (long)(items.Count - i - 1),
                    ["revindex"] = (long)(items.Count - i),
                    ["first"] = i == 0,
                    ["last"] = i == items.Count - 1,
                    ["length"] = (long)items.Count,
                    ["previtem"] = i > 0 ? items[i - 1] : new ChatTemplateUndefined("loop.previtem"),
                    ["nextitem"] = i < items.Count - 1 ? items[i + 1] : new ChatTemplateUndefined("loop.nextitem"),
                },
            };
            _scopes.Add(scope);
            Bind(loop, items[i]);
            var flow = Execute(loop.Body, output);
            _scopes.RemoveAt(_scopes.Count - 1);
            if (flow == Flow.Break)
            {
                break;
            }
        }
    }

    private void Bind(ForNode loop, object? item)
    {
        var scope = _scopes[^1];
        if (loop.Targets.Count == 1)
        {
            scope[loop.Targets[0]] = item;
            return;
        }

        if (item is not List<object?> parts || parts.Count != loop.Targets.Count)
        {
            throw _source.Error(loop.Offset, $"cannot unpack {ChatTemplateValues.TypeName(item)} into {loop.Targets.Count} names; expected a sequence of {loop.Targets.Count}");
        }

        for (int i = 0; i < parts.Count; i++)
        {
            scope[loop.Targets[i]] = parts[i];
        }
    }

    private object? Lookup(string name)
    {
        for (int i = _scopes.Count - 1; i >= 0; i--)
        {
            if (_scopes[i].TryGetValue(name, out var value))
            {
                return value;
            }
        }

        return new ChatTemplateUndefined(name);
    }

    private ChatTemplateCall Call(int offset, string callee, ChatTemplateArguments arguments)
    {
        var positional = arguments.Positional.Select(Evaluate).ToList();
        var named = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in arguments.Named)
        {
            named[name] = Evaluate(value);
        }

        return new ChatTemplateCall(_source, offset, callee, positional, named);
    }

    private object? Evaluate(ChatTemplateExpr expr)
    {
        switch (expr)
        {
            case LiteralExpr literal:
                return literal.Value;
            case NameExpr name:
                return Lookup(name.Name);
            case ListExpr list:
                return list.Items.Select(Evaluate).ToList();
            case DictExpr dict:
            {
                var result = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (keyExpr, valueExpr) in dict.Entries)
                {
                    var key = Evaluate(keyExpr) as string ?? throw _source.Error(keyExpr.Offset, "a mapping key must be a string here; expected a string literal");
                    result[key] = Evaluate(valueExpr);
                }

                return result;
            }

            case AttributeExpr attribute:
                return Member(Evaluate(attribute.Target), attribute.Name, attribute.Offset, Describe(attribute));
            case IndexExpr index:
                return Member(Evaluate(index.Target), Evaluate(index.Index), index.Offset, Describe(index));
            case SliceExpr slice:
                return Slice(slice);
            case CallExpr call:
                return Invoke(call);
            case FilterExpr filter:
                return ChatTemplateFilters.Apply(filter.Name, Evaluate(filter.Value), Call(filter.Offset, $"filter '{filter.Name}'", filter.Arguments));
            case TestExpr test:
            {
                bool result = ChatTemplatePredicates.Apply(test.Name, Evaluate(test.Value), Call(test.Offset, $"test '{test.Name}'", test.Arguments));
                return result != test.Negated;
            }

            case UnaryExpr unary:
                return Unary(unary);
            case BinaryExpr { Operator: "and" } and:
            {
                var left = Evaluate(and.Left);
                return ChatTemplateValues.IsTruthy(left) ? Evaluate(and.Right) : left;
            }

            case BinaryExpr { Operator: "or" } or:
            {
                var left = Evaluate(or.Left);
                return ChatTemplateValues.IsTruthy(left) ? left : Evaluate(or.Right);
            }

            case BinaryExpr binary:
                return ChatTemplateOperators.Binary(binary.Operator, Evaluate(binary.Left), Evaluate(binary.Right), Call(binary.Offset, $"'{binary.Operator}'", ChatTemplateArguments.None));
            case CompareExpr compare:
                return Compare(compare);
            case ConditionalExpr conditional:
                return ChatTemplateValues.IsTruthy(Evaluate(conditional.Condition))
                    ? Evaluate(conditional.Then)
                    : conditional.Else is null ? new ChatTemplateUndefined("else branch") : Evaluate(conditional.Else);
            default:
                throw _source.Error(expr.Offset, $"cannot evaluate {expr.GetType().Name}");
        }
    }

    private object? Member(object? target, object? key, int offset, string description)
    {
        if (target is ChatTemplateUndefined undefined)
        {
            throw _source.Error(offset, $"'{undefined.Name}' is undefined, so '{description}' cannot be read; expected a mapping or list");
        }

        return ChatTemplateValues.Lookup(target, key, description);
    }

    private object? Unary(UnaryExpr unary)
    {
        var value = Evaluate(unary.Operand);
        return unary.Operator switch
        {
            "not" => !ChatTemplateValues.IsTruthy(value),
            "-" when value is long l => -l,
            "-" when value is double d => -d,
            "-" when value is bool b => b ? -1L : 0L,
            "+" when ChatTemplateValues.IsNumber(value) => value is bool b ? (b ? 1L : 0L) : value,
            _ => throw _source.Error(unary.Offset, $"bad operand for unary {unary.Operator}: {ChatTemplateValues.TypeName(value)}; expected a number"),
        };
    }

    private bool Compare(CompareExpr compare)
    {
        var left = Evaluate(compare.First);
        foreach (var (op, operandExpr) in compare.Rest)
        {
            var right = Evaluate(operandExpr);
            var call = Call(operandExpr.Offset, $"'{op}'", ChatTemplateArguments.None);
            bool holds = op switch
            {
                "==" => ChatTemplateValues.Equals(left, right),
                "!=" => !ChatTemplateValues.Equals(left, right),
                "in" => ChatTemplateOperators.Contains(right, left, call),
                "not in" => !ChatTemplateOperators.Contains(right, left, call),
                _ => Order(op, left, right, call),
            };
            if (!holds)
            {
                return false;
            }

            left = right;
        }

        return true;
    }

    private static bool Order(string op, object? left, object? right, ChatTemplateCall call)
    {
        int c = ChatTemplateValues.Compare(left, right)
            ?? throw call.Error($"cannot compare {ChatTemplateValues.TypeName(left)} and {ChatTemplateValues.TypeName(right)}");
        return op switch
        {
            "<" => c < 0,
            ">" => c > 0,
            "<=" => c <= 0,
            _ => c >= 0,
        };
    }

    private object? Slice(SliceExpr slice)
    {
        var target = Evaluate(slice.Target);
        long? Bound(ChatTemplateExpr? e)
        {
            if (e is null)
            {
                return null;
            }

            var v = Evaluate(e);
            return v is null ? null : v is long or bool ? ChatTemplateValues.ToLong(v) : throw _source.Error(e.Offset, $"slice index is {ChatTemplateValues.TypeName(v)}; expected an integer");
        }

        long? start = Bound(slice.Start);
        long? stop = Bound(slice.Stop);
        long step = Bound(slice.Step) ?? 1;
        if (step == 0)
        {
            throw _source.Error(slice.Offset, "slice step is 0; expected a non-zero integer");
        }

        int length = target switch
        {
            List<object?> list => list.Count,
            string s => s.Length,
            _ => throw _source.Error(slice.Offset, $"cannot slice {ChatTemplateValues.TypeName(target)}; expected a list or string"),
        };

        // Python's slice.indices: clamp negative and out-of-range bounds the same way.
        long Clamp(long? bound, long fallback, long low, long high)
        {
            if (bound is not long b)
            {
                return fallback;
            }

            b = b < 0 ? b + length : b;
            return Math.Clamp(b, low, high);
        }

        long from = step > 0 ? Clamp(start, 0, 0, length) : Clamp(start, length - 1, -1, length - 1);
        long to = step > 0 ? Clamp(stop, length, 0, length) : Clamp(stop, -1, -1, length - 1);
        var indices = new List<int>();
        for (long i = from; step > 0 ? i < to : i > to; i += step)
        {
            indices.Add((int)i);
        }

        return target is string text
            ? string.Concat(indices.Select(i => text[i]))
            : indices.Select(i => ((List<object?>)target!)[i]).ToList();
    }

    private object? Invoke(CallExpr call)
    {
        if (call.Callee is AttributeExpr method)
        {
            var target = Evaluate(method.Target);
            if (target is ChatTemplateUndefined undefined)
            {
                throw _source.Error(method.Offset, $"'{undefined.Name}' is undefined, so '{method.Name}()' cannot be called; expected a string or mapping");
            }

            if (target is Dictionary<string, object?> dict && dict.TryGetValue(method.Name, out var member) && member is ChatTemplateFunction held)
            {
                return held.Invoke(Call(call.Offset, method.Name, call.Arguments));
            }

            return ChatTemplateMethods.Invoke(target, method.Name, Call(call.Offset, $"{method.Name}()", call.Arguments));
        }

        var callee = Evaluate(call.Callee);
        if (callee is ChatTemplateFunction function)
        {
            return function.Invoke(Call(call.Offset, function.Name, call.Arguments));
        }

        throw _source.Error(call.Offset, $"{Describe(call.Callee)} is {ChatTemplateValues.TypeName(callee)}, not a function; expected one of raise_exception, strftime_now, namespace, range");
    }

    private static string Describe(ChatTemplateExpr expr) => expr switch
    {
        NameExpr n => n.Name,
        AttributeExpr a => $"{Describe(a.Target)}.{a.Name}",
        IndexExpr { Index: LiteralExpr { Value: string key } } i => $"{Describe(i.Target)}['{key}']",
        IndexExpr { Index: LiteralExpr { Value: long index } } i => $"{Describe(i.Target)}[{index}]",
        IndexExpr i => $"{Describe(i.Target)}[...]",
        _ => "expression",
    };
}
