using System.Globalization;

namespace VectorStore.Filtering;

/// <summary>
/// How a literal in a filter is read against a declared field: the one rule the engine's index evaluation and any
/// per-record reference evaluation share, so they cannot disagree. Thread-safety: stateless.
/// </summary>
public static class FilterBinding
{
    /// <summary>
    /// <paramref name="literal"/> as a value of <paramref name="field"/>'s type: as is when the types agree; an int
    /// literal for a double field becomes that double; a string literal for a timestamp field is read as ISO 8601
    /// (UTC when no offset is given); a string literal in a tags field's <c>in</c> list is a tag. Anything else is an
    /// <see cref="InvalidArgumentException"/> naming the field, its type, the operator and the literal.
    /// </summary>
    public static FieldValue Bind(FieldDefinition field, FieldValue literal, string op)
    {
        ArgumentNullException.ThrowIfNull(field);
        var type = field.Type;
        if (literal.Type == type) return literal;
        switch (type)
        {
            case FieldType.Tags when literal.Type == FieldType.Keyword:
                return literal;
            case FieldType.Double when literal.Type == FieldType.Int:
                return FieldValue.Double(literal.AsInt());
            case FieldType.Timestamp when literal.Type == FieldType.Keyword:
                if (DateTimeOffset.TryParse(literal.AsKeyword(), CultureInfo.InvariantCulture,
                        DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var t))
                    return FieldValue.Timestamp(t);
                throw new InvalidArgumentException($"field '{field.Name}' is a timestamp: {literal} is not an ISO 8601 instant");
        }
        string what = literal.Type switch { 0 => "missing", FieldType.Keyword => "string", _ => literal.Type.Name() };
        throw new InvalidArgumentException($"field '{field.Name}' is {type.Name()}, compared ({op}) with a {what} literal {literal}");
    }
}
