using VectorStore.Collections;
using VectorStore.IO;
using VectorStore.Storage;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// A database directory written by the previous release (Fixtures/legacy-6fd8387: manifest and snapshots of format
/// version 1, vectors inside the snapshots) opens with every vector bit-identical to what that release exported,
/// migrates to segments on open, and reopens from the new layout.
/// </summary>
public sealed class LegacyFormatTests
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "Storage", "Fixtures", "legacy-6fd8387");

    private static string CopyFixture() => StorageTestKit.CopyDirectory(Path.Combine(Fixture, "db"));

    [Fact]
    public void PreviousReleaseDirectoryOpensMigratesAndReopens()
    {
        var dir = CopyFixture();
        Assert.Equal(1u, BitConverter.ToUInt32(File.ReadAllBytes(Path.Combine(dir, "MANIFEST")), 8));
        for (int open = 0; open < 2; open++)
        {
            using var db = VectorDatabase.Open(dir);
            Assert.Equal(["flat", "graph"], db.CollectionNames);
            foreach (var name in new[] { "flat", "graph" })
            {
                var c = db.GetCollection(name);
                Assert.Equal(RawVectorResidency.Disk, c.Options.RawVectors);
                var expected = VectorFiles.ReadVectors(Path.Combine(Fixture, name + ".fvecs"));
                var ids = File.ReadAllLines(Path.Combine(Fixture, name + ".ids")).Select(ulong.Parse).ToArray();
                Assert.Equal(ids.Length, c.Count);
                for (int i = 0; i < ids.Length; i++)
                    Assert.True(expected.Row(i).SequenceEqual(c.Get(ids[i])!.Vector), $"{name}: id {ids[i]} differs from the previous release's export");
                Assert.True(c.GetStats().Trained);
                // The index survived the migration: a stored vector finds itself.
                Assert.Equal(ids[7], c.Search(expected.Row(7), new SearchOptions { K = 1, Rerank = 10 })[0].Id);
                string cdir = Path.Combine(dir, "collections", name);
                Assert.Single(Directory.GetFiles(cdir, "seg-*.vsg"));
                var snap = Directory.GetFiles(cdir, "snap-*.vss").Single();
                Assert.Equal(SnapshotFile.FormatVersion, BitConverter.ToUInt32(File.ReadAllBytes(snap), 8));
            }
            Assert.Equal(Manifest.FormatVersion, BitConverter.ToUInt32(File.ReadAllBytes(Path.Combine(dir, "MANIFEST")), 8));
        }
    }
}

/// <summary>
/// A log of the previous framing (Fixtures/legacy-log-38cdb5d: entries without the sequence envelope, a version-1
/// durable-tail record), left by a killed load so 600 acknowledged vectors live only in the log: it replays as that
/// build read it, and the open migrates it (checkpoint, then the truncation switches the log to the framed format).
/// </summary>
public sealed class LegacyLogTests
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "Storage", "Fixtures", "legacy-log-38cdb5d");

    [Fact]
    public void UnframedLogReplaysMigratesAndReopens()
    {
        var dir = StorageTestKit.CopyDirectory(Path.Combine(Fixture, "db"));
        string tailPath = Path.Combine(dir, "collections", "c", "wal", DurableTail.FileName);
        Assert.Equal(80, new FileInfo(tailPath).Length);
        var expected = VectorFiles.ReadVectors(Path.Combine(Fixture, "c.fvecs"));
        var ids = File.ReadAllLines(Path.Combine(Fixture, "c.ids")).Select(ulong.Parse).ToArray();
        Assert.Equal(1600, ids.Length);
        // Read-only first: it replays the old log and writes nothing.
        using (var ro = VectorDatabase.OpenReadOnly(dir)) AssertAll(ro.GetCollection("c"), expected, ids);
        Assert.Equal(80, new FileInfo(tailPath).Length);
        for (int open = 0; open < 2; open++)
        {
            var db = VectorDatabase.Open(dir);
            var c = db.GetCollection("c");
            AssertAll(c, expected, ids);
            using (var t = DurableTail.OpenRead(tailPath)) Assert.True(t.Read().Framed);
            c.UpsertBatch([5000UL + (ulong)open], new VectorMatrix(expected.Row(0).ToArray(), expected.Dimension), null);
            // A crash now: the new entry is framed and must replay after the migrated checkpoint.
            db.SimulateCrash();
            using var again = VectorDatabase.Open(dir);
            Assert.NotNull(again.GetCollection("c").Get(5000UL + (ulong)open));
        }
    }

    private static void AssertAll(Collection c, VectorMatrix expected, ulong[] ids)
    {
        Assert.Equal(ids.Length, c.Count - c.Ids().Count(id => id >= 5000));
        for (int i = 0; i < ids.Length; i++)
        {
            var r = c.Get(ids[i]);
            Assert.True(r is not null && expected.Row(i).SequenceEqual(r.Vector), $"id {ids[i]} differs from the previous build's export");
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes($"id:{ids[i]}"), r!.Payload);
        }
    }
}

