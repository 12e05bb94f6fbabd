using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using VectorStore.Cluster.Hosting;
using VectorStore.Cluster.Layout;
using VectorStore.Collections;
using VectorStore.Filtering;

namespace VectorStore.Cluster.Shards;

/// <summary>
/// One silo's copy of one shard: an embedded collection in the silo's own database (<see cref="ShardStore"/>).
/// </summary>
/// <remarks>
/// Thread-safety: Orleans runs one write/copy/training turn at a time; engine calls run on the thread pool (so the
/// grain's scheduler is never blocked on an fsync) while the turn awaits them. Reads interleave and only read the
/// current collection reference, which a rebuild replaces atomically.
/// </remarks>
[KeepAlive]
[PinnedPlacement]
internal sealed partial class ShardReplicaGrain(ShardStore store, LocalShards local, IClusterMembershipService membership, ILogger<ShardReplicaGrain> log) : Grain, IShardReplicaGrain
{
    private const int Chunk = 1024;
    private ShardKey _key;
    private ShardAssignment _assignment = new();
    private volatile Collection? _data;
    private Collection? _sample;
    private Collection? _staging;
    private volatile int _generation;
    private bool _awaitingRole;
    private (long Version, long Epoch) _reportedLost = (-1, -1);
    private readonly Dictionary<string, CopyCursor> _copies = new(StringComparer.Ordinal);
    private readonly HashSet<string> _failedFollowers = new(StringComparer.Ordinal);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await RestoreAsync(cancellationToken);
        // Searchable in process by this silo's search grain once activated: Orleans runs OnDeactivateAsync (which
        // removes it) only for an activation that completed, so a failed one must never be listed.
        local.Add(_key.ToString(), this);
    }

    private async Task RestoreAsync(CancellationToken cancellationToken)
    {
        _key = ShardKey.Parse(this.GetPrimaryKeyString());
        // Normally the layout grain's ConfigureAsync is the first call; after an unexpected re-activation the
        // layout says what this copy is, and the newest local collections are its data and training sample. Only a
        // copy of a shard that has never changed may start empty; any other copy without data stays silent, which
        // makes the primary report it and the layout grain replace it.
        // Bounded: when a silo dies Orleans deactivates the activations whose directory entries it held, possibly the
        // layout grain in the middle of a repair that is waiting for this very activation; waiting for its answer
        // would deadlock both until the response timeout, round after round. Without an answer this copy loads its
        // local collections but stays silent, and the layout grain's next push (every repair ends with one to every
        // copy) gives it its role.
        var read = GrainFactory.GetGrain<ILayoutGrain>(_key.LayoutKey).GetAsync();
        bool answered = await Task.WhenAny(read, Task.Delay(LayoutReadOnActivation, cancellationToken)) == read && read.IsCompletedSuccessfully;
        if (!answered) read.Ignore();
        var layout = answered ? read.Result : null;
        if (answered && (layout is null || _key.Shard >= layout.Shards.Length)) return;
        var a = layout is null ? null : ShardAssignment.For(layout, _key.Shard, _key.Silo);
        if (a is not null && a.Role is not (ShardRole.Primary or ShardRole.Replica)) return;
        await Task.Run(() =>
        {
            _data = store.Latest(_key.LocalPrefix, 'd');
            _sample = store.Latest(_key.LocalPrefix, 't');
            _dataTrained = _data?.GetStats().Trained == true;
            if (a is null) return;
            if (a.Spec.TrainsInPlace && _sample is not null)
            {
                // Trained the old way, with a shared sample: no copy needs it any more.
                store.Drop(_sample);
                _sample = null;
            }
            _generation = GenerationOf(a);
        }, cancellationToken);
        _awaitingRole = true;
        if (a is null) LogNoLayout(_key.ToString());
        else if (_data is not null) Adopt(a);
        // Without data: lost, unless this activation is the collection's creation, whose push (next) says so.
        else if (!NeverChanged(a)) ReportLost(a);
    }

    /// <summary>
    /// Epoch 1 and never trained: a shard whose copies may all still be empty (a new collection, or a small one that
    /// has not reached its training threshold and never failed over).
    /// </summary>
    private static bool NeverChanged(ShardAssignment a) => a.TrainingGeneration == 0 && a.Epoch == 1;

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        local.Remove(_key.ToString(), this);
        return Task.CompletedTask;
    }

    /// <summary>Takes an in-sync role with the local data found at activation.</summary>
    private void Adopt(ShardAssignment a)
    {
        _generation = GenerationOf(a);
        _assignment = a;
        _awaitingRole = false;
    }

    /// <summary>
    /// Logs that this copy has no data for its role and tells the layout grain, which replaces it: once per layout
    /// version and epoch (the activation and the push that caused it carry the same, as do the layout grain's periodic
    /// pushes of an unchanged layout).
    /// </summary>
    private void ReportLost(ShardAssignment a)
    {
        if (_reportedLost == (a.LayoutVersion, a.Epoch)) return;
        _reportedLost = (a.LayoutVersion, a.Epoch);
        LogLostCopy(_key.ToString(), a.Role);
        GrainFactory.GetGrain<ILayoutGrain>(_key.LayoutKey).ReportLostCopyAsync(_key.Shard, _key.Silo, a.Epoch).Ignore();
    }

    public async Task ConfigureAsync(ShardAssignment a)
    {
        if (a.LayoutVersion < _assignment.LayoutVersion) return; // an older push arriving late
        var previous = _assignment;
        // A copy activated without its role (layout unread, or no local data) is told it is in sync: it serves the
        // data it found, or nothing, rather than an empty collection passing for the shard (the layout grain replaces
        // it). Only the collection's creation may start a copy empty: a never-changed shard (epoch 1, untrained: every
        // small collection's) used to start empty on any push, so a named silo back on a wiped disk served its shards
        // empty while their other copies held every acknowledged vector.
        if (_awaitingRole && a.Role is ShardRole.Primary or ShardRole.Replica && !a.Created)
        {
            if (_data is not null) Adopt(a);
            else ReportLost(a);
            return;
        }
        _awaitingRole = false;
        await Task.Run(() =>
        {
            bool newLearner = a.Role == ShardRole.Learner && (previous.Role != ShardRole.Learner || previous.CopySession != a.CopySession);
            if (newLearner || (a.Role == ShardRole.None && previous.Role != ShardRole.None))
            {
                Wipe();
                _copies.Clear();
            }
            if (a.Role != ShardRole.None && _data is null) _data = store.Create(_key.LocalPrefix, 'd', a.Spec.ShardOptions());
            // A copy that was empty when the cluster trained in place, and received vectors before this push told it
            // the collection is trained, builds its index now.
            if (a.Role != ShardRole.None) TrainInPlaceIfBehind(a);
            if (a.Role != ShardRole.Primary) _copies.Clear();
            _failedFollowers.IntersectWith(a.Followers);
            _assignment = a;
            CatchUpGenerations(a);
        });
    }

    public async Task<WriteOutcome> WriteAsync(ShardBatch batch, long epoch)
    {
        var a = _assignment;
        if (a.Role != ShardRole.Primary || a.Epoch != epoch) return WriteOutcome.Stale($"{_key} is {a.Role} at epoch {a.Epoch}, write routed with epoch {epoch}");
        // Epochs start again at 1 when a dropped name is created again: the incarnation tells the two apart.
        if (!ClusterLayout.SameIncarnation(batch.Incarnation, a.Incarnation)) return WriteOutcome.Stale($"{_key} serves incarnation {a.Incarnation} of the collection, write routed for incarnation {batch.Incarnation}");
        var removed = new bool[batch.Deletes.Length];
        var (count, deleted) = await Task.Run(() => ApplyLocal(batch, removed));
        var forwarded = await ForwardAsync(a, g => g.ApplyAsync(batch, a.Epoch));
        return forwarded with { Count = count, Deleted = deleted, Removed = removed };
    }

    public async Task<WriteOutcome> ApplyAsync(ShardBatch batch, long epoch)
    {
        var a = _assignment;
        if (a.Role is not (ShardRole.Replica or ShardRole.Learner) || a.Epoch != epoch)
            return WriteOutcome.Stale($"{_key} is {a.Role} at epoch {a.Epoch}, batch forwarded at epoch {epoch}");
        var (count, deleted) = await Task.Run(() => ApplyLocal(batch));
        return new WriteOutcome(WriteStatus.Ok, count, deleted, null);
    }

    public Task<ShardHits> SearchAsync(ShardQuery query)
    {
        var data = ReadableData();
        if (!ClusterLayout.SameIncarnation(query.Incarnation, _assignment.Incarnation))
            throw new InvalidArgumentException($"{_key} serves incarnation {_assignment.Incarnation} of the collection, query routed for incarnation {query.Incarnation}");
        return Task.Run(() =>
        {
            var options = ToSearchOptions(query);
            int n = query.Queries.Length / query.Dimension;
            var ids = new ulong[n][];
            var scores = new float[n][];
            var generations = new int[n];
            for (int i = 0; i < n; i++)
            {
                SearchHit[] hits;
                try { hits = data.Search(query.Queries.AsSpan(i * query.Dimension, query.Dimension), options); }
                catch (CollectionFaultedException)
                {
                    ReopenFaulted(data);
                    throw;
                }
                ids[i] = new ulong[hits.Length];
                scores[i] = new float[hits.Length];
                for (int j = 0; j < hits.Length; j++) (ids[i][j], scores[i][j]) = (hits[j].Id, hits[j].Score);
                generations[i] = hits.Length > 0 ? hits[0].Generation : 0;
            }
            return new ShardHits { Ids = ids, Scores = scores, Generations = generations };
        });
    }

    public Task<RecordPage> GetAsync(ulong[] ids)
    {
        var data = ReadableData();
        return Task.Run(() => Read(data, ids, vectors: true));
    }

    public Task<int> CountAsync() => Task.FromResult(ReadableData().Count);

    public Task<ulong[]> IdsAfterAsync(ulong? after, int limit, string? where)
    {
        var data = ReadableData();
        return Task.Run(() => data.IdPage(after, Math.Max(1, limit), where is null ? null : FilterParser.Parse(where)).Ids);
    }

    public Task<ShardStats> StatsAsync()
    {
        var data = ReadableData();
        return Task.Run(() =>
        {
            var s = data.GetStats();
            return new ShardStats
            {
                Count = s.Count,
                Trained = s.Trained,
                CodeSize = s.CodeSize,
                IndexBytes = s.IndexBytes,
                RerankBytes = s.RerankBytes,
                ResidentBytes = s.ResidentBytes,
                DiskBytes = DiskBytesOrZero(data.Name),
                Compression = s.Compression,
                Index = s.Index,
                RawVectors = (int)s.RawVectors,
            };
        });
    }

    public Task CompactAsync()
    {
        var data = ReadableData();
        return Task.Run(() =>
        {
            try
            {
                store.Database.Compact(data.Name);
            }
            catch (Exception e) when (e is InvalidArgumentException or ObjectDisposedException)
            {
                // A rebuild replaced this collection meanwhile: its successor starts compact.
            }
        });
    }

    private long DiskBytesOrZero(string name)
    {
        try { return store.Database.DiskBytes(name); }
        catch (InvalidArgumentException) { return 0; } // replaced by a rebuild since it was read
    }

    public Task<ulong[]> SampleIdsAsync(int count, int seed)
    {
        var data = ReadableData();
        return Task.Run(() =>
        {
            var ids = data.Ids();
            if (count >= ids.Length) return ids;
            var rng = new Random(seed);
            // Partial Fisher–Yates: the first `count` entries become a uniform sample without replacement.
            for (int i = 0; i < count; i++)
            {
                int j = rng.Next(i, ids.Length);
                (ids[i], ids[j]) = (ids[j], ids[i]);
            }
            var picked = ids[..count];
            Array.Sort(picked);
            return picked;
        });
    }

    public Task<RecordPage> PayloadsAsync(ulong[]? ids)
    {
        var data = ReadableData();
        return Task.Run(() => Read(data, ids ?? data.Ids(), vectors: false));
    }

    public Task<(int Generation, int Count, ShardRole Role, long Epoch)> DescribeAsync() =>
        Task.FromResult((_generation, _data?.Count ?? 0, _assignment.Role, _assignment.Epoch));

    private Collection ReadableData()
    {
        var a = _assignment;
        if (a.Role is not (ShardRole.Primary or ShardRole.Replica) || _data is null)
            throw new InvalidOperationException(_awaitingRole && _data is null && _reportedLost.Epoch >= 0
                ? $"{_key} has lost its data (its silo came back without it) and answers nothing until the layout replaces it"
                : $"{_key} is {a.Role}: it does not answer reads");
        return _data;
    }

    private (int Count, int Deleted) ApplyLocal(ShardBatch batch, bool[]? removed = null)
    {
        var data = _data ?? throw new InvalidOperationException($"{_key} holds no data");
        int deleted;
        try
        {
            if (batch.Ids.Length > 0)
                data.UpsertBatch(batch.Ids, new VectorMatrix(batch.Vectors, _assignment.Spec.Dimension), batch.Payloads, FieldSets.DecodeAll(data.Options.Fields ?? [], batch.Fields));
            deleted = batch.Deletes.Length == 0 ? 0 : DeleteMany(data, batch.Deletes, removed);
        }
        catch (CollectionFaultedException)
        {
            ReopenFaulted(data);
            throw;
        }
        // A copy that was empty when the cluster trained in place builds its index with its first vectors.
        TrainInPlaceIfBehind(_assignment);
        return (data.Count, deleted);
    }

    /// <summary>
    /// A copy whose collection stopped after a failed in-memory apply (<see cref="CollectionFaultedException"/>, an
    /// out-of-memory under a memory limit) is reopened from its files for the next call; the failing call still fails,
    /// so the coordinator retries the write (idempotent) or asks another copy for the search.
    /// </summary>
    private void ReopenFaulted(Collection faulted)
    {
        if (!ReferenceEquals(_data, faulted)) return;
        try
        {
            // Only if nothing replaced the copy meanwhile (searches interleave; a rebuild installs a new one).
            var reopened = store.Database.GetCollection(faulted.Name);
            Interlocked.CompareExchange(ref _data, reopened, faulted);
        }
        catch (Exception e)
        {
            // Still failing (the replay itself ran out of memory, say): the stopped copy stays and the next call tries again.
            LogReopenFailed(_key.ToString(), e);
        }
    }

    /// <summary>
    /// Deletes <paramref name="ids"/> with the engine's batch delete: one wait for one durable commit covering them
    /// all. (Deletes one by one from 16 parallel loop bodies, each waiting for its own commit, could take every
    /// thread-pool thread on a 2-core machine while FASTER's flush completion waited for one: a shard rebuild then
    /// never finished.)
    /// </summary>
    private static int DeleteMany(Collection data, IReadOnlyList<ulong> ids, bool[]? removed = null)
    {
        if (ids.Count == 0) return 0;
        var present = data.DeleteBatchAsync(ids).GetAwaiter().GetResult();
        if (removed is not null) present.CopyTo(removed, 0);
        return present.Count(p => p);
    }

    private static RecordPage Read(Collection data, IReadOnlyList<ulong> ids, bool vectors)
    {
        int dim = data.Options.Dimension;
        var found = new List<VectorRecord>(ids.Count);
        foreach (var id in ids)
            if (data.Get(id) is { } r) found.Add(r);
        var v = vectors ? new float[found.Count * dim] : [];
        if (vectors)
            for (int i = 0; i < found.Count; i++) found[i].Vector.CopyTo(v, i * dim);
        var declared = data.Options.Fields ?? [];
        return new RecordPage
        {
            Ids = found.Select(r => r.Id).ToArray(),
            Vectors = v,
            Payloads = found.Select(r => r.Payload).ToArray(),
            Fields = declared.Count == 0 ? null : found.Select(r => FieldSets.Encode(declared, r.Fields, r.Id)).ToArray(),
        };
    }

    /// <summary>Stores a page of records (vectors, payloads, field values) as one engine batch.</summary>
    private static void UpsertPage(Collection to, RecordPage page) =>
        to.UpsertBatch(page.Ids, new VectorMatrix(page.Vectors, to.Options.Dimension), page.Payloads, FieldSets.DecodeAll(to.Options.Fields ?? [], page.Fields));

    private void Wipe()
    {
        _data = _sample = _staging = null;
        _dataTrained = false;
        _generation = 0;
        _stagedSamples.Clear();
        store.DropAll(_key.LocalPrefix);
    }

    private async Task<WriteOutcome> ForwardAsync(ShardAssignment a, Func<IShardReplicaGrain, Task<WriteOutcome>> call)
    {
        var calls = a.Followers.Select(f => (Silo: f, Task: Guard(call(Replica(f))))).ToArray();
        await Task.WhenAll(calls.Select(c => c.Task));
        int copies = 1;
        string? failedReplica = null;
        foreach (var (silo, task) in calls)
        {
            var outcome = task.Result;
            if (outcome.Status == WriteStatus.Ok) { copies++; continue; }
            // A copy that missed a batch must never be read or promoted again: the layout grain replaces it, and a
            // learner's copy session is aborted at its next step.
            _failedFollowers.Add(silo);
            GrainFactory.GetGrain<ILayoutGrain>(_key.LayoutKey).ReportFailureAsync(_key.Shard, silo, a.Epoch).Ignore();
            if (a.Replicas.Contains(silo)) failedReplica = $"replica {silo}: {outcome.Detail}";
        }
        if (failedReplica is not null) return new WriteOutcome(WriteStatus.ReplicaFailed, 0, 0, failedReplica);
        if (copies < a.ReplicationFactor)
            return new WriteOutcome(WriteStatus.InsufficientReplicas, 0, 0, $"{copies} durable copies, replication factor {a.ReplicationFactor}");
        return new WriteOutcome(WriteStatus.Ok, 0, 0, null);
    }

    private static async Task<WriteOutcome> Guard(Task<WriteOutcome> call)
    {
        try { return await call; }
        catch (Exception e) { return new WriteOutcome(WriteStatus.ReplicaFailed, 0, 0, e.GetType().Name + ": " + e.Message); }
    }

    private IShardReplicaGrain Replica(string silo) => GrainFactory.GetGrain<IShardReplicaGrain>((_key with { Silo = silo }).ToString());

    private static readonly TimeSpan LayoutReadOnActivation = TimeSpan.FromSeconds(3);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key} activated without reading its layout in time; it answers nothing until the layout grain configures it")]
    private partial void LogNoLayout(string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key} re-activated as {Role} without its data; it answers nothing until the layout replaces it")]
    private partial void LogLostCopy(string key, ShardRole role);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key} could not make generation {Generation} live as the layout says; the next push retries")]
    private partial void LogCatchUpFailed(string key, int generation, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key} stopped after a failed write and could not be reopened from its files yet; the next call tries again")]
    private partial void LogReopenFailed(string key, Exception error);
}
