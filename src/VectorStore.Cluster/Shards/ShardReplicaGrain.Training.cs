using VectorStore.Collections;

namespace VectorStore.Cluster.Shards;

/// <summary>
/// Shared training and copies. The engine's public API cannot import a trained codec, so every copy of every
/// shard trains on the identical sample instead: the sample's vectors are inserted first, in ascending id order,
/// into an empty collection, <c>BuildIndex</c> trains on exactly them (seeded), then the copy's own vectors are added
/// and the sample's foreign ids deleted. Same input, same seed: the same codec on every shard. A collection with
/// nothing shared to train (<c>none</c> with a flat index) skips all of that and builds each copy's index in place.
/// </summary>
internal sealed partial class ShardReplicaGrain
{
    public async Task<WriteOutcome> StageSampleAsync(RecordPage page, bool reset, long epoch)
    {
        var a = _assignment;
        if (a.Role != ShardRole.Primary || a.Epoch != epoch) return WriteOutcome.Stale($"{_key} is {a.Role} at epoch {a.Epoch}");
        await Task.Run(() => Stage(page, reset));
        return await ForwardAsync(a, g => g.ApplyStageSampleAsync(page, reset, a.Epoch));
    }

    public async Task<WriteOutcome> ApplyStageSampleAsync(RecordPage page, bool reset, long epoch)
    {
        var a = _assignment;
        if (a.Role is not (ShardRole.Replica or ShardRole.Learner) || a.Epoch != epoch) return WriteOutcome.Stale($"{_key} is {a.Role} at epoch {a.Epoch}");
        await Task.Run(() => Stage(page, reset));
        return new WriteOutcome(WriteStatus.Ok, 0, 0, null);
    }

    public async Task<WriteOutcome> RetrainAsync(int generation, long epoch)
    {
        var a = _assignment;
        if (a.Role != ShardRole.Primary || a.Epoch != epoch) return WriteOutcome.Stale($"{_key} is {a.Role} at epoch {a.Epoch}");
        await Task.Run(() => Rebuild(generation));
        return await ForwardAsync(a, g => g.ApplyRetrainAsync(generation, a.Epoch));
    }

    public async Task<WriteOutcome> ApplyRetrainAsync(int generation, long epoch)
    {
        var a = _assignment;
        if (a.Role is not (ShardRole.Replica or ShardRole.Learner) || a.Epoch != epoch) return WriteOutcome.Stale($"{_key} is {a.Role} at epoch {a.Epoch}");
        await Task.Run(() => Rebuild(generation));
        return new WriteOutcome(WriteStatus.Ok, _data?.Count ?? 0, 0, null);
    }

    public async Task<bool> CopyStepAsync(string learner, long session, int pageSize)
    {
        var a = _assignment;
        if (a.Role != ShardRole.Primary || !a.Followers.Contains(learner))
            throw new InvalidOperationException($"{_key} ({a.Role}) is not copying to {learner}");
        var data = _data ?? throw new InvalidOperationException($"{_key} holds no data");
        if (_failedFollowers.Remove(learner)) throw new InvalidOperationException($"{learner} missed a forwarded batch; its copy restarts");
        if (!_copies.TryGetValue(learner, out var cursor) || cursor.Session != session)
        {
            bool sample = _sample is not null && !a.Spec.TrainsInPlace;
            _copies[learner] = cursor = new CopyCursor(session, sample, sample ? _sample!.Ids() : data.Ids());
        }
        var target = Replica(learner);
        var ids = cursor.Ids;
        if (cursor.Position < ids.Length)
        {
            var slice = ids.AsSpan(cursor.Position, Math.Min(pageSize, ids.Length - cursor.Position)).ToArray();
            var page = await Task.Run(() => Read(cursor.SamplePhase ? _sample! : data, slice, vectors: true));
            var outcome = cursor.SamplePhase
                ? await target.ApplyStageSampleAsync(page, cursor.Position == 0, a.Epoch)
                : await target.CopyDataAsync(page, session);
            Check(outcome, learner);
            cursor.Position += slice.Length;
            return false;
        }
        if (cursor.SamplePhase)
        {
            cursor.SamplePhase = false;
            cursor.Ids = data.Ids();
            cursor.Position = 0;
            return false;
        }
        // The learner now holds the sample and all the data: it trains (same sample, same codec) once, with its
        // final ids as places. Then, as everything forwarded before this turn has been applied there and nothing
        // after it, the primary's id set is exactly what the learner must keep.
        if (_generation > 0) Check(await target.ApplyRetrainAsync(_generation, a.Epoch), learner);
        Check(await target.FinishCopyAsync(data.Ids(), session), learner);
        _copies.Remove(learner);
        return true;
    }

    public async Task<WriteOutcome> CopyDataAsync(RecordPage page, long session)
    {
        var a = _assignment;
        if (a.Role != ShardRole.Learner || a.CopySession != session) return WriteOutcome.Stale($"{_key} is {a.Role} (session {a.CopySession}), copy session {session}");
        await Task.Run(() => UpsertPage(_data!, page));
        return new WriteOutcome(WriteStatus.Ok, 0, 0, null);
    }

