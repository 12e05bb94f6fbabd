using VectorStore.Collections;
using VectorStore.Filtering;
using Xunit;
using Xunit.Abstractions;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Seeded random damage to any file of a database of two collections (manifest, collection descriptors, snapshots,
/// sealed segments, flat and HNSW index files, slot files, log segments, commit and durable-tail records): a few flipped bytes, a cut, a zeroed block or appended
/// garbage. Whatever the damage, opening (read-only, then read-write) must either give back every acknowledged vector
/// bit for bit, or refuse with a typed error naming the damaged file and leave nothing open; reading a vector whose
/// stored row was damaged may refuse the same way. Never an untyped exception, never a wrong vector. The corruption
/// matrix damages five file kinds in four fixed ways; this reaches every file and every offset a seed picks.
/// </summary>
public sealed class RandomDamageTests(ITestOutputHelper output)
{
    private const int First = 1200, Second = 500, Dim = 16;
    private const int GraphFirst = 800, GraphSecond = 2400, GraphDim = 24;

    // Two trained collections, each with its first vectors sealed in segments by a compaction and the rest only in the
    // log, then a crash: "c" (pq:4x4, flat) and "h" (sq8 + HNSW, a keyword field, a log over several segments).
    private static readonly Lazy<string> s_template = new(() =>
    {
        var dir = TestData.TempDir();
        var db = Open(dir);
        var c = db.CreateCollection("c", Options(Dim, threshold: 400, compression: "pq:4x4"));
        Load(c, Vectors(First, Dim, 21), 0, 100);
        db.Compact("c");
        Load(c, Vectors(Second, Dim, 22), First, 50);
        var h = db.CreateCollection("h", Options(GraphDim, threshold: 300) with { Index = "hnsw:8", Fields = [new FieldDefinition("kind", FieldType.Keyword)] });
        LoadWithKinds(h, Vectors(GraphFirst, GraphDim, 23), 0);
        db.Compact("h");
        LoadWithKinds(h, Vectors(GraphSecond, GraphDim, 24), GraphFirst);
        Crash(db);
        return dir;
    });

    private static string Kind(ulong id) => id % 3 == 0 ? "third" : "rest";

    private static void LoadWithKinds(Collection c, VectorMatrix m, ulong first)
    {
        for (int start = 0; start < m.Count; start += 100)
        {
            int n = Math.Min(100, m.Count - start);
            var ids = Enumerable.Range(start, n).Select(i => first + (ulong)i).ToArray();
            c.UpsertBatch(ids, m.Slice(start, n), ids.Select(Payload).ToArray(),
                ids.Select(id => (IReadOnlyDictionary<string, FieldValue>?)new Dictionary<string, FieldValue> { ["kind"] = FieldValue.Keyword(Kind(id)) }).ToArray());
        }
    }

    /// <summary>Seeds 1 … 64, or 1 … N with VECTORSTORE_DAMAGE_SEEDS=N (a longer hunt than CI's).</summary>
    public static TheoryData<int> Seeds()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("VECTORSTORE_DAMAGE_SEEDS"), out int n) && n > 0 ? n : 64;
        var seeds = new TheoryData<int>();
        for (int s = 1; s <= count; s++) seeds.Add(s);
        return seeds;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RandomDamageRecoversEverythingOrRefusesNamingTheFile(int seed)
    {
        string dir = CopyDirectory(s_template.Value);
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "LOCK").Order(StringComparer.Ordinal).ToArray();
        var rng = new Random(seed);
        string path = files[rng.Next(files.Length)];
        string damage = Damage(path, rng);
        string label = $"seed {seed}: {Path.GetRelativePath(dir, path)} {damage}";
        try
        {
            Check(() => VectorDatabase.OpenReadOnly(dir, null, Small), label + " (read-only)", dir, path);
            // What a read-write open rewrote while recovering (a truncated log tail, a migrated file) must open again.
            if (Check(() => Open(dir), label, dir, path)) Check(() => Open(dir), label + " (reopened)", dir, path);
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); }
            catch (IOException) { }
        }
    }

    /// <summary>Damages <paramref name="path"/> one of four ways, drawing again while a draw changes nothing (zeroes over zeroes); returns what was done.</summary>
    private static string Damage(string path, Random rng)
    {
        var before = File.ReadAllBytes(path);
        for (int attempt = 0; ; attempt++)
        {
            string done = DamageOnce(path, before, rng);
            if (attempt == 16 || !File.ReadAllBytes(path).AsSpan().SequenceEqual(before)) return done;
            File.WriteAllBytes(path, before);
        }
    }

    private static string DamageOnce(string path, byte[] original, Random rng)
    {
        var bytes = original.Length == 0 ? new byte[1] : (byte[])original.Clone();
        switch (rng.Next(4))
        {
            case 0:
                int flips = 1 + rng.Next(4);
                var at = new List<int>();
                for (int i = 0; i < flips; i++)
                {
                    int o = rng.Next(bytes.Length);
                    bytes[o] ^= (byte)(1 + rng.Next(255));
                    at.Add(o);
                }
                File.WriteAllBytes(path, bytes);
                return $"flipped at {string.Join(",", at)} of {bytes.Length}";
            case 1:
                int cut = rng.Next(bytes.Length);
                File.WriteAllBytes(path, bytes[..cut]);
                return $"cut to {cut} of {bytes.Length}";
            case 2:
                int start = rng.Next(bytes.Length) & ~511, length = Math.Min(512 << rng.Next(4), bytes.Length - start);
                Array.Clear(bytes, start, length);
                File.WriteAllBytes(path, bytes);
                return $"zeroed [{start}, {start + length}) of {bytes.Length}";
            default:
                var garbage = new byte[1 + rng.Next(4096)];
                rng.NextBytes(garbage);
                File.WriteAllBytes(path, [.. bytes, .. garbage]);
                return $"{garbage.Length} bytes appended to {bytes.Length}";
        }
    }

    /// <summary>
    /// Whether <paramref name="e"/> names <paramref name="damaged"/> itself: by its path when the error carries one
    /// (both collections have files of the same names), else in its message.
    /// </summary>
    private static bool Names(VectorStoreException e, string damaged) => e switch
    {
        StoreCorruptedException s => Path.GetFullPath(s.Path) == damaged,
        StorageIoException io => Path.GetFullPath(io.Path) == damaged,
        _ => e.Message.Contains(damaged, StringComparison.Ordinal),
    };

    /// <summary>Opens, checks everything or a refusal naming <paramref name="damaged"/>; returns whether it opened.</summary>
    private bool Check(Func<VectorDatabase> open, string label, string dir, string damaged)
    {
        VectorDatabase db;
        try { db = open(); }
        catch (VectorStoreException e)
        {
            output.WriteLine($"{label}: refused: {e.Message}");
            Assert.True(Names(e, damaged), $"{label}: the refusal does not name {damaged}: {e.GetType().Name}: {e.Message}");
            var held = HeldUnder(dir);
            Assert.True(held.Count == 0, $"{label}: the refused open left {string.Join("; ", held)}");
            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"{label}: untyped {e.GetType().Name}: {e}");
            return false;
        }
        using (db)
        {
            var c = db.GetCollection("c");
            int refusedReads = ReadsBack(c, Vectors(First, Dim, 21), 0, label, damaged) + ReadsBack(c, Vectors(Second, Dim, 22), First, label, damaged);
            Assert.Equal(First + Second, c.Count);
            var h = db.GetCollection("h");
            refusedReads += ReadsBack(h, Vectors(GraphFirst, GraphDim, 23), 0, label, damaged) + ReadsBack(h, Vectors(GraphSecond, GraphDim, 24), GraphFirst, label, damaged);
            Assert.Equal(GraphFirst + GraphSecond, h.Count);
            var third = Enumerable.Range(0, GraphFirst + GraphSecond).Select(i => (ulong)i).Where(id => Kind(id) == "third").ToArray();
            Assert.True(third.SequenceEqual(h.Ids(Filter.Eq("kind", "third")).Order()), $"{label}: the keyword field's matches differ");
            output.WriteLine($"{label}: opened; {refusedReads} reads refused naming the file");
        }
        var left = HeldUnder(dir);
        Assert.True(left.Count == 0, $"{label}: the closed database left {string.Join("; ", left)}");
        return true;
    }

    /// <summary>Every vector present and bit-identical, or its read refused naming the damaged file; returns the refusals.</summary>
    private static int ReadsBack(Collection c, VectorMatrix m, ulong first, string label, string damaged)
    {
        int refused = 0;
        for (int i = 0; i < m.Count; i++)
        {
            VectorRecord? r;
            try { r = c.Get(first + (ulong)i); }
            catch (StoreCorruptedException e)
            {
                Assert.True(Names(e, damaged), $"{label}: a read refusal does not name {damaged}: {e.Message}");
                refused++;
                continue;
            }
            Assert.True(r is not null, $"{label}: acknowledged id {first + (ulong)i} is missing");
            Assert.True(m.Row(i).SequenceEqual(r!.Vector), $"{label}: id {first + (ulong)i} is not its acknowledged vector");
            Assert.True(Payload(first + (ulong)i).AsSpan().SequenceEqual(r.Payload), $"{label}: id {first + (ulong)i} is not its acknowledged payload");
        }
        return refused;
    }
}
