using System.Collections;
using System.Linq.Expressions;
using Microsoft.Extensions.VectorData.ProviderServices;
using Microsoft.Extensions.VectorData.ProviderServices.Filter;
using VectorStore.Filtering;

namespace VectorStore.VectorData;

/// <summary>
/// Translates a VectorData LINQ filter (<c>Expression&lt;Func&lt;TRecord, bool&gt;&gt;</c>) into the engine's
/// <see cref="FilterExpression"/>. Captured variables and member accesses over constants are inlined by the
/// VectorData base translator's preprocessing; what remains must be one of:
/// <list type="bullet">
/// <item><c>==</c>, <c>!=</c>, <c>&lt;</c>, <c>&lt;=</c>, <c>&gt;</c>, <c>&gt;=</c> between an indexed property and a constant (either side);
/// <c>== null</c> / <c>!= null</c> (no value / has a value);</item>
/// <item><c>&amp;&amp;</c>, <c>||</c>, <c>!</c>, a bool property alone, <c>x.Prop.Equals(constant)</c>;</item>
/// <item><c>x.Tags.Contains("t")</c> on a tags property, <c>constants.Contains(x.Prop)</c> (an <c>in</c> list),
/// <c>x.Tags.Any(t =&gt; constants.Contains(t))</c> (the tags hold one of them);</item>
/// <item><c>true</c> and <c>false</c> anywhere (folded: <c>x =&gt; true</c> restricts nothing, <c>x =&gt; false</c> matches
/// nothing, so a filter built up from either, as dynamically composed filters are, works).</item>
/// </list>
/// Anything else is a <see cref="NotSupportedException"/> naming the construct; a property not marked
/// <c>IsIndexed</c> is one telling the user to mark it. The engine's semantics (a record without the field fails a
/// comparison, <c>!=</c> and <c>not</c> are complements over all records) are C#'s for null values, so the
/// translation is exact, except for timestamps: the engine compares whole microseconds in UTC, where C# compares a
/// <c>DateTime</c>'s 100 ns ticks and ignores its kind. One instance per translation (the base class keeps the model and parameter).
/// </summary>
internal sealed class EngineFilterTranslator : FilterTranslatorBase
{
    private readonly RecordFields _fields;

    private EngineFilterTranslator(RecordFields fields) => _fields = fields;

