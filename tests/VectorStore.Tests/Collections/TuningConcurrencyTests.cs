using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Evaluation;
using VectorStore.Ranking;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>
/// A tuning for a target recall takes the collection's read lock per unit of work (a slice of one query's exact scan,
/// one query's candidates, a timing pass), not for the seconds the whole tuning takes: writers go on meanwhile, the
/// tuning copes with the slots they change, and searches that wait for a tuning never deadlock with them.
/// </summary>
public class TuningConcurrencyTests
{
    /// <summary>
    /// A write issued while a tuning runs returns before the tuning has done its last unit: it waited for one unit, not
    /// for the tuning. (Were the lock held from the first unit to the last, the write would return only after it.)
    /// </summary>
    [Fact]
    public async Task AWriteDuringATuningWaitsForOneUnitNotForTheTuning()
    {
        var data = SyntheticData.Clustered(60_100, 128, seed: 31);
        using var db = VectorDatabase.CreateInMemory();
        var c = Loaded(db, data, 60_000, "sq8", "flat", 1000);

        var tuning = Task.Run(() => c.TuneSearch(0.95));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (c.TuningUnits < 3)
        {
            Assert.True(DateTime.UtcNow < deadline && !tuning.IsCompleted, "the tuning did not start its units");
            await Task.Delay(1);
        }
        c.Upsert(1_000_000, data.Row(60_000));
        c.Delete(5);
        long unitsAtWrite = c.TuningUnits;
        var tuned = await tuning.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(c.TuningUnits > unitsAtWrite,
            $"the writes returned only after the tuning's last unit ({unitsAtWrite} of {c.TuningUnits}): they waited for the whole tuning");

        // What it chose still reaches the target on held-out queries.
        var queries = data.Slice(60_000, 100);
        var ids = c.Ids();
        var live = new VectorMatrix(ids.Length, 128);
        for (int i = 0; i < ids.Length; i++) c.Get(ids[i])!.Vector.CopyTo(live[i]);
        var truth = GroundTruth.Compute(live, queries, 10, DistanceKind.L2).Select(row => row.Select(r => (int)ids[r]).ToArray()).ToArray();
        var hits = c.SearchBatch(queries, new SearchOptions { Rerank = tuned.Rerank });
        double recall = Recall.AtK(hits.Select(h => h.Select(x => (long)x.Id).ToArray()).ToArray(), truth, 10);
        Assert.True(recall >= 0.93, $"recall {recall} at the tuned depth {tuned.Rerank}");
    }

    /// <summary>
    /// Out of core, a deleted slot has no row to read: a tuning that runs while a writer deletes and adds vectors skips
    /// the slots gone since it listed them, instead of failing on them, and still gives settings that work.
    /// </summary>
    [Fact]
    public async Task ATuningOutOfCoreCopesWithVectorsDeletedAndAddedMeanwhile()
    {
        var data = SyntheticData.Clustered(24_200, 32, seed: 7);
        using var db = VectorDatabase.Open(TestData.TempDir());
        var c = db.CreateCollection("t", new CollectionOptions
        {
            Dimension = 32, Metric = Metric.L2, Compression = "pq:8x4", Index = "ivf:32", TrainingThreshold = 4000, RawVectors = RawVectorResidency.Disk,
        });
        c.UpsertBatch(Enumerable.Range(0, 16_000).Select(i => (ulong)i).ToArray(), data.Slice(0, 16_000));
        db.Snapshot(); // the rows now live in a segment file
        var queries = data.Slice(24_000, 200);

        for (int round = 0; round < 3; round++)
        {
            var tuning = Task.Run(() => c.TuneSearchOnQueries(0.9, queries));
            int next = 16_000 + round * 2_000, victim = round * 4_000;
            while (!tuning.IsCompleted)
            {
                if (victim < (round + 1) * 4_000)
                {
                    await c.DeleteBatchAsync(Enumerable.Range(victim, 250).Select(i => (ulong)i).ToArray());
                    victim += 250;
                }
                if (next < 16_000 + (round + 1) * 2_000)
                {
                    c.UpsertBatch(Enumerable.Range(next, 250).Select(i => (ulong)i).ToArray(), data.Slice(next, 250));
                    next += 250;
                }
                await Task.Delay(1);
            }
            var tuned = await tuning;
            Assert.InRange(tuned.Rerank, 10, 999);
            Assert.InRange(tuned.NProbe, 1, 32);
        }
        var hits = c.SearchBatch(queries, new SearchOptions { TargetRecall = 0.9 });
        Assert.All(hits, h => Assert.Equal(10, h.Length));
        Assert.All(hits.SelectMany(h => h), hit => Assert.True(c.Contains(hit.Id), $"hit {hit.Id} was deleted"));
    }

