
namespace VectorStore.Collections;

/// <summary>A search restriction: an id set, a predicate over id and payload, or both (both must pass).</summary>
public sealed class SearchFilter
{
    /// <summary>Only these ids may be returned.</summary>
    public IReadOnlySet<ulong>? Ids { get; init; }

    /// <summary>Only entries for which this returns true may be returned. Called once per live entry per search.</summary>
    public Func<ulong, ReadOnlyMemory<byte>, bool>? Predicate { get; init; }
}
