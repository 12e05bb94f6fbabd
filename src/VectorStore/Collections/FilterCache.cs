using System.Collections.Concurrent;
using VectorStore.Filtering;
using VectorStore.Indexing;

namespace VectorStore.Collections;

/// <summary>
/// The slot sets of recently used field filters, valid until the collection's next write: applications tend to
/// repeat the same filter (a tenant, a category) across many queries, and rebuilding its slot set costs more than a
/// graph walk at 50k records (the idea of Elasticsearch's filter cache). Keyed by the expression's canonical text.
/// </summary>
/// <remarks>
/// Thread-safety: searches read and fill it concurrently under the collection's read lock; a writer calls
/// <see cref="Invalidate"/> under the write lock. Cached filters are not pooled, so a search's <c>Dispose</c> of them is
/// a no-op and they can be shared.
/// </remarks>
internal sealed class FilterCache
{
    /// <summary>Most filters kept; at the bound the cache starts over (cheap, and a working set this large is rare).</summary>
    public const int Capacity = 32;

    private readonly ConcurrentDictionary<string, (long Version, SlotFilter Filter)> _entries = new(StringComparer.Ordinal);
    private long _version;

    /// <summary>Drops every entry: the collection changed.</summary>
    public void Invalidate() => Interlocked.Increment(ref _version);

    /// <summary>The cached slot set of <paramref name="where"/>, or one built by <paramref name="build"/> and kept.</summary>
    public SlotFilter GetOrBuild(FilterExpression where, Func<SlotFilter> build)
    {
        string key = where.ToString();
        long version = Volatile.Read(ref _version);
        if (_entries.TryGetValue(key, out var hit) && hit.Version == version) return hit.Filter;
        var filter = build();
        if (_entries.Count >= Capacity) _entries.Clear();
        _entries[key] = (version, filter);
        return filter;
    }
}
