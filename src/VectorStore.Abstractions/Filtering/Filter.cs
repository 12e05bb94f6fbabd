namespace VectorStore.Filtering;

/// <summary>
/// Builds <see cref="FilterExpression"/> trees in code: <c>Filter.Eq("kind", "library").And(Filter.Gt("size", 10))</c>.
/// The result is the same tree the parser gives for the equivalent text.
/// </summary>
public static class Filter
{
    /// <summary><c>field == value</c></summary>
    public static FilterExpression Eq(string field, FieldValue value) => new ComparisonFilter(field, ComparisonOperator.Equal, value);

    /// <summary><c>field != value</c></summary>
    public static FilterExpression Ne(string field, FieldValue value) => new ComparisonFilter(field, ComparisonOperator.NotEqual, value);

    /// <summary><c>field &lt; value</c></summary>
    public static FilterExpression Lt(string field, FieldValue value) => new ComparisonFilter(field, ComparisonOperator.Less, value);

    /// <summary><c>field &lt;= value</c></summary>
    public static FilterExpression Le(string field, FieldValue value) => new ComparisonFilter(field, ComparisonOperator.LessOrEqual, value);

    /// <summary><c>field &gt; value</c></summary>
    public static FilterExpression Gt(string field, FieldValue value) => new ComparisonFilter(field, ComparisonOperator.Greater, value);

    /// <summary><c>field &gt;= value</c></summary>
    public static FilterExpression Ge(string field, FieldValue value) => new ComparisonFilter(field, ComparisonOperator.GreaterOrEqual, value);

    /// <summary><c>field in (values…)</c></summary>
    public static FilterExpression In(string field, params IEnumerable<FieldValue> values) => new InFilter(field, values.ToArray());

    /// <summary><c>field contains 'tag'</c></summary>
    public static FilterExpression Contains(string field, string tag) => new ContainsFilter(field, tag);

    /// <summary><c>exists(field)</c></summary>
    public static FilterExpression Exists(string field) => new ExistsFilter(field);

    /// <summary>All of <paramref name="operands"/> (one operand is returned as is).</summary>
    public static FilterExpression And(params IEnumerable<FilterExpression> operands) => Combine(operands, true);

    /// <summary>Any of <paramref name="operands"/> (one operand is returned as is).</summary>
    public static FilterExpression Or(params IEnumerable<FilterExpression> operands) => Combine(operands, false);

    /// <summary><c>not operand</c></summary>
    public static FilterExpression Not(FilterExpression operand) => new NotFilter(operand);

    private static FilterExpression Combine(IEnumerable<FilterExpression> operands, bool and)
    {
        var list = operands.ToArray();
        if (list.Length == 0) throw new InvalidArgumentException($"'{(and ? "and" : "or")}' needs at least one operand");
        if (Array.IndexOf(list, null) >= 0) throw new InvalidArgumentException("a filter operand is null");
        return list.Length == 1 ? list[0] : and ? new AndFilter(list) : new OrFilter(list);
    }
}
