using VectorStore.Storage;
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
        RecoversEverythingOrRefusesNaming(dir, $"{file}/{damage}", Path.GetFileName(path));
    }

    /// <summary>
    /// Targeted damage to the log (issue 20): FASTER reads a zero length field as page padding and used to skip the
    /// rest of the page without a word; lost newest metadata slots used to drop the last acknowledged batch.
    /// </summary>
    public static TheoryData<string> LogCases() =>
        ["length-mid-page", "block-4k-at-header", "length-first-entry", "length-last-entry", "both-commit-slots", "both-tail-slots", "newest-commit-and-tail-slots"];

    [Theory]
    [MemberData(nameof(LogCases))]
    public void TargetedLogDamageRecoversEverythingOrRefusesNamingTheFile(string damage)
    {
        var (dir, _) = Pristine();
        var entries = LogLayout.Entries(dir);
        Assert.True(entries.Count >= 8, $"the template log holds {entries.Count} entries");
        // An entry with neighbours on its own page: zeroing its length makes FASTER skip the rest of that page.
        var mid = entries.Skip(1).SkipLast(1).First(e => SamePage(entries[entries.IndexOf(e) - 1].Address, e.Address) && SamePage(e.Address, entries[entries.IndexOf(e) + 1].Address));
        string commit = Locate(dir, "commit"), tail = Locate(dir, "tail");
        string[] names;
        switch (damage)
        {
            case "length-mid-page": LogLayout.ZeroLength(mid); names = [mid.Segment]; break;
            case "block-4k-at-header": LogLayout.Zero(mid.Segment, mid.Offset, 4096); names = [mid.Segment]; break;
            case "length-first-entry": LogLayout.ZeroLength(entries[0]); names = [entries[0].Segment]; break;
            case "length-last-entry": LogLayout.ZeroLength(entries[^1]); names = [entries[^1].Segment]; break;
            case "both-commit-slots": FlipSlots(commit, SlotCommitManager.SlotSize, newestOnly: false); names = [commit]; break;
            case "both-tail-slots": FlipSlots(tail, 64, newestOnly: false); names = [tail]; break;
            case "newest-commit-and-tail-slots":
                FlipSlots(commit, SlotCommitManager.SlotSize, newestOnly: true);
                FlipSlots(tail, 64, newestOnly: true);
                names = [commit, tail];
                break;
            default: throw new ArgumentException(damage);
        }
        RecoversEverythingOrRefusesNaming(dir, damage, names.Select(Path.GetFileName).ToArray()!);
    }

    /// <summary>
    /// Files the engine did not write in the shape it writes them: a hand-edited manifest (its checksum recomputed)
    /// naming a collection twice or a directory outside <c>collections/</c>, and a stray file beside the log's segments
    /// (a backup copy, an editor's leftover) whose name the log's device cannot parse. Each used to fail with an
    /// untyped error, the first after the collection's log was already open.
    /// </summary>
    public static TheoryData<string> ForeignCases() =>
        ["manifest-name-twice", "manifest-directory-twice", "manifest-directory-outside", "manifest-directory-nested", "stray-log-name", "stray-log-name-numbered"];

    [Theory]
    [MemberData(nameof(ForeignCases))]
    public void ForeignFilesRecoverEverythingOrRefuseNamingTheFile(string damage)
    {
        var (dir, _) = Pristine();
        var manifest = Manifest.Read(dir)!;
        var entry = manifest.Collections.Single();
        string wal = Path.Combine(dir, "collections", "c", "wal");
        string named = Manifest.FileName;
        switch (damage)
        {
            case "manifest-name-twice": manifest.Collections.Add(entry with { Directory = "c2" }); break;
            case "manifest-directory-twice": manifest.Collections.Add(entry with { Name = "d" }); break;
            case "manifest-directory-outside": manifest.Collections[0] = entry with { Directory = ".." }; break;
            case "manifest-directory-nested": manifest.Collections[0] = entry with { Directory = "c/../c" }; break;
            case "stray-log-name":
                named = Path.Combine(wal, "wal.log.bak");
                File.Copy(Locate(dir, "segment"), named);
                break;
            case "stray-log-name-numbered":
                named = Path.Combine(wal, "wal.log.0.orig");
                File.Copy(Locate(dir, "segment"), named);
                break;
            default: throw new ArgumentException(damage);
        }
        if (damage.StartsWith("manifest", StringComparison.Ordinal)) Manifest.Write(dir, manifest);
        RecoversEverythingOrRefusesNaming(dir, damage, Path.GetFileName(named));
    }

    private static bool SamePage(long a, long b) => a >> Small.Wal.PageSizeBits == b >> Small.Wal.PageSizeBits;

    /// <summary>Damages the magic of both slots, or of the one with the higher counter (u64 at offset 8 of each).</summary>
    private static void FlipSlots(string path, int slotSize, bool newestOnly)
    {
        var bytes = File.ReadAllBytes(path);
        int newest = BitConverter.ToInt64(bytes, 8) >= BitConverter.ToInt64(bytes, slotSize + 8) ? 0 : 1;
        for (int s = 0; s < 2; s++)
            if (!newestOnly || s == newest) bytes[s * slotSize + 1] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
    }

    private void RecoversEverythingOrRefusesNaming(string dir, string label, params string[] files)
    {
        // Read-only first (it writes nothing, so the read-write open below sees the same damage).
        OpensWithEverythingOrRefusesNaming(() => VectorDatabase.OpenReadOnly(dir, null, Small), label + " (read-only)", files, dir);
        OpensWithEverythingOrRefusesNaming(() => Open(dir), label, files, dir);
    }

    private void OpensWithEverythingOrRefusesNaming(Func<VectorDatabase> open, string label, string[] files, string dir)
    {
        VectorDatabase? db = null;
        try
        {
            db = open();
        }
        catch (VectorStoreException e)
        {
            output.WriteLine($"{label}: refused: {e.Message}");
            Assert.True(files.Any(f => e.Message.Contains(f, StringComparison.Ordinal)), $"{label}: the refusal names none of {string.Join(", ", files)}: {e.Message}");
            var held = HeldUnder(dir);
            Assert.True(held.Count == 0, $"{label}: the refused open left {string.Join("; ", held)}");
            return;
        }
        using (db)
        {
            output.WriteLine($"{label}: reopened");
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
