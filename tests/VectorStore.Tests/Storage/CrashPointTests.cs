using System.Diagnostics;
using System.Text;
using VectorStore.Collections;
using VectorStore.IO;
using VectorStore.Storage;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Kills the real CLI (<c>vectorstore load --writers 3</c>) with SIGKILL at injected steps of a group commit
/// (<see cref="CrashPoints"/>: after an append, after the segment fsync, after the commit-metadata slot, after the
/// durable-tail record, and right after a commit that ended exactly on a page boundary after padding), with 4 KiB log
/// pages so commits cross and end on page boundaries. After each kill the directory must open, read-write and
/// read-only, with every acknowledged batch bit-identical and nothing never written.
/// </summary>
public sealed class CrashPointTests(ITestOutputHelper output)
{
    private const int Rows = 6000, Dim = 32, PageBits = 12;

    private static StorageSettings Settings { get; } = new()
    {
        Wal = new WalSettings { PageSizeBits = PageBits, MemorySizeBits = PageBits + 1, SegmentSizeBits = PageBits + 2 },
    };

    public static TheoryData<string, int> Points() => new()
    {
        { CrashPoints.Appended, 7 },
        { CrashPoints.Appended, 60 },
        { CrashPoints.SegmentsSynced, 4 },
        { CrashPoints.SegmentsSynced, 25 },
        { CrashPoints.CommitWritten, 4 },
        { CrashPoints.CommitWritten, 25 },
        { CrashPoints.TailWritten, 4 },
        { CrashPoints.TailWritten, 25 },
        { CrashPoints.PageBoundaryCommit, 1 },
        { CrashPoints.PageBoundaryCommit, 2 },
    };

    [Theory]
    [MemberData(nameof(Points))]
    public void KilledAtACommitStepOpensWithEveryAcknowledgedBatch(string point, int hit) =>
        Assert.True(KillAt(point, hit), $"the load finished without reaching crash point {point} #{hit}: nothing was tested");

    /// <summary>
    /// Every commit step at hits 1–12 and the first 8 page-boundary commits (a load meets about ten; 56 kills, about
    /// 3 minutes):
    /// <c>dotnet test tests/VectorStore.Tests -c Release --filter "FullyQualifiedName~CrashPointTests&amp;Category=Long"</c>.
    /// </summary>
    [Fact]
    [Trait("Category", "Long")]
    public void KilledAtEveryCommitStepManyTimes()
    {
        int kills = 0, boundaryKills = 0;
        foreach (var point in new[] { CrashPoints.Appended, CrashPoints.SegmentsSynced, CrashPoints.CommitWritten, CrashPoints.TailWritten })
            for (int hit = 1; hit <= 12; hit++)
            {
                Assert.True(KillAt(point, point == CrashPoints.Appended ? hit * 5 : hit), $"{point} #{hit} never reached");
                kills++;
            }
        for (int hit = 1; hit <= 8; hit++)
            if (KillAt(CrashPoints.PageBoundaryCommit, hit)) boundaryKills++;
        output.WriteLine($"{kills} commit-step kills, {boundaryKills} of 8 page-boundary kills reached");
        Assert.True(boundaryKills >= 4, $"only {boundaryKills} of 8 loads reached their page-boundary commit");
    }

