using VectorStore.Filtering;

namespace VectorStore.Collections;

/// <summary>
/// A search restriction: an id set, an expression over the collection's declared fields, a predicate over id and
/// payload, or any combination (all given parts must pass).
/// </summary>
public sealed class SearchFilter
{
    /// <summary>Only these ids may be returned.</summary>
    public IReadOnlySet<ulong>? Ids { get; init; }

    /// <summary>
    /// Only records whose fields satisfy this expression (answered from the collection's field indexes; see
    /// <see cref="FilterExpression"/> for the semantics). Travels over TCP, unlike <see cref="Predicate"/>.
    /// </summary>
    public FilterExpression? Where { get; init; }

    /// <summary>Only entries for which this returns true may be returned. Called once per live entry per search.</summary>
    public Func<ulong, ReadOnlyMemory<byte>, bool>? Predicate { get; init; }
}
