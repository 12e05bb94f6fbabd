using Xunit;
using Xunit.Abstractions;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Damage each kind of file (manifest, snapshot, log segment, FASTER commit file, durable-tail record) in several
/// ways: the store must either reopen with every acknowledged write or refuse with an error naming the file.
/// </summary>
public sealed class CorruptionMatrixTests(ITestOutputHelper output)
{
    private const int First = 1000, Second = 600, Dim = 16;

    // Built once: a snapshot covering the first batch, the second batch only in the log, then a crash.
    private static readonly Lazy<string> s_template = new(() =>
    {
        var dir = TestData.TempDir();
        var db = Open(dir);
        var c = db.CreateCollection("c", Options(Dim));
        Load(c, Vectors(First, Dim, 7), 0, 50);
        db.Compact("c");
        Load(c, Vectors(Second, Dim, 8), First, 50);
        Crash(db);
        return dir;
    });

    private static (string Dir, object? _) Pristine()
    {
        return (CopyDirectory(s_template.Value), null);
    }

    public static IEnumerable<object[]> Cases()
    {
        foreach (var file in new[] { "manifest", "snapshot", "segment", "commit", "tail" })
            foreach (var damage in new[] { "truncate-half", "truncate-zero", "flip-middle", "flip-last" })
                yield return [file, damage];
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DamagedFileRecoversEverythingOrRefusesNamingIt(string file, string damage)
    {
        var (dir, _) = Pristine();
        string path = Locate(dir, file);
        Damage(path, damage);
        VectorDatabase? db = null;
        try
        {
            db = Open(dir);
        }
        catch (VectorStoreException e)
        {
            output.WriteLine($"{file}/{damage}: refused: {e.Message}");
            Assert.Contains(Path.GetFileName(path), e.Message);
            return;
        }
        using (db)
        {
            output.WriteLine($"{file}/{damage}: reopened");
            var c = db.GetCollection("c");
            Assert.Equal(First + Second, c.Count);
            AssertHas(c, Vectors(First, Dim, 7), 0, First);
            AssertHas(c, Vectors(Second, Dim, 8), First, Second);
        }
    }

    internal static string Locate(string dir, string file)
    {
        string cdir = Path.Combine(dir, "collections", "c");
        string wal = Path.Combine(cdir, "wal");
        return file switch
        {
            "manifest" => Path.Combine(dir, "MANIFEST"),
            "snapshot" => Directory.GetFiles(cdir, "snap-*.vss").Single(),
            // The newest segment holds the records after the snapshot.
            "segment" => Directory.GetFiles(wal, "wal.log.*").OrderBy(f => long.Parse(f[(f.LastIndexOf('.') + 1)..])).Last(),
            "commit" => Path.Combine(wal, "wal.commit"),
            "tail" => Path.Combine(wal, "wal.tail"),
            _ => throw new ArgumentException(file),
        };
    }

    internal static void Damage(string path, string damage)
    {
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "truncate-half": File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]); break;
            case "truncate-zero": File.WriteAllBytes(path, []); break;
            case "flip-middle": bytes[bytes.Length / 2] ^= 0x5A; File.WriteAllBytes(path, bytes); break;
            case "flip-last":
                int last = Array.FindLastIndex(bytes, b => b != 0);
                bytes[Math.Max(0, last - 3)] ^= 0x21;
                File.WriteAllBytes(path, bytes);
                break;
            default: throw new ArgumentException(damage);
        }
    }
}