    public async Task<WriteOutcome> FinishCopyAsync(ulong[] keep, long session)
    {
        var a = _assignment;
        if (a.Role != ShardRole.Learner || a.CopySession != session) return WriteOutcome.Stale($"{_key} is {a.Role} (session {a.CopySession}), copy session {session}");
        int deleted = await Task.Run(() =>
        {
            var keepSet = keep.ToHashSet();
            return DeleteMany(_data!, _data!.Ids().Where(id => !keepSet.Contains(id)).ToArray());
        });
        return new WriteOutcome(WriteStatus.Ok, _data!.Count, deleted, null);
    }

    private static void Check(WriteOutcome outcome, string learner)
    {
        if (outcome.Status != WriteStatus.Ok) throw new InvalidOperationException($"copy to {learner} refused: {outcome.Detail}");
    }

    private void Stage(RecordPage page, bool reset)
    {
        if (reset || _staging is null)
        {
            store.Drop(_staging);
            _staging = store.Create(_key.LocalPrefix, 't', _assignment.Spec.ShardOptions());
        }
        if (page.Count > 0) UpsertPage(_staging, page);
    }

    /// <summary>
    /// Replaces the data collection by one trained on the staged sample. The sample's vectors go in first, in
    /// ascending sample-id order, under this copy's own ids (the engine trains on vectors by slot and never looks at
    /// ids, so every copy trains on identical input); then the real vectors replace them id by id. Only when the copy
    /// holds fewer vectors than the sample do filler ids remain to delete: the engine has no batch delete and each
    /// delete is its own durable commit, which is why the layout grain sizes the sample to the smallest shard.
    /// On failure the old collection stays.
    /// </summary>
    private void Rebuild(int generation)
    {
        if (_assignment.Spec.TrainsInPlace)
        {
            TrainInPlace(generation);
            return;
        }
        var sample = _staging ?? throw new InvalidOperationException($"{_key} has no staged training sample");
        var old = _data;
        var fresh = store.Create(_key.LocalPrefix, 'd', _assignment.Spec.ShardOptions());
        try
        {
            var sampleIds = sample.Ids();
            var own = old?.Ids() ?? [];
            var fillers = Fillers(own, sampleIds.Length - own.Length);
            var places = own.Length >= sampleIds.Length ? own[..sampleIds.Length] : [.. own, .. fillers];
            for (int i = 0; i < sampleIds.Length; i += Chunk)
            {
                int n = Math.Min(Chunk, sampleIds.Length - i);
                var page = Read(sample, sampleIds.AsSpan(i, n).ToArray(), vectors: true);
                fresh.UpsertBatch(places[i..(i + n)], new VectorMatrix(page.Vectors, fresh.Options.Dimension));
            }
            fresh.BuildIndex();
            if (old is not null) CopyInto(old, fresh, own);
            DeleteMany(fresh, fillers);
        }
        catch
        {
            store.Drop(fresh);
            throw;
        }
        _data = fresh;
        store.Drop(old);
        store.Drop(_sample);
        _sample = sample;
        _staging = null;
        _generation = generation;
    }

    /// <summary>
    /// Training without a shared sample (<see cref="Layout.CollectionSpec.TrainsInPlace"/>): the data collection builds
    /// its index on its own vectors. An empty copy cannot, and stays at generation 0 until it holds vectors and knows the
    /// collection is trained (<see cref="TrainInPlaceIfBehind"/>, from a write or a layout push). A sample staged before
    /// (by a cluster that trained such a collection the old way) goes.
    /// </summary>
    private void TrainInPlace(int generation)
    {
        var data = _data ?? throw new InvalidOperationException($"{_key} holds no data");
        store.Drop(_staging);
        store.Drop(_sample);
        _staging = _sample = null;
        if (data.Count == 0) return;
        data.BuildIndex();
        _dataTrained = true;
        _generation = generation;
    }

    /// <summary>In-place training for a copy that is behind its trained collection and now holds vectors.</summary>
    private void TrainInPlaceIfBehind(ShardAssignment a)
    {
        if (_generation == 0 && a.TrainingGeneration > 0 && a.Spec.TrainsInPlace && _data is { Count: > 0 }) TrainInPlace(a.TrainingGeneration);
    }

    // Whether the data collection found at activation had its index (read there, off the grain's thread).
    private bool _dataTrained;

    /// <summary>The training generation the local collections found at activation carry under <paramref name="a"/>.</summary>
    private int GenerationOf(ShardAssignment a) =>
        (a.Spec.TrainsInPlace ? _dataTrained : _sample is not null) ? a.TrainingGeneration : 0;

    /// <summary><paramref name="count"/> ids this copy does not hold, from the top of the id space down.</summary>
    private static ulong[] Fillers(ulong[] own, int count)
    {
        if (count <= 0) return [];
        var taken = own.ToHashSet();
        var fillers = new List<ulong>(count);
        for (ulong id = ulong.MaxValue; fillers.Count < count; id--)
            if (!taken.Contains(id)) fillers.Add(id);
        return [.. fillers];
    }

    private static void CopyInto(Collection from, Collection to, ulong[] ids)
    {
        for (int i = 0; i < ids.Length; i += Chunk)
        {
            var page = Read(from, ids.AsSpan(i, Math.Min(Chunk, ids.Length - i)).ToArray(), vectors: true);
            if (page.Count > 0) UpsertPage(to, page);
        }
    }
}
