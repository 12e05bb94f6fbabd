using System.Numerics;
using VectorStore.Memory;

namespace VectorStore.Storage;

/// <summary>
/// A collection's per-slot state as a snapshot restores it: which slots are live, their ids, the segment row holding
/// each one's vector (<c>(sequence &lt;&lt; 32) | row</c>, −1 for free slots) and its stored field values.
/// </summary>
internal sealed class SlotState
{
    public required int HighWater { get; init; }
    public required int Count { get; init; }
    public required ulong[] Live { get; init; }
    public required ulong[] Ids { get; init; }
    public required long[] Locations { get; init; }
    /// <summary>Per slot the stored field values; null while no slot has any.</summary>
    public required byte[]?[]? Fields { get; init; }
}

/// <summary>
/// The slot section (data-format.md §4.11): inline in a snapshot, or on its own as a slot file
/// <c>slots-NNNNNNNNNN.vsl</c> (a <see cref="PinnedFile"/>) that later snapshots name together with the entries of the
/// slots changed since, so a checkpoint writes what changed instead of 24 bytes for every slot. Thread-safety:
/// stateless; writers hold the collection's lock.
/// </summary>
internal static class SlotFile
{
    public const uint FormatVersion = 1;

    private static readonly PinnedFileFormat Format = new("slot file", "slots", "vsl", "VSSLOTSF"u8.ToArray(), "VSSLTEND"u8.ToArray(), FormatVersion);

    /// <summary>Bytes a changed slot costs in a snapshot, fields aside (slot, live flag, id, location, fields length).</summary>
    public const int ChangeEntryBytes = 4 + 1 + 8 + 8 + 4;

    /// <summary>The file name of slot file <paramref name="sequence"/>.</summary>
    public static string FileName(int sequence) => Format.FileName(sequence);

    /// <summary>Writes and fsyncs slot file <paramref name="sequence"/>.</summary>
    public static PinnedFileReference Write(string directory, int sequence, int highWater, int count, ulong[] live, ulong[] ids, Func<int, long> location, Func<int, byte[]?>? fields) =>
        PinnedFile.Write(directory, sequence, Format, w => WriteSection(w, highWater, count, live, ids, location, fields));

    /// <summary>Reads the slot file <paramref name="reference"/> names, verified (any damage names the file).</summary>
    public static SlotState Read(string directory, PinnedFileReference reference) =>
        PinnedFile.Read(directory, reference, Format, r => ReadSection(r, r.BaseStream.Length));

    /// <summary>Writes the section: high-water mark, count, live bitmap, ids, locations, then each live slot's field record.</summary>
    public static void WriteSection(BinaryWriter w, int highWater, int count, ulong[] live, ulong[] ids, Func<int, long> location, Func<int, byte[]?>? fields)
    {
        w.Write(highWater);
        w.Write(count);
        for (int i = 0; i < SlotBitmap.WordsFor(highWater); i++) w.Write(live[i]);
        for (int s = 0; s < highWater; s++) w.Write(IsLive(live, s) ? ids[s] : 0UL);
        int written = 0;
        for (int s = 0; s < highWater; s++)
        {
            w.Write(IsLive(live, s) ? location(s) : -1L);
            if (IsLive(live, s)) written++;
        }
        if (written != count) throw new InvalidOperationException($"slot section: {written} live slots but count {count}");
        for (int s = 0; s < highWater; s++)
            if (IsLive(live, s)) WriteFields(w, fields?.Invoke(s));
    }

    /// <summary>Reads <see cref="WriteSection"/>'s bytes; malformed input is an <see cref="InvalidDataException"/>.</summary>
    public static SlotState ReadSection(BinaryReader r, long maxBytes)
    {
        int highWater = r.ReadInt32();
        int count = r.ReadInt32();
        // 16 bytes per slot follow: refuse a count the remaining bytes cannot hold before allocating for it.
        if (highWater < 0 || count < 0 || count > highWater || (long)highWater * 16 > maxBytes)
            throw new InvalidDataException($"slot section counts {count} of {highWater} are invalid");
        var live = new ulong[Math.Max(1, SlotBitmap.WordsFor(highWater))];
        for (int i = 0; i < SlotBitmap.WordsFor(highWater); i++) live[i] = r.ReadUInt64();
        ClearBeyond(live, highWater);
        var ids = new ulong[highWater];
        for (int s = 0; s < highWater; s++) ids[s] = r.ReadUInt64();
        var locations = new long[highWater];
        for (int s = 0; s < highWater; s++) locations[s] = r.ReadInt64();
        byte[]?[]? fields = null;
        int seen = 0;
        for (int s = 0; s < highWater; s++)
        {
            if (!IsLive(live, s)) continue;
            seen++;
            if (ReadFields(r, maxBytes) is { } f) (fields ??= new byte[]?[highWater])[s] = f;
        }
        if (seen != count) throw new InvalidDataException($"slot section live bitmap holds {seen} slots, its count says {count}");
        return new SlotState { HighWater = highWater, Count = count, Live = live, Ids = ids, Locations = locations, Fields = fields };
    }