    /// <summary>
    /// Writes between the exact scan and the measurements: each query's 15 nearest vectors are deleted and a near
    /// copy of it added (into a freed slot, still live to the tuner). Measured against the scan's truth, every knob
    /// scored 0 recall and the tuning fell back to its deepest depth; each measurement uses the truth of the live
    /// vectors at that unit, so the tuning meets the target and what it chose holds on the collection as written.
    /// </summary>
    [Fact]
    public async Task WritesBetweenTheExactScanAndTheMeasurementsAreInTheTruthTheTuningMeasuresAgainst()
    {
        const int count = 4_000, sample = 50;
        var data = SyntheticData.Clustered(count + sample, 32, seed: 23);
        using var db = VectorDatabase.CreateInMemory();
        var c = Loaded(db, data, count, "pq:8x4", "ivf:16", 2000);
        var queries = data.Slice(count, sample);
        var nearest = GroundTruth.Compute(data.Slice(0, count), queries, 15, DistanceKind.L2);
        using var paused = new ManualResetEventSlim();
        using var resume = new ManualResetEventSlim();
        int units = 0;
        c.BeforeTuningUnit = () =>
        {
            // Unit 1 lists the slots, units 2 to 51 scan one query each (4,000 slots are one slice): every unit from
            // the 52nd on measures, and waits for the writes.
            if (Interlocked.Increment(ref units) < 2 + sample) return;
            paused.Set();
            resume.Wait(TimeSpan.FromSeconds(60));
        };
        var tuning = Task.Run(() => c.TuneSearchOnQueries(0.9, queries));
        Assert.True(paused.Wait(TimeSpan.FromSeconds(60)), "the tuning did not reach its measurements");
        await c.DeleteBatchAsync(nearest.SelectMany(row => row).Distinct().Select(s => (ulong)s).ToArray());
        var near = new VectorMatrix(sample, 32);
        for (int i = 0; i < sample; i++)
            for (int d = 0; d < 32; d++) near[i][d] = queries[i][d] + 0.001f;
        c.UpsertBatch(Enumerable.Range(0, sample).Select(i => (ulong)(1_000_000 + i)).ToArray(), near);
        resume.Set();
        var tuned = await tuning.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.InRange(tuned.Rerank, 10, 999);

        var ids = c.Ids();
        var live = new VectorMatrix(ids.Length, 32);
        for (int i = 0; i < ids.Length; i++) c.Get(ids[i])!.Vector.CopyTo(live[i]);
        var truth = GroundTruth.Compute(live, queries, 10, DistanceKind.L2).Select(row => row.Select(r => (int)ids[r]).ToArray()).ToArray();
        var hits = c.SearchBatch(queries, new SearchOptions { Rerank = tuned.Rerank, NProbe = tuned.NProbe });
        double recall = Recall.AtK(hits.Select(h => h.Select(x => (long)x.Id).ToArray()).ToArray(), truth, 10);
        Assert.True(recall >= 0.9, $"recall {recall} at the tuned depth {tuned.Rerank} and {tuned.NProbe} lists");
    }

