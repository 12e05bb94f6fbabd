using System.Text;

namespace VectorStore.Filtering;

/// <summary>The per-node checks of <see cref="FilterExpression"/> records, shared by their constructors and init accessors.</summary>
internal static class FilterChecks
{
    public static string FieldName(string name) =>
        FieldDefinition.IsValidName(name) ? name
            : throw new InvalidArgumentException($"field name '{name}' is invalid: use 1..{FieldDefinition.MaxNameLength} letters, digits, '_', '-' or '.', starting with a letter or '_'");

    public static ComparisonOperator Operator(ComparisonOperator op) =>
        Enum.IsDefined(op) ? op : throw new InvalidArgumentException($"unknown comparison operator {(int)op}");

    /// <summary>A filter literal: any valid value but a tag set (which no comparison or <c>in</c> list takes).</summary>
    public static FieldValue Literal(FieldValue value) => value.Type switch
    {
        FieldType.Keyword or FieldType.Int or FieldType.Double or FieldType.Bool or FieldType.Timestamp => value,
        FieldType.Tags => throw new InvalidArgumentException("a filter literal cannot be a tag set: use 'contains' or 'in' with single tags"),
        _ => throw new InvalidArgumentException("a filter literal is an uninitialized FieldValue"),
    };

    public static IReadOnlyList<FieldValue> InValues(IReadOnlyList<FieldValue> values)
    {
        if (values is null) throw new InvalidArgumentException("an 'in' list is null");
        if (values.Count == 0) throw new InvalidArgumentException("an 'in' list needs at least one value");
        if (values.Count > FilterLimits.MaxInValues)
            throw new InvalidArgumentException($"an 'in' list holds at most {FilterLimits.MaxInValues} values, got {values.Count}");
        var copy = new FieldValue[values.Count];
        for (int i = 0; i < copy.Length; i++) copy[i] = Literal(values[i]);
        return copy;
    }

    public static string Tag(string tag)
    {
        if (tag is null) throw new InvalidArgumentException("a 'contains' tag is null");
        int bytes = Encoding.UTF8.GetByteCount(tag);
        return bytes <= FieldValue.MaxStringBytes ? tag
            : throw new InvalidArgumentException($"a tag is at most {FieldValue.MaxStringBytes} UTF-8 bytes, got {bytes}");
    }

    public static IReadOnlyList<FilterExpression> Operands(IReadOnlyList<FilterExpression> operands, string connective)
    {
        if (operands is null || operands.Count < 2)
            throw new InvalidArgumentException($"'{connective}' needs at least two operands, got {operands?.Count ?? 0}");
        var copy = new FilterExpression[operands.Count];
        for (int i = 0; i < copy.Length; i++)
            copy[i] = operands[i] ?? throw new InvalidArgumentException($"an operand of '{connective}' is null");
        return copy;
    }
}