    /// <summary>Writes the entries of <paramref name="changed"/> slots (ascending): each one's liveness and, when live, its id, location and fields.</summary>
    public static void WriteChanges(BinaryWriter w, int[] changed, ulong[] live, ulong[] ids, Func<int, long> location, Func<int, byte[]?>? fields)
    {
        w.Write(changed.Length);
        foreach (int s in changed)
        {
            w.Write(s);
            bool isLive = IsLive(live, s);
            w.Write(isLive);
            if (!isLive) continue;
            w.Write(ids[s]);
            w.Write(location(s));
            WriteFields(w, fields?.Invoke(s));
        }
    }

    /// <summary>
    /// Applies <see cref="WriteChanges"/>' entries to <paramref name="file"/>'s state, giving the state of a snapshot
    /// with <paramref name="highWater"/> slots of which <paramref name="count"/> live; returns it and the changed slots.
    /// </summary>
    public static (SlotState State, int[] Changed) ApplyChanges(SlotState file, BinaryReader r, int highWater, int count, long maxBytes)
    {
        if (highWater < file.HighWater || count > highWater) throw new InvalidDataException($"snapshot's {highWater} slots do not extend its slot file's {file.HighWater}");
        int n = r.ReadInt32();
        // Every slot past the file's high-water mark was placed since, so it has an entry: refuse a larger claim
        // before allocating for it.
        if (n < 0 || n > highWater || (long)n * 5 > maxBytes || highWater - file.HighWater > n)
            throw new InvalidDataException($"{n} changed slots of {highWater} is invalid (the slot file holds {file.HighWater})");
        var live = new ulong[Math.Max(1, SlotBitmap.WordsFor(highWater))];
        Array.Copy(file.Live, live, Math.Min(file.Live.Length, live.Length));
        var ids = file.Ids;
        var locations = file.Locations;
        var fields = file.Fields;
        if (highWater > file.HighWater)
        {
            Array.Resize(ref ids, highWater);
            int old = locations.Length;
            Array.Resize(ref locations, highWater);
            locations.AsSpan(old).Fill(-1);
            if (fields is not null) Array.Resize(ref fields, highWater);
        }
        var changed = new int[n];
        for (int i = 0; i < n; i++)
        {
            int s = r.ReadInt32();
            if (s < 0 || s >= highWater || (i > 0 && s <= changed[i - 1])) throw new InvalidDataException($"changed slot {s} is out of range or out of order");
            changed[i] = s;
            ref ulong word = ref live[s >> 6];
            ulong bit = 1UL << (s & 63);
            byte flag = r.ReadByte();
            if (flag > 1) throw new InvalidDataException($"changed slot {s} has live flag {flag}");
            if (flag == 0)
            {
                word &= ~bit;
                ids[s] = 0;
                locations[s] = -1;
                if (fields is not null) fields[s] = null;
                continue;
            }
            word |= bit;
            ids[s] = r.ReadUInt64();
            locations[s] = r.ReadInt64();
            var f = ReadFields(r, maxBytes);
            if (f is not null) fields ??= new byte[]?[highWater];
            if (fields is not null) fields[s] = f;
        }
        int seen = 0;
        foreach (ulong word in live) seen += BitOperations.PopCount(word);
        if (seen != count) throw new InvalidDataException($"slot file and changes hold {seen} live slots, the snapshot's count says {count}");
        return (new SlotState { HighWater = highWater, Count = count, Live = live, Ids = ids, Locations = locations, Fields = fields }, changed);
    }

    private static void WriteFields(BinaryWriter w, byte[]? f)
    {
        w.Write(f?.Length ?? 0);
        if (f is { Length: > 0 }) w.Write(f);
    }

    private static byte[]? ReadFields(BinaryReader r, long maxBytes)
    {
        int length = r.ReadInt32();
        if (length < 0 || length > maxBytes) throw new InvalidDataException($"field record length {length} is invalid");
        if (length == 0) return null;
        var f = r.ReadBytes(length);
        if (f.Length != length) throw new EndOfStreamException("field record truncated");
        return f;
    }

    private static void ClearBeyond(ulong[] live, int highWater)
    {
        if ((highWater & 63) != 0 && (highWater >> 6) < live.Length) live[highWater >> 6] &= (1UL << (highWater & 63)) - 1;
        for (int w = SlotBitmap.WordsFor(highWater); w < live.Length; w++) live[w] = 0;
    }

    /// <summary>Whether bit <paramref name="s"/> of a live bitmap in the stored layout is set.</summary>
    internal static bool IsLive(ulong[] live, int s) => (live[s >> 6] & (1UL << (s & 63))) != 0;
}
