using System.Diagnostics;
using VectorStore.Cluster.Layout;
using VectorStore.Cluster.Shards;
using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Filtering;

namespace VectorStore.Cluster;

/// <summary>Writes: validated and normalized here, split by shard, sent to each primary, retried while the layout heals.</summary>
public sealed partial class DistributedCollection
{
    /// <summary>Inserts or replaces one vector.</summary>
    public void Upsert(ulong id, ReadOnlySpan<float> vector, ReadOnlySpan<byte> payload = default)
    {
        if (vector.Length != Options.Dimension)
            throw new InvalidVectorException($"collection '{Name}' expects dimension {Options.Dimension}, got {vector.Length}");
        UpsertBatch([id], new VectorMatrix(vector.ToArray(), vector.Length), payload.IsEmpty ? null : [payload.ToArray()]);
    }

    /// <inheritdoc cref="UpsertBatchAsync(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]})"/>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The same overload set as Collection.UpsertBatch and IVectorDatabaseClient.UpsertBatchAsync (shipped): a distributed collection has the embedded one's shape.")]
    public void UpsertBatch(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads = null) =>
        UpsertBatchAsync(ids, vectors, payloads).GetAwaiter().GetResult();

    /// <summary>
    /// Inserts or replaces a batch. Every vector is checked (dimension, NaN/Infinity, repeated ids) before anything
    /// is sent; returns once every shard's part is durable on R silos. <paramref name="vectors"/> is not modified.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027", Justification = "The same overload set as Collection.UpsertBatch and IVectorDatabaseClient.UpsertBatchAsync (shipped): a distributed collection has the embedded one's shape.")]
    public Task UpsertBatchAsync(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads = null) =>
        UpsertBatchAsync(ids, vectors, payloads, null);

    /// <inheritdoc cref="UpsertBatchAsync(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]}, IReadOnlyList{IReadOnlyDictionary{string, FieldValue}})"/>
    public void UpsertBatch(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads,
        IReadOnlyList<IReadOnlyDictionary<string, FieldValue>?>? fields) =>
        UpsertBatchAsync(ids, vectors, payloads, fields).GetAwaiter().GetResult();

    /// <summary>
    /// <see cref="UpsertBatchAsync(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]})"/> with field values:
    /// <paramref name="fields"/> is null or holds one entry per id, naming only declared fields with values of their
    /// declared types (checked here, before anything is sent); every copy of the shard stores the same values.
    /// </summary>
    public async Task UpsertBatchAsync(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads,
        IReadOnlyList<IReadOnlyDictionary<string, FieldValue>?>? fields)
    {
        var prepared = Prepare(ids, vectors, payloads);
        var encodedFields = FieldSets.Encode(Options.Fields ?? [], ids, fields);
        var layout = Volatile.Read(ref _layout);
        var byShard = new Dictionary<int, List<int>>();
        for (int i = 0; i < ids.Count; i++)
        {
            int s = layout.ShardOf(ids[i]);
            if (!byShard.TryGetValue(s, out var rows)) byShard[s] = rows = [];
            rows.Add(i);
        }
        int dim = Options.Dimension;
        var sends = new List<Task<WriteOutcome>>();
        foreach (var (shard, rows) in byShard)
        {
            for (int start = 0; start < rows.Count; start += _options.MaxRowsPerMessage)
            {
                var part = rows.GetRange(start, Math.Min(_options.MaxRowsPerMessage, rows.Count - start));
                var v = new float[part.Count * dim];
                for (int j = 0; j < part.Count; j++) prepared.Row(part[j]).CopyTo(v.AsSpan(j * dim, dim));
                var batch = new ShardBatch
                {
                    Incarnation = Incarnation,
                    Ids = part.Select(r => ids[r]).ToArray(),
                    Vectors = v,
                    Payloads = payloads is null ? null : part.Select(r => payloads[r]).ToArray(),
                    Fields = encodedFields is null ? null : part.Select(r => encodedFields[r]).ToArray(),
                };
                sends.Add(WriteAsync(shard, batch));
            }
        }
        var outcomes = await Task.WhenAll(sends);
        MaybeTrain(layout, outcomes);
    }

    /// <inheritdoc cref="DeleteAsync"/>
    public bool Delete(ulong id) => DeleteAsync(id).GetAwaiter().GetResult();

    /// <summary>Deletes <paramref name="id"/>; false when it was not present. Durable on R silos when it returns.</summary>
    public async Task<bool> DeleteAsync(ulong id)
    {
        var outcome = await WriteAsync(Volatile.Read(ref _layout).ShardOf(id), new ShardBatch { Deletes = [id], Incarnation = Incarnation });
        return outcome.Deleted > 0;
    }

