using VectorStore.Filtering;

namespace VectorStore.Evaluation;

/// <summary>
/// Evaluates a filter on one record's field values directly, with none of the engine's indexes: the reference the
/// engine's bitmap evaluation is tested against and the source of exact filtered ground truth for <c>eval</c>.
/// Same semantics as the engine (<see cref="FilterExpression"/> remarks; literals bound by <see cref="FilterBinding"/>).
/// Thread-safety: stateless.
/// </summary>
public static class FilterReference
{
    /// <summary>Whether <paramref name="record"/> satisfies <paramref name="expression"/> under <paramref name="fields"/>.</summary>
    public static bool Matches(FilterExpression expression, IReadOnlyList<FieldDefinition> fields, IReadOnlyDictionary<string, FieldValue> record)
    {
        switch (expression)
        {
            case AndFilter a:
                return a.Operands.All(o => Matches(o, fields, record));
            case OrFilter o:
                return o.Operands.Any(x => Matches(x, fields, record));
            case NotFilter n:
                return !Matches(n.Operand, fields, record);
            case ExistsFilter x:
                Field(fields, x.Field);
                return record.ContainsKey(x.Field);
            case ContainsFilter c:
            {
                var f = Field(fields, c.Field);
                if (f.Type != FieldType.Tags) throw new InvalidArgumentException($"field '{f.Name}' is {f.Type.Name()}: contains does not apply to it");
                return record.TryGetValue(c.Field, out var v) && v.AsTags().Contains(c.Tag, StringComparer.Ordinal);
            }
            case InFilter i:
            {
                var f = Field(fields, i.Field);
                var wanted = i.Values.Select(v => FilterBinding.Bind(f, v, "in")).ToArray();
                if (!record.TryGetValue(i.Field, out var have)) return false;
                return f.Type == FieldType.Tags
                    ? have.AsTags().Any(t => wanted.Any(w => w.AsKeyword() == t))
                    : wanted.Any(w => Compare(f, have, w) == 0);
            }
            case ComparisonFilter c:
            {
                var f = Field(fields, c.Field);
                var literal = FilterBinding.Bind(f, c.Value, ComparisonFilter.Symbol(c.Operator));
                if (f.Type == FieldType.Tags) throw new InvalidArgumentException($"field '{f.Name}' is tags: use contains or in");
                bool ordered = f.Type is FieldType.Int or FieldType.Double or FieldType.Timestamp;
                if (!ordered && c.Operator is not (ComparisonOperator.Equal or ComparisonOperator.NotEqual))
                    throw new InvalidArgumentException($"field '{f.Name}' is {f.Type.Name()}: a range comparison does not apply to it");
                bool present = record.TryGetValue(c.Field, out var have);
                if (c.Operator == ComparisonOperator.NotEqual) return !present || Compare(f, have, literal) != 0;
                if (!present) return false;
                int cmp = Compare(f, have, literal);
                return c.Operator switch
                {
                    ComparisonOperator.Equal => cmp == 0,
                    ComparisonOperator.Less => cmp < 0,
                    ComparisonOperator.LessOrEqual => cmp <= 0,
                    ComparisonOperator.Greater => cmp > 0,
                    _ => cmp >= 0,
                };
            }
            default:
                throw new InvalidArgumentException($"unsupported filter node {expression.GetType().Name}");
        }
    }

    private static FieldDefinition Field(IReadOnlyList<FieldDefinition> fields, string name) =>
        fields.FirstOrDefault(f => f.Name == name) ?? throw new InvalidArgumentException($"unknown field '{name}'");

    private static int Compare(FieldDefinition f, FieldValue a, FieldValue b) => f.Type switch
    {
        FieldType.Keyword => a.AsKeyword() == b.AsKeyword() ? 0 : 1,
        FieldType.Bool => a.AsBool() == b.AsBool() ? 0 : 1,
        FieldType.Int => a.AsInt().CompareTo(b.AsInt()),
        FieldType.Double => a.AsDouble().CompareTo(b.AsDouble()),
        FieldType.Timestamp => a.AsTimestampMicros().CompareTo(b.AsTimestampMicros()),
        _ => throw new InvalidArgumentException($"field '{f.Name}' is {f.Type.Name()}"),
    };
}
