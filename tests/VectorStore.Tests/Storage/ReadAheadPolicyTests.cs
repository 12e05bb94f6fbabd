using VectorStore.Collections;
using VectorStore.Storage;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Read-ahead hints for re-rank reads: on while reads miss the page cache (their faults must overlap), off once
/// unhinted reads stop faulting (a system call per row for nothing), and a cold cache probed less and less often.
/// </summary>
public sealed class ReadAheadPolicyTests
{
    [Fact]
    public void HintsFollowWhatUnhintedBatchesSee()
    {
        var p = new ReadAheadPolicy();
        Assert.True(p.Hinting); // a fresh mapping is assumed cold
        p.Observe(faults: 0, rows: 100);
        Assert.False(p.Hinting);
        p.Observe(faults: 4, rows: 100); // under one row in twenty: still warm
        Assert.False(p.Hinting);
        p.Observe(faults: 30, rows: 100);
        Assert.True(p.Hinting);
        Assert.Equal(16, p.ProbeInterval);
        for (int expected = 32; expected <= 1024; expected *= 2)
        {
            p.Observe(faults: 30, rows: 100); // a probe that found the cache still cold
            Assert.Equal(expected, p.ProbeInterval);
        }
        p.Observe(faults: 30, rows: 100);
        Assert.Equal(1024, p.ProbeInterval);
        p.Observe(faults: 0, rows: 100);
        Assert.False(p.Hinting);
        Assert.Equal(16, p.ProbeInterval);
    }

    [Fact]
    public void WhileHintingOneBatchInTheIntervalProbes()
    {
        if (!OperatingSystem.IsLinux()) return; // elsewhere every batch is hinted and nothing is counted
        var p = new ReadAheadPolicy();
        int probes = 0;
        for (int i = 0; i < 64; i++)
        {
            var b = p.Begin();
            if (!b.Hint)
            {
                probes++;
                Assert.True(b.FaultsBefore >= 0);
                p.Observe(faults: 50, rows: 100); // cold: keep hinting, back off
            }
        }
        Assert.True(p.Hinting);
        Assert.InRange(probes, 2, 4); // at 16, then 48 (interval 32); not every batch
    }

    [Fact]
    public void WhileWarmOneBatchInSixteenIsCountedAndAColdOneTurnsHintsBackOn()
    {
        if (!OperatingSystem.IsLinux()) return;
        var p = new ReadAheadPolicy();
        p.Observe(faults: 0, rows: 100);
        Assert.False(p.Hinting);
        int counted = 0;
        for (int i = 0; i < 64; i++)
        {
            var b = p.Begin();
            Assert.False(b.Hint);
            if (b.FaultsBefore < 0) continue;
            counted++;
            p.Observe(faults: 0, rows: 100); // still warm
        }
        Assert.Equal(4, counted); // not the two system calls per batch of every batch
        // The next counted batch that faults turns hints back on.
        for (int i = 0; i < 16 && !p.Hinting; i++)
            if (p.Begin() is { FaultsBefore: >= 0 }) p.Observe(faults: 30, rows: 100);
        Assert.True(p.Hinting);
    }

    [Fact]
    public void AWarmSegmentStopsBeingHintedAndResultsDoNotChange()
    {
        if (!OperatingSystem.IsLinux()) return;
        var dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(2_000, 32, 9);
        using var db = StorageTestKit.Open(dir);
        var c = db.CreateCollection("c", StorageTestKit.Options(32) with { RawVectors = RawVectorResidency.Disk });
        StorageTestKit.Load(c, data, 0, 500);
        db.Snapshot(); // seals the vectors into a segment: reads now come from the (just written, cached) mapping
        var options = new SearchOptions { K = 5, Rerank = 100 };
        var first = c.Search(data.Row(3), options);
        for (int i = 0; i < 200; i++) c.Search(data.Row(i), options);
        Assert.False(c.Vectors.ReadAheadHinting);
        Assert.Equal(first.Select(h => h.Id), c.Search(data.Row(3), options).Select(h => h.Id));
        Assert.Equal(3UL, first[0].Id);
    }
}