    /// <summary>
    /// Deletes <paramref name="ids"/>, one write per shard; per id, whether it was present. Durable on R silos when it
    /// returns. A retried call (after a failure) reports what the retry found: ids its failed attempt already removed
    /// read as absent.
    /// </summary>
    public async Task<bool[]> DeleteBatchAsync(IReadOnlyList<ulong> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var layout = Volatile.Read(ref _layout);
        var present = new bool[ids.Count];
        // Repeats go to the same shard in the same batch; the engine answers the second one "absent", as in process.
        var sends = new List<Task>();
        foreach (var group in Enumerable.Range(0, ids.Count).GroupBy(i => layout.ShardOf(ids[i])))
        {
            var rows = group.ToArray();
            for (int start = 0; start < rows.Length; start += _options.MaxRowsPerMessage)
            {
                var part = rows[start..Math.Min(rows.Length, start + _options.MaxRowsPerMessage)];
                sends.Add(DeletePartAsync(group.Key, part));
            }
        }
        await Task.WhenAll(sends);
        return present;

        async Task DeletePartAsync(int shard, int[] rows)
        {
            var outcome = await WriteAsync(shard, new ShardBatch { Deletes = rows.Select(r => ids[r]).ToArray(), Incarnation = Incarnation });
            for (int j = 0; j < rows.Length; j++) present[rows[j]] = outcome.Removed?[j] ?? false;
        }
    }

    private VectorMatrix Prepare(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(vectors);
        if (vectors.Dimension != Options.Dimension)
            throw new InvalidVectorException($"collection '{Name}' expects dimension {Options.Dimension}, got {vectors.Dimension}");
        // The engine's own checks and normalization; shards store inner-product collections of normalized rows.
        return UpsertBatchPreparation.Prepare(ids, vectors, payloads, Options.Metric);
    }

    /// <summary>
    /// Sends one shard's batch to its primary until it is acknowledged: a stale layout is re-read, a dead or
    /// replaced primary is reported and waited out, all within <see cref="ClusterCoordinatorOptions.WriteTimeout"/>.
    /// </summary>
    private async Task<WriteOutcome> WriteAsync(int shard, ShardBatch batch)
    {
        var clock = Stopwatch.StartNew();
        int delayMs = 20;
        string reason = "";
        while (true)
        {
            var layout = Volatile.Read(ref _layout);
            var p = layout.Shards[shard];
            try
            {
                var outcome = await UnlessDeposedAsync(Copy(layout, shard, p.Primary).WriteAsync(batch, p.Epoch), shard, p);
                if (outcome is null) reason = $"primary {p.Primary} was replaced while the write waited";
                else if (outcome.Status == WriteStatus.Ok) return outcome;
                else reason = $"{outcome.Status}: {outcome.Detail}";
            }
            catch (ClusterUnavailableException e)
            {
                // The layout could not be read while the write waited (its grain's silo died meanwhile): ride it out
                // like an unanswered primary, until the write timeout.
                reason = e.Message;
            }
            catch (Exception e) when (e is not VectorStoreException)
            {
                // The primary did not answer: let the layout grain check membership (it promotes only a dead one).
                reason = $"primary {p.Primary} unreachable: {e.GetType().Name}: {e.Message}";
                LayoutGrain.ReportFailureAsync(shard, p.Primary, p.Epoch).Ignore();
            }
            if (clock.Elapsed > _options.WriteTimeout)
                throw new ClusterUnavailableException($"write to shard {shard} of '{Name}' not acknowledged within {_options.WriteTimeout.TotalSeconds:0.#} s ({reason})");
            await Task.Delay(delayMs);
            delayMs = Math.Min(500, delayMs * 2);
            try { await GetLayoutAsync(); }
            catch (Exception e) when (e is not InvalidArgumentException) { reason += $"; layout unreadable: {e.Message}"; }
        }
    }

    /// <summary>
    /// Waits for a write, but gives up on it (null) once the layout names another primary for the shard: a call to a
    /// silo that died is only broken by Orleans inside the cluster, so an outside client would otherwise wait for the
    /// whole response timeout. The abandoned attempt cannot be acknowledged by anyone else (epoch fencing) and
    /// retrying it is idempotent.
    /// </summary>
    private async Task<WriteOutcome?> UnlessDeposedAsync(Task<WriteOutcome> call, int shard, ShardPlacement routed)
    {
        while (!await call.CompletesWithin(PollInterval))
        {
            var read = LayoutGrain.GetAsync();
            if (!await read.CompletesWithin(PollInterval) || !read.IsCompletedSuccessfully)
            {
                read.ObserveFaults();
                continue;
            }
            var fresh = read.Result;
            bool replaced = fresh is not null && !ClusterLayout.SameIncarnation(fresh.Incarnation, Incarnation);
            var now = fresh is not null && !replaced && shard < fresh.Shards.Length ? fresh.Shards[shard] : null;
            if (replaced || (now is not null && now.Epoch != routed.Epoch))
            {
                call.ObserveFaults();
                await GetLayoutAsync();
                return null;
            }
        }
        return await call;
    }

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The embedded collection trains when it crosses its threshold; here a shard's count after a write hints that
    /// the total may have, and the layout grain checks the real total before training every shard together.
    /// </summary>
    private void MaybeTrain(ClusterLayout layout, WriteOutcome[] outcomes)
    {
        if (layout.TrainingGeneration > 0 || outcomes.Length == 0) return;
        long estimate = (long)outcomes.Max(o => o.Count) * layout.Shards.Length;
        if (estimate < layout.Spec.TrainingThreshold || Interlocked.Exchange(ref _trainingRequested, 1) == 1) return;
        _ = Task.Run(async () =>
        {
            try { await LayoutGrain.TrainAsync(force: false); }
            catch (Exception) { Volatile.Write(ref _trainingRequested, 0); } // a later write asks again
        });
    }
}
