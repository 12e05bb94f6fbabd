using VectorStore.Filtering;

namespace VectorStore.Cluster;

/// <summary>
/// Checks a field filter against a distributed collection's declared fields before it is sent: each shard would
/// refuse a bad one too, but a shard's refusal reaches the coordinator as a failed call, which reads as an unavailable
/// shard. Every leaf is evaluated by the engine's own evaluator on an empty index of the same fields, so the rules
/// (and the messages) are the engine's. Stateless.
/// </summary>
internal static class FilterCheck
{
    /// <summary>Throws <see cref="InvalidArgumentException"/> when <paramref name="where"/> cannot apply to <paramref name="fields"/>.</summary>
    public static void Validate(FilterExpression where, IReadOnlyList<FieldDefinition> fields)
    {
        FilterLimits.Validate(where);
        if (fields.Count == 0)
            throw new InvalidArgumentException($"the collection declares no fields, so the filter '{where}' cannot apply (declare fields at create)");
        using var index = new FieldIndex(fields);
        // Leaf by leaf: the evaluator stops an 'and' at its first empty operand, which on an empty index is the first.
        foreach (var leaf in Leaves(where)) FilterEvaluator.Evaluate(index, leaf).Dispose();
    }

    private static IEnumerable<FilterExpression> Leaves(FilterExpression e) => e switch
    {
        AndFilter a => a.Operands.SelectMany(Leaves),
        OrFilter o => o.Operands.SelectMany(Leaves),
        NotFilter n => Leaves(n.Operand),
        _ => [e],
    };
}
