namespace VectorStore.Filtering;

/// <summary>
/// A filter over a collection's declared metadata fields: a typed tree, parsed once from the filter language
/// (<c>FilterParser.Parse</c>), built with <see cref="Filter"/>, or decoded from the TCP protocol. The tree is
/// untyped against any schema: a collection binds it to its fields at search time and refuses unknown fields and
/// type mismatches with <see cref="InvalidArgumentException"/>.
/// </summary>
/// <remarks>
/// Semantics: a comparison, <c>in</c> or <c>contains</c> is false for a record without the field; <c>!=</c> is the
/// negation of <c>==</c> (so it matches records without the field), and <c>not</c> negates over all live records.
/// Literals are keyword (string), int, double or bool <see cref="FieldValue"/>s; a string literal compared with a
/// timestamp field is read as ISO 8601, an int literal compared with a double field as that double.
/// Thread-safety: immutable.
/// </remarks>
public abstract record FilterExpression
{
    private protected FilterExpression() { }

    /// <summary>The expression in the filter language; parsing it gives an equal tree.</summary>
    public abstract override string ToString();

    /// <summary>This and <paramref name="other"/>.</summary>
    public FilterExpression And(FilterExpression other) => new AndFilter([this, other]);

    /// <summary>This or <paramref name="other"/>.</summary>
    public FilterExpression Or(FilterExpression other) => new OrFilter([this, other]);

    /// <summary>Not this.</summary>
    public FilterExpression Not() => new NotFilter(this);
}

/// <summary>Comparison operators.</summary>
public enum ComparisonOperator : byte
{
    /// <summary><c>==</c></summary>
    Equal = 1,

    /// <summary><c>!=</c></summary>
    NotEqual = 2,

    /// <summary><c>&lt;</c></summary>
    Less = 3,

    /// <summary><c>&lt;=</c></summary>
    LessOrEqual = 4,

    /// <summary><c>&gt;</c></summary>
    Greater = 5,

    /// <summary><c>&gt;=</c></summary>
    GreaterOrEqual = 6,
}

/// <summary><c>field OP literal</c>.</summary>
public sealed record ComparisonFilter(string Field, ComparisonOperator Operator, FieldValue Value) : FilterExpression
{
    /// <inheritdoc/>
    public override string ToString() => $"{Field} {Symbol(Operator)} {Value}";

    /// <summary>The operator as the language writes it.</summary>
    public static string Symbol(ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => "==",
        ComparisonOperator.NotEqual => "!=",
        ComparisonOperator.Less => "<",
        ComparisonOperator.LessOrEqual => "<=",
        ComparisonOperator.Greater => ">",
        ComparisonOperator.GreaterOrEqual => ">=",
        _ => $"op{(int)op}",
    };
}

/// <summary><c>field in (v1, v2, …)</c>: the field equals one of the values (for a tags field: holds one of them).</summary>
public sealed record InFilter(string Field, IReadOnlyList<FieldValue> Values) : FilterExpression
{
    /// <inheritdoc/>
    public override string ToString() => $"{Field} in ({string.Join(", ", Values)})";

    /// <inheritdoc/>
    public bool Equals(InFilter? other) => other is not null && Field == other.Field && Values.SequenceEqual(other.Values);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Field, Values.Count);
}

/// <summary><c>field contains 'tag'</c> (a tags field holds the tag).</summary>
public sealed record ContainsFilter(string Field, string Tag) : FilterExpression
{
    /// <inheritdoc/>
    public override string ToString() => $"{Field} contains {FieldValue.Quote(Tag)}";
}

/// <summary><c>exists(field)</c>: the record has a value for the field.</summary>
public sealed record ExistsFilter(string Field) : FilterExpression
{
    /// <inheritdoc/>
    public override string ToString() => $"exists({Field})";
}

/// <summary>All operands hold (at least two).</summary>
public sealed record AndFilter(IReadOnlyList<FilterExpression> Operands) : FilterExpression
{
    /// <inheritdoc/>
    public override string ToString() => "(" + string.Join(" and ", Operands) + ")";

    /// <inheritdoc/>
    public bool Equals(AndFilter? other) => other is not null && Operands.SequenceEqual(other.Operands);

    /// <inheritdoc/>
    public override int GetHashCode() => Operands.Count;
}

/// <summary>At least one operand holds (at least two).</summary>
public sealed record OrFilter(IReadOnlyList<FilterExpression> Operands) : FilterExpression
{
    /// <inheritdoc/>
    public override string ToString() => "(" + string.Join(" or ", Operands) + ")";

    /// <inheritdoc/>
    public bool Equals(OrFilter? other) => other is not null && Operands.SequenceEqual(other.Operands);

    /// <inheritdoc/>
    public override int GetHashCode() => Operands.Count;
}

/// <summary>The operand does not hold.</summary>
public sealed record NotFilter(FilterExpression Operand) : FilterExpression
{
    /// <inheritdoc/>
    public override string ToString() => $"not {Operand}";
}