    /// <summary>Runs a load killed at <paramref name="point"/> #<paramref name="hit"/>; false when the load finished first (then nothing is checked).</summary>
    private bool KillAt(string point, int hit)
    {
        var dir = TestData.TempDir();
        string db = Path.Combine(dir, "db"), file = Path.Combine(dir, "v.fvecs");
        var data = StorageTestKit.Vectors(Rows, Dim, 21);
        VectorFiles.WriteFvecs(file, data);
        Assert.Equal(0, Run(["create", "--db", db, "--collection", "c", "--dim", $"{Dim}", "--metric", "l2", "--compression", "sq8", "--training-threshold", "1000"], null, out _, out _));
        int code = Run(["load", "--db", db, "--collection", "c", "--vectors", file, "--batch", "20", "--writers", "3", "--payload-ids"],
            $"{point}:{hit}", out var stdout, out var stderr);
        var acked = stdout.Split('\n').Select(l => l.Split(' ')).Where(p => p.Length == 3 && p[0] == "acked")
            .Select(p => (First: ulong.Parse(p[1]), Last: ulong.Parse(p[2]))).ToList();
        output.WriteLine($"{point}:{hit}: exit {code}, {acked.Count} batches acknowledged");
        if (code == 0 && stderr.Contains("loaded ", StringComparison.Ordinal)) return false;
        Assert.True(code == 137, $"the load failed rather than being killed (exit {code}): {stderr}");
        if (point == CrashPoints.PageBoundaryCommit) NothingPastTheCommit(db, data, acked);
        using (var ro = VectorDatabase.OpenReadOnly(db, null, Settings)) Verify(ro.GetCollection("c"), data, acked);
        var rw = VectorDatabase.Open(db, null, Settings);
        Verify(rw.GetCollection("c"), data, acked);
        // Recovery committed what it read (entries past FASTER's address included): a second crash loses nothing.
        rw.SimulateCrash();
        using (var again = VectorDatabase.Open(db, null, Settings)) Verify(again.GetCollection("c"), data, acked);
        return true;
    }

    /// <summary>
    /// The same crash had the entries appended after the page-boundary commit not reached the disk (on a copy: every
    /// log byte past the durable address zeroed): the log then ends in page padding right up to the durable address,
    /// which replay once refused as a scan that stopped short.
    /// </summary>
    private void NothingPastTheCommit(string db, VectorMatrix data, List<(ulong First, ulong Last)> acked)
    {
        var copy = StorageTestKit.CopyDirectory(db);
        string wal = Path.Combine(copy, "collections", "c", "wal");
        long committed;
        using (var log = FasterWriteAheadLog.OpenForReading(wal, Settings.Wal)) committed = log.CommittedAddress;
        TailRecord tail;
        using (var t = DurableTail.OpenRead(Path.Combine(wal, DurableTail.FileName))) tail = t.Read();
        long cut = Math.Max(committed, tail.Durable);
        output.WriteLine($"durable {tail.Durable}, FASTER committed {committed}: page boundary {cut % (1L << PageBits) == 0}");
        foreach (var f in Directory.GetFiles(wal, "wal.log.*"))
        {
            long start = long.Parse(f[(f.LastIndexOf('.') + 1)..]) << Settings.Wal.SegmentSizeBits;
            long from = Math.Max(0, cut - start), length = new FileInfo(f).Length;
            if (from < length) LogLayout.Zero(f, from, (int)(length - from));
        }
        using (var ro = VectorDatabase.OpenReadOnly(copy, null, Settings)) Verify(ro.GetCollection("c"), data, acked);
        using var rw = VectorDatabase.Open(copy, null, Settings);
        Verify(rw.GetCollection("c"), data, acked);
    }

    private static void Verify(Collection c, VectorMatrix data, List<(ulong First, ulong Last)> acked)
    {
        foreach (var (first, last) in acked)
            for (ulong id = first; id <= last; id++)
                Assert.True(c.Get(id) is not null, $"acknowledged id {id} is missing");
        foreach (var id in c.Ids())
        {
            Assert.True(id < Rows, $"id {id} was never written");
            var r = c.Get(id)!;
            Assert.True(data.Row((int)id).SequenceEqual(r.Vector), $"id {id}: vector is not bit-identical");
            Assert.Equal(Encoding.UTF8.GetBytes($"id:{id}"), r.Payload);
        }
    }

    private static int Run(string[] args, string? crashAt, out string stdout, out string stderr)
    {
        var psi = CrashRecoveryTests.CliStart(args);
        psi.Environment["VECTORSTORE_WAL_PAGE_BITS"] = $"{PageBits}";
        if (crashAt is not null) psi.Environment["VECTORSTORE_CRASH_AT"] = crashAt;
        (int code, stdout, stderr) = ChildProcess.Run(psi, TimeSpan.FromSeconds(120));
        return code;
    }
}
