using VectorStore.Collections;
using Xunit;
using Xunit.Abstractions;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// The corruption matrix for segment files, in both residencies: a damaged segment either reopens with every
/// acknowledged write bit-identical, or is refused with an error naming the file — at open (header, row table,
/// footer; every row and payload when resident) or when a damaged row or payload is read (disk residency verifies
/// each row's and payload's CRC on read).
/// </summary>
public sealed class SegmentCorruptionTests(ITestOutputHelper output)
{
    private const int First = 1000, Second = 600, Dim = 16;

    private static readonly Dictionary<RawVectorResidency, Lazy<string>> s_templates = new()
    {
        [RawVectorResidency.Disk] = new(() => Template(RawVectorResidency.Disk)),
        [RawVectorResidency.Ram] = new(() => Template(RawVectorResidency.Ram)),
    };

    // Two segments (the first batch, then half of the second after a checkpoint), the rest only in the log, a crash.
    private static string Template(RawVectorResidency residency)
    {
        var dir = TestData.TempDir();
        var db = Open(dir);
        var c = db.CreateCollection("c", Options(Dim) with { RawVectors = residency });
        Load(c, Vectors(First, Dim, 7), 0, 50);
        db.Compact("c");
        var second = Vectors(Second, Dim, 8);
        Load(c, second.Slice(0, Second / 2), First, 50);
        db.Snapshot();
        Load(c, second.Slice(Second / 2, Second / 2), First + Second / 2, 50);
        Crash(db);
        return dir;
    }

    public static IEnumerable<object[]> Cases()
    {
        foreach (var residency in new[] { RawVectorResidency.Disk, RawVectorResidency.Ram })
            foreach (var which in new[] { "first", "last" })
                foreach (var damage in new[] { "truncate-half", "truncate-zero", "flip-middle", "flip-last", "flip-header", "flip-row-0", "flip-payload", "delete" })
                    yield return [residency, which, damage];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DamagedSegmentRecoversEverythingOrRefusesNamingIt(RawVectorResidency residency, string which, string damage)
    {
        var dir = CopyDirectory(s_templates[residency].Value);
        var segs = Directory.GetFiles(Path.Combine(dir, "collections", "c"), "seg-*.vsg").Order().ToArray();
        Assert.Equal(2, segs.Length);
        string path = which == "first" ? segs[0] : segs[^1];
        switch (damage)
        {
            case "delete": File.Delete(path); break;
            case "flip-header": FlipAt(path, 20); break;
            case "flip-row-0": FlipAt(path, 4096 + 5); break;
            case "flip-payload": FlipAt(path, 4096 + (long)BitConverter.ToInt32(File.ReadAllBytes(path), 20) * Dim * sizeof(float) + 3); break; // first row's payload
            default: CorruptionMatrixTests.Damage(path, damage); break;
        }
        string name = Path.GetFileName(path);
        VectorDatabase? db = null;
        try
        {
            db = Open(dir);
        }
        catch (VectorStoreException e)
        {
            output.WriteLine($"{residency}/{which}/{damage}: refused at open: {e.Message}");
            Assert.Contains(name, e.Message);
            return;
        }
        using (db)
        {
            var c = db.GetCollection("c");
            Assert.Equal(First + Second, c.Count);
            try
            {
                AssertHas(c, Vectors(First, Dim, 7), 0, First);
                AssertHas(c, Vectors(Second, Dim, 8), First, Second);
                output.WriteLine($"{residency}/{which}/{damage}: reopened with everything");
            }
            catch (StoreCorruptedException e)
            {
                // Only disk residency defers row checks to the read; resident collections verified every row at open.
                Assert.Equal(RawVectorResidency.Disk, residency);
                output.WriteLine($"{residency}/{which}/{damage}: refused on read: {e.Message}");
                Assert.Contains(name, e.Message);
            }
        }
    }

    private static void FlipAt(string path, long offset)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        int b = f.ReadByte();
        f.Position = offset;
        f.WriteByte((byte)(b ^ 0x41));
    }
}
