using VectorStore.Quantization;

namespace VectorStore.Indexing.Ivf;

/// <summary>Snapshot format of <see cref="IvfIndex"/> (data-format.md §3.2).</summary>
public sealed partial class IvfIndex
{
    /// <summary>
    /// Newest version of the snapshot body: 2 adds spilled entries (flag bit 2, second-list entries stored with slot
    /// −(slot + 1)). An index without spill is written as version 1, byte for byte what earlier builds wrote.
    /// </summary>
    public const byte FormatVersion = 2;

    /// <inheritdoc />
    public override void Write(BinaryWriter writer)
    {
        writer.Write(Spill ? FormatVersion : (byte)1);
        writer.Write((byte)DistanceKind);
        CodecRegistry.Write(Codec, writer);
        writer.Write((byte)((Residual ? 1 : 0) | (Spherical ? 2 : 0) | (Spill ? 4 : 0)));
        writer.Write(NList);
        writer.Write(Dimension);
        writer.Write(DefaultNProbe);
        writer.Write(BaselineImbalance);
        foreach (float c in _centroids) writer.Write(c);
        var code = new byte[Codec.CodeSize];
        for (int l = 0; l < NList; l++)
        {
            var list = _lists[l];
            writer.Write(list.Count);
            for (int j = 0; j < list.Count; j++)
            {
                int slot = list.Slots[j];
                writer.Write(_listOf[slot] == l ? slot : -(slot + 1));
            }
            // One code per entry whatever the in-memory layout (packed fast-scan blocks are rebuilt on read).
            if (list.Blocks is null) writer.Write(list.Codes, 0, list.Count * Codec.CodeSize);
            else
            {
                for (int j = 0; j < list.Count; j++)
                {
                    list.CopyCode(j, code);
                    writer.Write(code);
                }
            }
        }
    }

    /// <summary>Largest slot a snapshot may name (slot maps are sized slot + 1, so this keeps that from overflowing).</summary>
    private const int MaxSlot = int.MaxValue - 64;

    internal static IvfIndex Read(BinaryReader reader)
    {
        byte version = reader.ReadByte();
        if (version is 0 or > FormatVersion)
            throw new InvalidDataException($"ivf index: format version {version} is not supported (this build reads 1..{FormatVersion})");
        var kind = (DistanceKind)reader.ReadByte();
        if (kind is not (DistanceKind.L2 or DistanceKind.NegativeDot)) throw new InvalidDataException($"ivf index: bad distance kind {(int)kind}");
        var codec = CodecRegistry.Read(reader);
        byte flags = reader.ReadByte();
        if (flags > (version >= 2 ? 7 : 3)) throw new InvalidDataException($"ivf index: unknown flags {flags}");
        bool spill = (flags & 4) != 0;
        int nlist = reader.ReadInt32();
        int dim = reader.ReadInt32();
        int nprobe = reader.ReadInt32();
        double baseline = reader.ReadDouble();
        if (nlist is <= 0 or > IvfIndexFactory.MaxLists) throw new InvalidDataException($"ivf index: bad list count {nlist}");
        if (dim != codec.Dimension) throw new InvalidDataException($"ivf index: dimension {dim} differs from the codec's {codec.Dimension}");
        if (nprobe <= 0 || !double.IsFinite(baseline)) throw new InvalidDataException("ivf index: bad nprobe or baseline");
        var centroids = new float[(long)nlist * dim];
        for (int i = 0; i < centroids.Length; i++) centroids[i] = reader.ReadSingle();
        if (spill && nlist < 2) throw new InvalidDataException("ivf index: spill needs at least two lists");
        var index = new IvfIndex(codec, kind, centroids, (flags & 1) != 0, (flags & 2) != 0, nprobe, baseline, spill);
        int size = codec.CodeSize;
        var first = new Dictionary<int, int>();
        var second = new Dictionary<int, int>();
        int maxSlot = -1;
        for (int l = 0; l < nlist; l++)
        {
            int count = reader.ReadInt32();
            if (count < 0) throw new InvalidDataException($"ivf index: list {l} has a negative count");
            // A corrupt count must fail as a data error, not as a multi-gigabyte allocation.
            var stream = reader.BaseStream;
            if (stream.CanSeek && (long)count * (sizeof(int) + size) > stream.Length - stream.Position)
                throw new EndOfStreamException($"ivf index: list {l} claims {count} entries, more than the remaining bytes hold");
            var slots = new int[count];
            for (int j = 0; j < count; j++)
            {
                int stored = reader.ReadInt32();
                bool isSecond = stored < 0 && spill;
                int slot = isSecond ? -(stored + 1) : stored;
                if (slot is < 0 or > MaxSlot || !(isSecond ? second : first).TryAdd(slot, l))
                    throw new InvalidDataException($"ivf index: list {l} holds an invalid or repeated slot {stored}");
                slots[j] = slot;
                maxSlot = Math.Max(maxSlot, slot);
            }
            var codes = new byte[(long)count * size];
            if (reader.Read(codes, 0, codes.Length) != codes.Length) throw new EndOfStreamException($"ivf index: list {l} codes truncated");
            var list = new IvfList(size, index.Blocks, count);
            for (int j = 0; j < count; j++) list.Append(slots[j], codes.AsSpan(j * size, size));
            index._lists[l] = list;
            index._sumSquares += (long)count * count;
            index._entries += count;
        }
        // With spill every entry has exactly one second-list copy, in another list.
        if (spill && (second.Count != first.Count || second.Any(e => !first.TryGetValue(e.Key, out int p) || p == e.Value)))
            throw new InvalidDataException("ivf index: spilled entries do not pair one to one with first-list entries in other lists");
        index._count = first.Count;
        if (maxSlot >= 0) index.EnsureSlotCapacity(maxSlot);
        foreach (var (slot, l) in first) index._listOf[slot] = l;
        foreach (var (slot, l) in second) index._spillOf[slot] = l;
        return index;
    }
}