    /// <summary>
    /// The engine expression of <paramref name="filter"/>; null when it restricts nothing (<c>x =&gt; true</c>) or,
    /// with <paramref name="matchesNothing"/> set, when no record can match (<c>x =&gt; false</c>: the engine's
    /// language has no constant, and the caller answers without asking the engine).
    /// </summary>
    public static FilterExpression? Translate(LambdaExpression filter, CollectionModel model, RecordFields fields, out bool matchesNothing)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var translator = new EngineFilterTranslator(fields);
        var body = translator.PreprocessFilter(filter, model, new FilterPreprocessingOptions());
        var condition = translator.Translate(body);
        matchesNothing = condition.Expression is null && !condition.Always;
        return condition.Expression;
    }

    /// <summary>A translated condition: an engine expression, or (when null) a constant: every record or none.</summary>
    private readonly record struct Condition(FilterExpression? Expression, bool Always)
    {
        public static Condition Of(FilterExpression expression) => new(expression, false);
        public static Condition Constant(bool value) => new(null, value);
    }

    private Condition Translate(Expression node) => node switch
    {
        ConstantExpression { Value: bool constant } => Condition.Constant(constant),
        BinaryExpression { NodeType: ExpressionType.AndAlso or ExpressionType.And } b when b.Type == typeof(bool)
            => Connect(and: true, Translate(b.Left), Translate(b.Right)),
        BinaryExpression { NodeType: ExpressionType.OrElse or ExpressionType.Or } b when b.Type == typeof(bool)
            => Connect(and: false, Translate(b.Left), Translate(b.Right)),
        UnaryExpression { NodeType: ExpressionType.Not } u when u.Type == typeof(bool) => Translate(u.Operand) switch
        {
            { Expression: { } operand } => Condition.Of(new NotFilter(operand)),
            var constant => Condition.Constant(!constant.Always),
        },
        _ => Condition.Of(TranslateCondition(node)),
    };

    /// <summary>And/or of two conditions, folding constants (false and x is false, true and x is x; dually for or).</summary>
    private static Condition Connect(bool and, Condition left, Condition right)
    {
        if (left.Expression is null) return left.Always == and ? right : left;
        if (right.Expression is null) return right.Always == and ? left : right;
        return Condition.Of(Combine(and, left.Expression, right.Expression));
    }

    private FilterExpression TranslateCondition(Expression node) => node switch
    {
        BinaryExpression
        {
            NodeType: ExpressionType.Equal or ExpressionType.NotEqual or ExpressionType.LessThan or ExpressionType.LessThanOrEqual
                or ExpressionType.GreaterThan or ExpressionType.GreaterThanOrEqual,
        } b => TranslateComparison(b),
        MethodCallExpression call => TranslateCall(call),
        // A bool property on its own (x => x.IsActive).
        _ when node.Type == typeof(bool) && TryBindField(node, out var name, out var field) => field.Type == FieldType.Bool
            ? new ComparisonFilter(field.Name, ComparisonOperator.Equal, FieldValue.Bool(true))
            : throw new NotSupportedException($"property '{name}' is used as a condition but is not a bool"),
        _ => throw Unsupported(node, "this expression"),
    };

    private FilterExpression TranslateComparison(BinaryExpression b)
    {
        var op = b.NodeType switch
        {
            ExpressionType.Equal => ComparisonOperator.Equal,
            ExpressionType.NotEqual => ComparisonOperator.NotEqual,
            ExpressionType.LessThan => ComparisonOperator.Less,
            ExpressionType.LessThanOrEqual => ComparisonOperator.LessOrEqual,
            ExpressionType.GreaterThan => ComparisonOperator.Greater,
            _ => ComparisonOperator.GreaterOrEqual,
        };
        Expression other;
        if (TryBindField(b.Left, out var name, out var field)) other = b.Right;
        else if (TryBindField(b.Right, out name, out field))
        {
            other = b.Left;
            op = Mirror(op); // 3 < x.Rating is x.Rating > 3
        }
        else throw Unsupported(b, "a comparison that is not between an indexed property and a constant");
        if (!TryGetConstant(other, out var value))
            throw Unsupported(b, $"comparing property '{name}' with something other than a constant or captured variable");
        return Compare(name, field, op, value, b);
    }

    private static FilterExpression Compare(string name, FieldDefinition field, ComparisonOperator op, object? value, Expression node)
    {
        if (value is null)
        {
            // C#: x.P == null holds exactly when the record has no value, which is what the engine stores for null.
            return op switch
            {
                ComparisonOperator.Equal => new NotFilter(new ExistsFilter(field.Name)),
                ComparisonOperator.NotEqual => new ExistsFilter(field.Name),
                _ => throw Unsupported(node, $"an ordering comparison of property '{name}' with null"),
            };
        }
        if (field.Type == FieldType.Tags)
            throw Unsupported(node, $"comparing the tags property '{name}' with a value (use {name}.Contains(tag))");
        if (op is not (ComparisonOperator.Equal or ComparisonOperator.NotEqual) && field.Type is FieldType.Keyword or FieldType.Bool)
            throw Unsupported(node, $"an ordering comparison of the {field.Type.Name()} property '{name}'");
        return new ComparisonFilter(field.Name, op, RecordFields.Literal(field, name, value));
    }

    private FilterExpression TranslateCall(MethodCallExpression call)
    {
        if (TryMatchContains(call, out var source, out var item))
        {
            if (TryBindField(source, out var name, out var field))
            {
                if (field.Type != FieldType.Tags) throw Unsupported(call, $"Contains on the {field.Type.Name()} property '{name}'");
                if (!TryGetConstant(item, out var tag) || tag is not string s)
                    throw Unsupported(call, $"{name}.Contains with an argument that is not a non-null string constant");
                return new ContainsFilter(field.Name, s);
            }
            if (TryBindField(item, out name, out field))
                return field.Type == FieldType.Tags
                    ? throw Unsupported(call, $"Contains with the tags property '{name}' as the item (use {name}.Any(t => list.Contains(t)))")
                    : TranslateIn(call, source, name, field);
            throw Unsupported(call, "Contains that is neither over a tags property nor over a list of constants with a property argument");
        }
        // x.Tags.Any(t => list.Contains(t)): the tags hold one of the values, which is the engine's 'in' on a tags field.
        if (call is { Method.Name: nameof(Enumerable.Any), Arguments: [var anySource, LambdaExpression { Parameters: [var tagParameter], Body: var body }] }
            && call.Method.DeclaringType == typeof(Enumerable) && TryBindField(anySource, out var tagsName, out var tagsField))
        {
            if (tagsField.Type != FieldType.Tags) throw Unsupported(call, $"Any over the {tagsField.Type.Name()} property '{tagsName}'");
            if (body is MethodCallExpression contains && TryMatchContains(contains, out var list, out var element) && element == tagParameter)
                return TranslateIn(call, list, tagsName, tagsField);
            throw Unsupported(call, $"{tagsName}.Any with a condition other than list.Contains(tag)");
        }
        // x.Name.Equals("a"): the same as ==.
        if (call is { Method.Name: nameof(Equals), Object: { } target, Arguments: [var argument] } && TryBindField(target, out var n, out var f))
        {
            if (!TryGetConstant(argument, out var value)) throw Unsupported(call, $"{n}.Equals with an argument that is not a constant");
            return Compare(n, f, ComparisonOperator.Equal, value, call);
        }
        throw Unsupported(call, $"the method {call.Method.DeclaringType?.Name}.{call.Method.Name}");
    }

    /// <summary>
    /// <c>list.Contains(x.Prop)</c>, or for a tags property <c>x.Tags.Any(t =&gt; list.Contains(t))</c>: the engine's
    /// <c>in</c>, which for a tags field means holding one of the values.
    /// </summary>
    private static FilterExpression TranslateIn(Expression call, Expression source, string name, FieldDefinition field)
    {
        IEnumerable values;
        // new T[n] lists no elements: its one expression is the length (taken for an element, it matched records equal to n).
        if (source is NewArrayExpression { NodeType: ExpressionType.NewArrayBounds })
            throw Unsupported(call, "Contains over an array created by its length (new T[n]); list the values (new[] { … })");
        if (source is NewArrayExpression array)
        {
            var items = new List<object?>();
            foreach (var e in array.Expressions)
                items.Add(TryGetConstant(e, out var v) ? v : throw Unsupported(call, "an inline array whose elements are not all constants"));
            values = items;
        }
        else if (TryGetConstant(source, out var list) && list is IEnumerable enumerable and not string) values = enumerable;
        else throw Unsupported(call, "Contains over something other than a constant or captured list");

        var literals = new List<FieldValue>();
        var seen = new HashSet<FieldValue>();
        bool hasNull = false;
        foreach (var v in values)
        {
            if (v is null) hasNull = field.Type != FieldType.Tags; // a tag is never null, so a null in the list matches nothing
            else if (RecordFields.Literal(field, name, v) is var literal && seen.Add(literal)) literals.Add(literal);
        }
        if (literals.Count > FilterLimits.MaxInValues)
            throw new NotSupportedException($"a Contains list over property '{name}' holds {literals.Count} distinct values; VectorStore filters take at most {FilterLimits.MaxInValues}");
        // A null in the list matches the records without a value, as List.Contains(null) does in C#.
        FilterExpression? anyOf = literals.Count == 0 ? null : new InFilter(field.Name, literals);
        FilterExpression? missing = hasNull ? new NotFilter(new ExistsFilter(field.Name)) : null;
        return (anyOf, missing) switch
        {
            ({ } a, { } m) => new OrFilter([a, m]),
            ({ } a, null) => a,
            (null, { } m) => m,
            // An empty list matches nothing; the language has no 'false', and this is it.
            _ => new AndFilter([new ExistsFilter(field.Name), new NotFilter(new ExistsFilter(field.Name))]),
        };
    }

    /// <summary>
    /// Whether <paramref name="expression"/> is a record property (through value-preserving conversions only); a
    /// property that is not an indexed data property is a <see cref="NotSupportedException"/>.
    /// </summary>
    private bool TryBindField(Expression expression, out string name, out FieldDefinition field)
    {
        var converts = new List<UnaryExpression>();
        var inner = expression;
        while (inner is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
        {
            converts.Add(convert);
            inner = convert.Operand;
        }
        name = "";
        field = null!;
        PropertyModel? property;
        try
        {
            if (!TryBindProperty(inner, out property)) return false;
        }
        catch (InvalidOperationException e)
        {
            // The base refuses a record member that is not part of the model (an unmapped property, an unknown dynamic key).
            throw new NotSupportedException($"VectorStore filters can only use the record's data properties: {e.Message}", e);
        }
        name = property.ModelName;
        // C# widens a short/int property to compare it with a long or double, or wraps it in Nullable; an explicit
        // narrowing cast would change which records match, so it is refused.
        var current = Nullable.GetUnderlyingType(property.Type) ?? property.Type;
        for (int i = converts.Count - 1; i >= 0; i--)
        {
            var target = Nullable.GetUnderlyingType(converts[i].Type) ?? converts[i].Type;
            if (converts[i].Method is null && (target == typeof(object) || target == current)) continue;
            if (converts[i].Method is not null || !IsWidening(current, target))
                throw Unsupported(expression, $"converting property '{name}' from {current.Name} to {target.Name}");
            current = target;
        }
        field = property switch
        {
            KeyPropertyModel => throw new NotSupportedException($"filtering on the key property '{name}' is not supported by VectorStore filters; get records by key instead"),
            VectorPropertyModel => throw new NotSupportedException($"filtering on the vector property '{name}' is not supported"),
            _ => _fields.FieldOf(property) ?? throw new NotSupportedException(
                $"data property '{name}' is not indexed, so VectorStore cannot filter on it: mark it [VectorStoreData(IsIndexed = true)] " +
                "(or set IsIndexed on its VectorStoreDataProperty) and recreate the collection"),
        };
        return true;
    }

    private static readonly Type[] s_numericOrder = [typeof(short), typeof(int), typeof(long), typeof(float), typeof(double)];

    private static bool IsWidening(Type from, Type to)
    {
        int a = Array.IndexOf(s_numericOrder, from), b = Array.IndexOf(s_numericOrder, to);
        return a >= 0 && b > a;
    }

    /// <summary>
    /// The value of a constant, looking through conversions (a literal lifted to Nullable, boxed to object, or passed
    /// through an implicit operator such as DateTime → DateTimeOffset, which is applied).
    /// </summary>
    private static bool TryGetConstant(Expression expression, out object? value)
    {
        switch (expression)
        {
            case ConstantExpression c:
                value = c.Value;
                return true;
            case UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } u when TryGetConstant(u.Operand, out var inner):
                value = u.Method is { IsStatic: true } m && inner is not null ? m.Invoke(null, [inner]) : inner;
                return true;
            default:
                value = null;
                return false;
        }
    }

    private static ComparisonOperator Mirror(ComparisonOperator op) => op switch
    {
        ComparisonOperator.Less => ComparisonOperator.Greater,
        ComparisonOperator.LessOrEqual => ComparisonOperator.GreaterOrEqual,
        ComparisonOperator.Greater => ComparisonOperator.Less,
        ComparisonOperator.GreaterOrEqual => ComparisonOperator.LessOrEqual,
        _ => op,
    };

    /// <summary>And/or with nested operands of the same connective flattened, so a chain of 40 conditions is one node, not 40 levels.</summary>
    private static FilterExpression Combine(bool and, FilterExpression left, FilterExpression right)
    {
        var operands = new List<FilterExpression>();
        foreach (var side in (ReadOnlySpan<FilterExpression>)[left, right])
        {
            if (and && side is AndFilter a) operands.AddRange(a.Operands);
            else if (!and && side is OrFilter o) operands.AddRange(o.Operands);
            else operands.Add(side);
        }
        return and ? new AndFilter(operands) : new OrFilter(operands);
    }

    private static NotSupportedException Unsupported(Expression node, string what) =>
        new($"VectorStore filters do not support {what}: {node}");
}
