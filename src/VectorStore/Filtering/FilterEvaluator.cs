using Roaring.Net.CRoaring;
using VectorStore.Filtering.Columns;

namespace VectorStore.Filtering;

/// <summary>
/// Binds a <see cref="FilterExpression"/> to a collection's fields and evaluates it to the bitmap of matching live
/// slots, entirely from the field indexes (no record is read). Unknown fields, operators that do not apply to a
/// field's type and literals of the wrong type are <see cref="InvalidArgumentException"/>s naming the field.
/// Thread-safety: stateless; call under the collection's read lock.
/// </summary>
internal static class FilterEvaluator
{
    /// <summary>The matching live slots (caller disposes). Checks the tree's size and depth against <see cref="FilterLimits"/>.</summary>
    public static Roaring32Bitmap Evaluate(FieldIndex? index, FilterExpression expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        FilterLimits.Validate(expression);
        if (index is null)
            throw new InvalidArgumentException($"the collection declares no fields, so the filter '{expression}' cannot apply (declare fields at create)");
        // An 'and' stops at its first empty operand, so without this a bad leaf after it (an unknown field, a literal
        // of the wrong type) would be refused or not depending on the data.
        if (HasAnd(expression)) CheckLeaves(index.Fields, expression);
        return Eval(index, expression);
    }

    /// <summary>Evaluates every leaf of <paramref name="expression"/> on an empty index of <paramref name="fields"/>: each leaf's checks run, whatever the data.</summary>
    internal static void CheckLeaves(IReadOnlyList<FieldDefinition> fields, FilterExpression expression)
    {
        using var empty = new FieldIndex(fields);
        foreach (var leaf in Leaves(expression)) Eval(empty, leaf).Dispose();
    }

    private static bool HasAnd(FilterExpression e) => e switch
    {
        AndFilter => true,
        OrFilter o => o.Operands.Any(HasAnd),
        NotFilter n => HasAnd(n.Operand),
        _ => false,
    };

    private static IEnumerable<FilterExpression> Leaves(FilterExpression e) => e switch
    {
        AndFilter a => a.Operands.SelectMany(Leaves),
        OrFilter o => o.Operands.SelectMany(Leaves),
        NotFilter n => Leaves(n.Operand),
        _ => [e],
    };

    private static Roaring32Bitmap Eval(FieldIndex index, FilterExpression e)
    {
        switch (e)
        {
            case AndFilter a:
            {
                // Most selective first would need estimates; intersecting in order and stopping at empty is as good here.
                var acc = Eval(index, a.Operands[0]);
                try
                {
                    for (int i = 1; i < a.Operands.Count && !acc.IsEmpty; i++)
                    {
                        using var next = Eval(index, a.Operands[i]);
                        acc.IAnd(next);
                    }
                }
                catch
                {
                    acc.Dispose(); // a later operand's error must not leak the native bitmap built so far
                    throw;
                }
                return acc;
            }
            case OrFilter o:
            {
                var acc = Eval(index, o.Operands[0]);
                try
                {
                    for (int i = 1; i < o.Operands.Count; i++)
                    {
                        using var next = Eval(index, o.Operands[i]);
                        acc.IOr(next);
                    }
                }
                catch
                {
                    acc.Dispose();
                    throw;
                }
                return acc;
            }
            case NotFilter n:
            {
                using var inner = Eval(index, n.Operand);
                return index.Live.AndNot(inner);
            }
            case ExistsFilter x:
                return ColumnOf(index, x.Field).PresentSlots.Clone();
            case ContainsFilter c:
                return ColumnOf(index, c.Field).Contains(c.Tag);
            case InFilter i:
            {
                var col = ColumnOf(index, i.Field);
                var values = new FieldValue[i.Values.Count];
                for (int k = 0; k < values.Length; k++) values[k] = Bind(col, i.Values[k], "in");
                return col.In(values);
            }
            case ComparisonFilter c:
                return Compare(index, c);
            default:
                throw new InvalidArgumentException($"unsupported filter node {e.GetType().Name}");
        }
    }

    private static Roaring32Bitmap Compare(FieldIndex index, ComparisonFilter c)
    {
        var col = ColumnOf(index, c.Field);
        var value = Bind(col, c.Value, ComparisonFilter.Symbol(c.Operator));
        switch (c.Operator)
        {
            case ComparisonOperator.Equal:
                return col.Equal(value);
            case ComparisonOperator.NotEqual:
            {
                using var eq = col.Equal(value);
                return index.Live.AndNot(eq);
            }
        }
        if (col is not NumericColumn numeric) return col.Range(0, 0); // throws: ranges need an ordered type
        long key = numeric.KeyOf(value);
        return c.Operator switch
        {
            ComparisonOperator.Less => key == long.MinValue ? new Roaring32Bitmap() : col.Range(long.MinValue, key - 1),
            ComparisonOperator.LessOrEqual => col.Range(long.MinValue, key),
            ComparisonOperator.Greater => key == long.MaxValue ? new Roaring32Bitmap() : col.Range(key + 1, long.MaxValue),
            ComparisonOperator.GreaterOrEqual => col.Range(key, long.MaxValue),
            _ => throw new InvalidArgumentException($"unknown comparison operator {(int)c.Operator}"),
        };
    }

    private static FieldColumn ColumnOf(FieldIndex index, string field) =>
        index.Column(field) ?? throw new InvalidArgumentException(
            $"unknown field '{field}' (declared: {(index.Fields.Count == 0 ? "none" : string.Join(", ", index.Fields))})");

    private static FieldValue Bind(FieldColumn col, FieldValue literal, string op) => FilterBinding.Bind(col.Definition, literal, op);
}
