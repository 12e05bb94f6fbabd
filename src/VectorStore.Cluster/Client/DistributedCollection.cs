using VectorStore.Cluster.Layout;
using VectorStore.Cluster.Shards;
using VectorStore.Collections;

namespace VectorStore.Cluster;

/// <summary>
/// A collection spread over shards: the same surface as <see cref="Collection"/> (upsert, delete, get, search,
/// batch search, count, build index), routed by id to each shard's primary and searched by scatter-gather.
/// </summary>
/// <remarks>
/// Thread-safety: safe from any thread; it holds only a cached layout, replaced atomically when a shard says it is
/// stale. A batch is atomic per shard (one durable engine batch, up to
/// <see cref="ClusterCoordinatorOptions.MaxRowsPerMessage"/> rows), not across shards: when a call fails, some
/// shards may have applied their part; retrying is safe.
/// </remarks>
public sealed partial class DistributedCollection
{
    private readonly IGrainFactory _grains;
    private readonly ClusterCoordinatorOptions _options;
    private ClusterLayout _layout;
    private int _rotation;
    // The search's own rotation: ReadOrder's advances once per shard call, so a shared one could land every search of
    // some layouts on the same copies.
    private int _searchRotation;
    private int _trainingRequested;

    internal DistributedCollection(IGrainFactory grains, ClusterLayout layout, ClusterCoordinatorOptions options)
    {
        _grains = grains;
        _layout = layout;
        _options = options;
        Options = layout.Options;
    }

    /// <summary>The incarnation this handle routes for (fixed: a re-created collection needs a new handle).</summary>
    private long Incarnation => _layout.Incarnation;

    /// <summary>Set once a layout read found the collection dropped and created again: every later call refuses.</summary>
    private volatile string? _replaced;

    private void ThrowIfReplaced()
    {
        if (_replaced is { } message) throw new InvalidArgumentException(message);
    }

    /// <summary>The collection's name.</summary>
    public string Name => _layout.Collection;

    /// <summary>Its settings, as created.</summary>
    public CollectionOptions Options { get; }

    /// <summary>The layout this coordinator routes with (re-read from the layout grain when <paramref name="refresh"/>).</summary>
    public async Task<ClusterLayout> GetLayoutAsync(bool refresh = true)
    {
        if (!refresh) return Volatile.Read(ref _layout);
        var read = await GrainCalls.RunAsync(() => LayoutGrain.GetAsync(), $"reading the layout of '{Name}'");
        var fresh = read ?? throw new InvalidArgumentException($"collection '{Name}' no longer exists");
        var current = Volatile.Read(ref _layout);
        if (!ClusterLayout.SameIncarnation(fresh.Incarnation, current.Incarnation))
        {
            _replaced = $"collection '{Name}' was dropped and created again since this handle was opened; get it again (GetCollectionAsync) to use the new one";
            throw new InvalidArgumentException(_replaced);
        }
        if (fresh.Version > current.Version) Interlocked.CompareExchange(ref _layout, fresh, current);
        return Volatile.Read(ref _layout);
    }

    /// <summary>Live vectors in every shard (each counted once, at its primary).</summary>
    public async Task<int> CountAsync()
    {
        var layout = await GetLayoutAsync();
        var counts = await Task.WhenAll(layout.Shards.Select(p => Copy(layout, p.Shard, p.Primary).CountAsync()));
        return counts.Sum();
    }

    /// <inheritdoc cref="CountAsync"/>
    public int Count => CountAsync().GetAwaiter().GetResult();

    /// <summary>
    /// Trains every shard now on one shared sample (the same codec everywhere), like <see cref="Collection.BuildIndex"/>.
    /// A trained collection is retrained on a fresh sample.
    /// </summary>
    public Task BuildIndexAsync() => GrainCalls.RunAsync(() => LayoutGrain.TrainAsync(force: true), $"training '{Name}'", mayHaveApplied: true);

    /// <inheritdoc cref="BuildIndexAsync"/>
    public void BuildIndex() => BuildIndexAsync().GetAwaiter().GetResult();

    internal ILayoutGrain LayoutGrain => _grains.GetGrain<ILayoutGrain>($"{_layout.Database}/{_layout.Collection}");

    private IShardReplicaGrain Copy(ClusterLayout layout, int shard, string silo) =>
        _grains.GetGrain<IShardReplicaGrain>(new ShardKey(silo, layout.Database, layout.Collection, shard).ToString());

    /// <summary>The in-sync copies of a shard, starting at a rotating position so reads spread over replicas.</summary>
    private string[] ReadOrder(ShardPlacement p, bool primaryFirst)
    {
        var copies = p.InSync();
        if (primaryFirst || copies.Length == 1) return copies;
        int start = (int)((uint)Interlocked.Increment(ref _rotation) % (uint)copies.Length);
        return [.. copies[start..], .. copies[..start]];
    }
}
