using VectorStore.Quantization;

namespace VectorStore.Indexing.Hnsw;

public sealed partial class HnswIndex
{
    private const int FormatVersion = 1;

    /// <inheritdoc />
    /// <remarks>
    /// Layout in data-format.md §3.3. Mutations wait while the image is written, so it is consistent; searches go on.
    /// </remarks>
    public override void Write(BinaryWriter writer)
    {
        EnterImageLock();
        try
        {
            writer.Write(FormatVersion);
            writer.Write((byte)DistanceKind);
            CodecRegistry.Write(Codec, writer);
            writer.Write(_m);
            writer.Write(_efc);
            writer.Write(_seed);
            writer.Write(_inserted);
            int high = _nodeHigh;
            writer.Write(high);
            writer.Write(_entry < 0 ? -1 : (int)_entry);
            writer.Write(_entry < 0 ? -1 : (int)(_entry >> 32));
            writer.Write(_state, 0, high);
            writer.Write(_level, 0, high);
            for (int i = 0; i < high; i++) writer.Write(_nodeSlot[i]);
            for (int c = 0; c < _codes.SegmentCount(high); c++) writer.Write(_codes.Segment(c, high));
            for (int node = 0; node < high; node++)
            {
                if (_state[node] == StateFree) continue;
                for (int l = 0; l <= _level[node]; l++) WriteLinkList(writer, node, l);
            }
        }
        finally { ExitImageLock(); }
    }

    /// <summary>Excludes every mutation (and array growth) while letting searches run: for writing an image of the graph.</summary>
    private void EnterImageLock()
    {
        _mutation.EnterWriteLock();
        _structure.EnterReadLock();
    }

    private void ExitImageLock()
    {
        _structure.ExitReadLock();
        _mutation.ExitWriteLock();
    }

