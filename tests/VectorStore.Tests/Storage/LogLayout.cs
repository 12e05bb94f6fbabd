using VectorStore.Storage;

namespace VectorStore.Tests.Storage;

/// <summary>Where a collection's log entries lie in its segment files, for tests that damage them precisely.</summary>
internal static class LogLayout
{
    /// <summary>One entry: its log address, FASTER's header position in <paramref name="Segment"/> (at <paramref name="Offset"/>), where the next starts.</summary>
    public readonly record struct Entry(long Address, int Length, long Next, string Segment, long Offset);

    /// <summary>The chained entries of collection <paramref name="collection"/>'s log, from the begin its durable-tail record names.</summary>
    public static List<Entry> Entries(string dbDir, string collection = "c", WalSettings? wal = null)
    {
        wal ??= StorageTestKit.Small.Wal;
        var settings = wal;
        string walDir = Path.Combine(dbDir, "collections", collection, "wal");
        TailRecord t;
        using (var tail = DurableTail.OpenRead(Path.Combine(walDir, DurableTail.FileName))) t = tail.Read();
        string Segment(long a) => Path.Combine(walDir, $"wal.log.{a >> settings.SegmentSizeBits}");
        long mask = (1L << settings.SegmentSizeBits) - 1;
        var list = new List<Entry>();
        var at = t.BeginPoint;
        foreach (var r in LogFraming.ReadPast(Segment, settings, t.Begin))
        {
            if (!LogFraming.Continues(r.Entry, at, out at)) break;
            list.Add(new Entry(r.Address, r.Entry.Length, r.Next, Segment(r.Address), r.Address & mask));
        }
        return list;
    }

    /// <summary>Zeroes the 4-byte length field of the entry at <paramref name="e"/> (FASTER's header: u64 checksum, then i32 length).</summary>
    public static void ZeroLength(Entry e) => Zero(e.Segment, e.Offset + 8, 4);

    /// <summary>Zeroes the length field of the entry at <paramref name="address"/> of collection "c".</summary>
    public static void ZeroLength(string dbDir, long address) => ZeroLength(Entries(dbDir).Single(e => e.Address == address));

    /// <summary>Zeroes <paramref name="count"/> bytes of <paramref name="path"/> from <paramref name="offset"/> (clipped to the file).</summary>
    public static void Zero(string path, long offset, int count)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        count = (int)Math.Min(count, f.Length - offset);
        f.Position = offset;
        f.Write(new byte[count]);
    }
}