    /// <summary>
    /// An index rebalanced between two units of a tuning (here: inside the parallel exact scan) abandons that tuning;
    /// <c>TuneSearch</c> tunes the rebalanced index instead and its caller never sees the abandonment, nor does a
    /// target-recall search running at the same time.
    /// </summary>
    [Fact]
    public async Task ATuningWhoseIndexIsRebalancedMeanwhileIsRunAgainUnseenByItsCaller()
    {
        var data = SyntheticData.Clustered(40_100, 32, seed: 17);
        using var db = VectorDatabase.CreateInMemory();
        var c = Loaded(db, data, 40_000, "pq:8x4", "ivf:64", 4000);
        using var paused = new ManualResetEventSlim();
        using var resume = new ManualResetEventSlim();
        int units = 0;
        c.BeforeTuningUnit = () =>
        {
            // The fifth unit is a slice of the exact scan, run by a parallel worker (units 1 and 2 list the slots and
            // read the sample on the calling thread).
            if (Interlocked.Increment(ref units) != 5) return;
            paused.Set();
            resume.Wait(TimeSpan.FromSeconds(60));
        };
        var tuning = Task.Run(() => c.TuneSearch(0.95));
        Assert.True(paused.Wait(TimeSpan.FromSeconds(60)), "the tuning did not reach its fifth unit");
        var search = Task.Run(() => c.Search(data.Row(40_000), new SearchOptions { TargetRecall = 0.9 }));
        Assert.NotNull(c.Rebalance(force: true));
        resume.Set();
        var tuned = await tuning.WaitAsync(TimeSpan.FromSeconds(120));
        var hits = await search.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(c.TuningsAbandoned >= 1, "the rebalance did not abandon the tuning it interrupted");
        Assert.InRange(tuned.Rerank, 10, 999);
        Assert.InRange(tuned.NProbe, 1, 64);
        Assert.Equal(10, hits.Length);
        // What TuneSearch returned is the rebalanced index's setting, the one TargetRecall searches now use.
        Assert.Equal(tuned, c.TuneSearch(0.95));
    }

    /// <summary>
    /// First searches for a target (each waits for the one tuning) and a writer at the same time all finish: no search
    /// waits for a tuning while it holds the lock that tuning needs back (behind the waiting writer).
    /// </summary>
    [Fact]
    public async Task FirstTargetRecallSearchesAndAWriterTogetherAllFinish()
    {
        var data = SyntheticData.Clustered(20_000, 32, seed: 13);
        using var db = VectorDatabase.CreateInMemory();
        var c = Loaded(db, data, 18_000, "pq:8x4", "hnsw:8", 2000);
        c.TuneSearchOnQueries(0.8, data.Slice(19_000, 100)); // later tunings run on these (and tune the beam)
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            int id = 18_000;
            while (!stop.IsCancellationRequested)
            {
                c.Upsert((ulong)id, data.Row(id % 1_000 + 18_000));
                id++;
            }
        });
        var searchers = Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            foreach (double target in new[] { 0.85, 0.9, 0.95 })
                for (int i = 0; i < 20; i++)
                    Assert.Equal(10, c.Search(data.Row(19_000 + t * 20 + i), new SearchOptions { TargetRecall = target }).Length);
        })).ToArray();
        var batch = Task.Run(() => c.SearchBatch(data.Slice(19_500, 100), new SearchOptions { TargetRecall = 0.97 }));
        try
        {
            await Task.WhenAll(searchers.Append(batch)).WaitAsync(TimeSpan.FromSeconds(120));
        }
        finally { stop.Cancel(); }
        await writer.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(c.HasTunedSearch(0.85) && c.HasTunedSearch(0.9) && c.HasTunedSearch(0.95) && c.HasTunedSearch(0.97));
    }

    /// <summary>An in-memory L2 collection "t" over <paramref name="data"/>'s rows, holding its first <paramref name="count"/>.</summary>
    private static Collection Loaded(VectorDatabase db, VectorMatrix data, int count, string compression, string index, int trainingThreshold)
    {
        var c = db.CreateCollection("t", new CollectionOptions
        {
            Dimension = data.Dimension, Metric = Metric.L2, Compression = compression, Index = index, TrainingThreshold = trainingThreshold,
        });
        c.UpsertBatch(Enumerable.Range(0, count).Select(i => (ulong)i).ToArray(), data.Slice(0, count));
        return c;
    }
}
