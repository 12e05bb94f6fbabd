using System.Collections;
using System.Linq.Expressions;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace VectorStore.VectorData;

/// <summary>
/// The <c>OrderBy</c> of a filtered get, resolved to the record model's properties and applied to records read into
/// memory: the engine keeps no per-field order it could stream from. Stateless.
/// </summary>
internal static class RecordOrder
{
    /// <summary>One sort key: a key or data property and its direction.</summary>
    internal readonly record struct Key(PropertyModel Property, bool Ascending);

    /// <summary>
    /// The properties <paramref name="sorts"/> name, in order. A selector must be a plain property access
    /// (<c>r =&gt; r.Name</c>) of a key or data property; anything else is a <see cref="NotSupportedException"/>.
    /// </summary>
    public static Key[] Resolve<TRecord>(IReadOnlyList<Microsoft.Extensions.VectorData.FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition.SortInfo> sorts, CollectionModel model)
    {
        var keys = new Key[sorts.Count];
        for (int i = 0; i < keys.Length; i++)
        {
            var body = sorts[i].PropertySelector.Body;
            while (body is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } u) body = u.Operand;
            if (body is not MemberExpression { Expression: ParameterExpression } member)
                throw new NotSupportedException($"OrderBy '{sorts[i].PropertySelector}' is not a property of the record; order by a key or data property");
            var property = model.Properties.FirstOrDefault(p => p.ModelName == member.Member.Name && p is not VectorPropertyModel)
                ?? throw new NotSupportedException($"OrderBy names '{member.Member.Name}', which is not a key or data property of the record");
            keys[i] = new Key(property, sorts[i].Ascending);
        }
        return keys;
    }

    /// <summary><paramref name="records"/> ordered by <paramref name="keys"/> (a stable sort: ties keep their order).</summary>
    public static IEnumerable<TRecord> Sort<TRecord>(IReadOnlyList<TRecord> records, Key[] keys) where TRecord : class
    {
        IOrderedEnumerable<TRecord>? ordered = null;
        foreach (var key in keys)
        {
            Func<TRecord, object?> value = r => key.Property.GetValueAsObject(r);
            ordered = ordered is null
                ? key.Ascending ? records.OrderBy(value, ValueComparer.Instance) : records.OrderByDescending(value, ValueComparer.Instance)
                : key.Ascending ? ordered.ThenBy(value, ValueComparer.Instance) : ordered.ThenByDescending(value, ValueComparer.Instance);
        }
        return ordered ?? (IEnumerable<TRecord>)records;
    }

    /// <summary>Nulls first, strings ordinally, anything else by its own <see cref="IComparable"/>.</summary>
    private sealed class ValueComparer : IComparer<object?>
    {
        public static readonly ValueComparer Instance = new();

        public int Compare(object? x, object? y) => (x, y) switch
        {
            (null, null) => 0,
            (null, _) => -1,
            (_, null) => 1,
            (string a, string b) => string.CompareOrdinal(a, b),
            _ => Comparer.Default.Compare(x, y),
        };
    }
}
