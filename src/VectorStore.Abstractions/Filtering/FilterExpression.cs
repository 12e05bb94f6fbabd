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
/// Literals are keyword (string), int, double, bool or timestamp <see cref="FieldValue"/>s (never tags); a string
/// literal compared with a timestamp field is read as ISO 8601, an int literal compared with a double field as that
/// double. Each node checks its own parts when constructed (valid field names, 1..<see cref="FilterLimits.MaxInValues"/>
/// in-list values, two or more and/or operands) and throws <see cref="InvalidArgumentException"/>; the whole-tree
/// bounds (depth, node count) are checked by <see cref="FilterLimits.Validate"/>, which the parser and the wire decoder
/// apply and a consumer of builder-made trees should apply too.
/// Thread-safety: immutable.
/// </remarks>
public abstract record FilterExpression
{
    private protected FilterExpression() { }

    /// <summary>The expression in the filter language; parsing it gives an equal tree.</summary>
    public abstract override string ToString();

    /// <summary>
    /// This and <paramref name="other"/>. Chains flatten (<c>a.And(b).And(c)</c> is one three-operand
    /// <see cref="AndFilter"/>), so a filter built in a loop does not run into <see cref="FilterLimits.MaxDepth"/>.
    /// </summary>
    public FilterExpression And(FilterExpression other) =>
        new AndFilter(this is AndFilter a ? [.. a.Operands, other] : [this, other]);

    /// <summary>This or <paramref name="other"/>; chains flatten as for <see cref="And"/>.</summary>
    public FilterExpression Or(FilterExpression other) =>
        new OrFilter(this is OrFilter o ? [.. o.Operands, other] : [this, other]);

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
    /// <summary>The field name (valid per <see cref="FieldDefinition.IsValidName"/>).</summary>
    public string Field { get; init => field = FilterChecks.FieldName(value); } = FilterChecks.FieldName(Field);

    /// <summary>The operator.</summary>
    public ComparisonOperator Operator { get; init => field = FilterChecks.Operator(value); } = FilterChecks.Operator(Operator);

    /// <summary>The literal: keyword, int, double, bool or timestamp.</summary>
    public FieldValue Value { get; init => field = FilterChecks.Literal(value); } = FilterChecks.Literal(Value);

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
    /// <summary>The field name.</summary>
    public string Field { get; init => field = FilterChecks.FieldName(value); } = FilterChecks.FieldName(Field);

    /// <summary>1..<see cref="FilterLimits.MaxInValues"/> literals (keyword, int, double, bool or timestamp).</summary>
    public IReadOnlyList<FieldValue> Values { get; init => field = FilterChecks.InValues(value); } = FilterChecks.InValues(Values);

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
    /// <summary>The field name.</summary>
    public string Field { get; init => field = FilterChecks.FieldName(value); } = FilterChecks.FieldName(Field);

    /// <summary>The tag (at most <see cref="FieldValue.MaxStringBytes"/> UTF-8 bytes).</summary>
    public string Tag { get; init => field = FilterChecks.Tag(value); } = FilterChecks.Tag(Tag);

    /// <inheritdoc/>
    public override string ToString() => $"{Field} contains {FieldValue.Quote(Tag)}";
}

/// <summary><c>exists(field)</c>: the record has a value for the field.</summary>
public sealed record ExistsFilter(string Field) : FilterExpression
{
    /// <summary>The field name.</summary>
    public string Field { get; init => field = FilterChecks.FieldName(value); } = FilterChecks.FieldName(Field);

    /// <inheritdoc/>
    public override string ToString() => $"exists({Field})";
}

/// <summary>All operands hold (at least two).</summary>
public sealed record AndFilter(IReadOnlyList<FilterExpression> Operands) : FilterExpression
{
    /// <summary>Two or more operands, none null.</summary>
    public IReadOnlyList<FilterExpression> Operands { get; init => field = FilterChecks.Operands(value, "and"); } = FilterChecks.Operands(Operands, "and");

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
    /// <summary>Two or more operands, none null.</summary>
    public IReadOnlyList<FilterExpression> Operands { get; init => field = FilterChecks.Operands(value, "or"); } = FilterChecks.Operands(Operands, "or");

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
    /// <summary>The negated expression.</summary>
    public FilterExpression Operand { get; init => field = value ?? throw new InvalidArgumentException("'not' needs an operand"); } =
        Operand ?? throw new InvalidArgumentException("'not' needs an operand");

    /// <inheritdoc/>
    public override string ToString() => $"not {Operand}";
}