    internal static HnswIndex Read(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version is < 1 or > FormatVersion) throw new InvalidDataException($"hnsw index: format version {version} is newer than this build reads ({FormatVersion})");
        var kind = (DistanceKind)reader.ReadByte();
        var codec = CodecRegistry.Read(reader);
        int m = reader.ReadInt32();
        int efc = reader.ReadInt32();
        int seed = reader.ReadInt32();
        long inserted = reader.ReadInt64();
        int high = reader.ReadInt32();
        int entryNode = reader.ReadInt32();
        int entryLevel = reader.ReadInt32();
        if (m is < 2 or > 255 || efc < m || high < 0 || entryNode >= high || entryLevel >= MaxLevels)
            throw new InvalidDataException("hnsw index: bad header");
        // Refuse a node count the remaining bytes cannot hold before allocating for it.
        if (reader.BaseStream.CanSeek && (long)high * (codec.CodeSize + 6) > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"hnsw index: {high} nodes do not fit in the remaining snapshot bytes");
        var index = new HnswIndex(codec, kind, m, efc, seed, Math.Max(high, 16));
        index._inserted = inserted;
        index._nodeHigh = high;
        ReadExactly(reader, index._state.AsSpan(0, high));
        ReadExactly(reader, index._level.AsSpan(0, high));
        for (int i = 0; i < high; i++)
        {
            index._nodeSlot[i] = reader.ReadInt32();
            if (index._level[i] >= MaxLevels || index._state[i] > StateDead) throw new InvalidDataException($"hnsw index: bad node {i}");
        }
        for (int c = 0; c < index._codes.SegmentCount(high); c++) ReadExactly(reader, index._codes.Segment(c, high));
        int upper = 0;
        for (int node = 0; node < high; node++)
            if (index._state[node] != StateFree && index._level[node] > 0) upper += index._level[node] * index._strideUp;
        index.EnsureCapacity(high, upper, 0);
        for (int node = 0; node < high; node++)
        {
            if (index._state[node] == StateFree)
            {
                index._level[node] = 0;
                index._upperOffset[node] = -1;
                continue;
            }
            int level = index._level[node];
            if (level > 0)
            {
                index._upperOffset[node] = index._upperUsed;
                index._upperUsed += level * index._strideUp;
            }
            else index._upperOffset[node] = -1;
            for (int l = 0; l <= level; l++) index.ReadLinkList(reader, node, l, high);
        }
        index.FinishLoad(entryNode, entryLevel);
        return index;
    }

    /// <summary>Reads one stored link list (<c>u16 n</c> + n node ids) into <paramref name="node"/>'s list at <paramref name="level"/>.</summary>
    private void ReadLinkList(BinaryReader reader, int node, int level, int high) =>
        ReadLinkListInto(reader, node, level, high, Links(node, level));

    /// <summary>Reads one stored link list into <paramref name="links"/> (count, then ids), checking it.</summary>
    private void ReadLinkListInto(BinaryReader reader, int node, int level, int high, Span<int> links)
    {
        int n = reader.ReadUInt16();
        if (n > MaxDegree(level)) throw new InvalidDataException($"hnsw index: node {node} has {n} links at level {level}");
        links[0] = n;
        for (int i = 0; i < n; i++)
        {
            int nb = reader.ReadInt32();
            if ((uint)nb >= (uint)high) throw new InvalidDataException($"hnsw index: node {node} links to {nb}");
            links[1 + i] = nb;
        }
    }

    /// <summary>Writes <paramref name="node"/>'s link list at <paramref name="level"/> as <see cref="ReadLinkList"/> reads it.</summary>
    private void WriteLinkList(BinaryWriter writer, int node, int level)
    {
        var links = Links(node, level);
        int n = links[0];
        writer.Write((ushort)n);
        for (int i = 0; i < n; i++) writer.Write(links[1 + i]);
    }

    /// <summary>
    /// Rebuilds what is derived from the per-node arrays (the slot → node map, the live and deleted counts, the free
    /// node list; upper-layer blocks are laid out compactly, so none is free) and checks the entry point. Runs on an
    /// index no other thread sees yet.
    /// </summary>
    private void FinishLoad(int entryNode, int entryLevel)
    {
        int high = _nodeHigh;
        int maxSlot = -1;
        for (int node = 0; node < high; node++)
            if (_state[node] == StateLive) maxSlot = Math.Max(maxSlot, _nodeSlot[node]);
        EnsureCapacity(high, 0, maxSlot + 1);
        _slotNode.AsSpan().Fill(-1);
        _liveCount = _deadCount = _slotHigh = 0;
        _freeNodes.Clear();
        foreach (var blocks in _freeBlocks) blocks.Clear();
        for (int node = 0; node < high; node++)
        {
            byte st = _state[node];
            if (st == StateFree) continue;
            if (st == StateLive)
            {
                int slot = _nodeSlot[node];
                if (slot < 0 || _slotNode[slot] >= 0) throw new InvalidDataException($"hnsw index: slot {slot} is bad or used twice");
                _slotNode[slot] = node;
                _liveCount++;
                _slotHigh = Math.Max(_slotHigh, slot + 1);
            }
            else _deadCount++;
        }
        for (int node = high - 1; node >= 0; node--)
            if (_state[node] == StateFree) _freeNodes.Push(node);
        // A graph with live nodes always has an entry point (consolidation moves it to a live node).
        if (entryNode < -1 || entryNode >= high || entryLevel >= MaxLevels || (entryNode < 0 && _liveCount > 0)
            || (entryNode >= 0 && (_state[entryNode] == StateFree || _level[entryNode] != entryLevel)))
            throw new InvalidDataException("hnsw index: bad entry point");
        // A link above layer 0 must reach a node that has that layer: a search reads the target's list there.
        for (int node = 0; node < high; node++)
        {
            if (_state[node] == StateFree) continue;
            for (int l = 1; l <= _level[node]; l++)
            {
                var links = Links(node, l);
                for (int i = 1; i <= links[0]; i++)
                {
                    int target = links[i];
                    if (_level[target] < l) // free nodes have level 0
                        throw new InvalidDataException($"hnsw index: node {node} links at layer {l} to node {target}, which has no such layer");
                }
            }
        }
        _entry = entryNode < 0 ? -1 : PackEntry(entryLevel, entryNode);
    }

    private static void ReadExactly(BinaryReader reader, Span<byte> target)
    {
        if (reader.BaseStream.ReadAtLeast(target, target.Length, throwOnEndOfStream: false) != target.Length)
            throw new EndOfStreamException("hnsw index: truncated");
    }
}
