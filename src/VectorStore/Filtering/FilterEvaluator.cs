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
        return Eval(index, expression);
    }

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