/// <summary>
/// A database written by release d716c7e (Fixtures/legacy-payloads-d716c7e: payloads inside the snapshot, format-1
/// segments without payloads, more payloads only in the log) opens in both residencies with every record and payload
/// as that build read it back; the next checkpoint moves the payloads into format-2 segments and the snapshot stops
/// carrying them, and the database reopens from that layout with the same records.
/// </summary>
public sealed class LegacyPayloadTests
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "Storage", "Fixtures", "legacy-payloads-d716c7e");

    [Fact]
    public void PayloadsFromThePreviousSnapshotLayoutMoveIntoSegments()
    {
        var dir = StorageTestKit.CopyDirectory(Path.Combine(Fixture, "db"));
        var expected = File.ReadAllLines(Path.Combine(Fixture, "expected.txt")).Select(l => l.Split(' '))
            .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Select(p => (Id: ulong.Parse(p[1]), Payload: Convert.FromHexString(p[2]), Vector: Convert.FromHexString(p[3]))).ToArray());
        Assert.Equal(335, expected["disk"].Length);
        using (var ro = VectorDatabase.OpenReadOnly(dir))
            foreach (var name in expected.Keys) AssertAll(ro.GetCollection(name), expected[name]);
        for (int open = 0; open < 2; open++)
        {
            using var db = VectorDatabase.Open(dir);
            foreach (var name in expected.Keys)
            {
                var c = db.GetCollection(name);
                AssertAll(c, expected[name]);
                db.Compact(name);
                AssertAll(c, expected[name]);
                string cdir = Path.Combine(dir, "collections", name);
                var snap = File.ReadAllBytes(Directory.GetFiles(cdir, "snap-*.vss").Single());
                // The snapshot no longer carries the 5,000-byte payload of id 7; the segments do.
                Assert.True(snap.Length < 20_000, $"{name}: snapshot is {snap.Length} bytes");
                var segs = Directory.GetFiles(cdir, "seg-*.vsg");
                Assert.All(segs, s => Assert.Equal(SegmentFile.FormatVersion, BitConverter.ToUInt32(File.ReadAllBytes(s), 8)));
                Assert.True(segs.Sum(s => new FileInfo(s).Length) > 5_000 + 335 * 64);
            }
        }
    }

    private static void AssertAll(Collection c, (ulong Id, byte[] Payload, byte[] Vector)[] expected)
    {
        Assert.Equal(expected.Length, c.Count);
        foreach (var (id, payload, vector) in expected)
        {
            var r = c.Get(id)!;
            Assert.True(payload.AsSpan().SequenceEqual(r.Payload), $"{c.Name}: payload of id {id}");
            Assert.True(vector.AsSpan().SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(r.Vector.AsSpan())), $"{c.Name}: vector of id {id}");
        }
    }
}
