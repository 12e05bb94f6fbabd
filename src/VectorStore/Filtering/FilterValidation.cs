namespace VectorStore.Filtering;

/// <summary>
/// Whether a filter can apply to a set of declared fields, without a collection: the checks a filtered search makes
/// (size and depth limits, known fields, literal types, range and <c>contains</c> operators only where the field's
/// type has them), with the same messages. For code that must refuse a bad filter before passing it on, such as the
/// cluster's coordinator. Thread-safety: stateless.
/// </summary>
public static class FilterValidation
{
    /// <summary>Throws <see cref="InvalidArgumentException"/> when <paramref name="where"/> cannot apply to <paramref name="fields"/>.</summary>
    public static void Validate(FilterExpression where, IReadOnlyList<FieldDefinition> fields)
    {
        ArgumentNullException.ThrowIfNull(where);
        ArgumentNullException.ThrowIfNull(fields);
        FilterLimits.Validate(where);
        if (fields.Count == 0)
            throw new InvalidArgumentException($"the collection declares no fields, so the filter '{where}' cannot apply (declare fields at create)");
        FilterEvaluator.CheckLeaves(fields, where);
    }
}
