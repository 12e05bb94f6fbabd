using VectorStore.Memory;

namespace VectorStore.Indexing.Hnsw;

/// <summary>
/// Change images (data-format.md §3.4): which nodes changed since an image of the graph was written, so a checkpoint
/// writes those nodes instead of the whole graph. An insertion rewrites its own node and the link lists of up to 2M
/// neighbours per layer; a deletion changes one state; consolidation relinks some nodes and frees the deleted ones.
/// Each is marked where it happens (<see cref="LockNode"/> covers every concurrent link write), one bit per node.
/// </summary>
public sealed partial class HnswIndex
{
    private const int ChangesFormatVersion = 1;

    // Nodes whose state, level, slot or links changed since StartChangeImage, and the subset whose code was written
    // (an insertion); null while not recording. Set atomically by mutations, which hold the mutation lock shared
    // (replaced only under it exclusively), and grown with the node arrays under the structure write lock.
    private SlotBitmap? _changed;
    private SlotBitmap? _rewritten;
    private int _changedCount;
    private int _rewrittenCount;
    // Nodes in the image the changes apply to: every node id from here up is in the changes, marked or not (an id
    // allocated by an insertion that failed before writing its node is never marked, and stays free).
    private int _imageHigh;

    internal override bool WritesChangeImages => true;

    internal override bool RecordsChanges => Volatile.Read(ref _changed) is not null;

    /// <inheritdoc />
    /// <remarks>A changed node costs about its links (up to 2M ids on layer 0), plus its code if it was inserted.</remarks>
    internal override long ChangeImageBytes =>
        (long)Volatile.Read(ref _changedCount) * (16 + _stride0 * sizeof(int)) + (long)Volatile.Read(ref _rewrittenCount) * _codeSize;

    internal override void StartChangeImage()
    {
        EnterImageLock();
        try
        {
            _changed = new SlotBitmap(_nodeCapacity);
            _rewritten = new SlotBitmap(_nodeCapacity);
            _changedCount = 0;
            _rewrittenCount = 0;
            _imageHigh = _nodeHigh;
        }
        finally { ExitImageLock(); }
    }

    private void MarkChanged(int node)
    {
        var bits = _changed;
        if (bits is not null && bits.AddAtomic(node)) Interlocked.Increment(ref _changedCount);
    }

    private void MarkRewritten(int node)
    {
        MarkChanged(node);
        var bits = _rewritten;
        if (bits is not null && bits.AddAtomic(node)) Interlocked.Increment(ref _rewrittenCount);
    }

    /// <summary>Grows the change bits with the node arrays (structure write lock held).</summary>
    private void GrowChangeBits(int capacity)
    {
        _changed?.EnsureCapacity(capacity);
        _rewritten?.EnsureCapacity(capacity);
    }

    /// <inheritdoc />
    /// <remarks>Layout in data-format.md §3.4. Mutations wait while it is written, so it is consistent; searches go on.</remarks>
    internal override void WriteChanges(BinaryWriter writer)
    {
        EnterImageLock();
        try
        {
            var changed = _changed ?? throw new InvalidOperationException("hnsw: no changes are being recorded");
            var rewritten = _rewritten!;
            int high = _nodeHigh;
            writer.Write(ChangesFormatVersion);
            writer.Write(_inserted);
            writer.Write(high);
            writer.Write(_entry < 0 ? -1 : (int)_entry);
            writer.Write(_entry < 0 ? -1 : (int)(_entry >> 32));
            // Only allocated nodes (< high) are ever marked.
            for (int node = _imageHigh; node < high; node++) changed.AddAtomic(node);
            writer.Write(changed.Count());
            for (int node = changed.NextSet(0, high); node < high; node = changed.NextSet(node + 1, high))
            {
                writer.Write(node);
                byte state = _state[node];
                writer.Write(state);
                writer.Write(_level[node]);
                writer.Write(_nodeSlot[node]);
                bool code = rewritten.Contains(node);
                writer.Write(code);
                if (code) writer.Write(_codes[node]);
                if (state == StateFree) continue;
                for (int l = 0; l <= _level[node]; l++) WriteLinkList(writer, node, l);
            }
        }
        finally { ExitImageLock(); }
    }

    /// <inheritdoc />
    internal override void ApplyChanges(BinaryReader reader)
    {
        int version = reader.ReadInt32();
        if (version is < 1 or > ChangesFormatVersion)
            throw new InvalidDataException($"hnsw changes: format version {version} is not supported (1..{ChangesFormatVersion})");
        long inserted = reader.ReadInt64();
        int high = reader.ReadInt32();
        int entryNode = reader.ReadInt32();
        int entryLevel = reader.ReadInt32();
        int count = reader.ReadInt32();
        int baseHigh = _nodeHigh;
        // Node ids are never given back, so the graph only grows; every node created since the image is in the changes.
        if (inserted < _inserted || high < baseHigh || count < high - baseHigh || count > high)
            throw new InvalidDataException($"hnsw changes: {count} changed nodes of {high} do not fit a graph of {baseHigh} nodes");
        if (reader.BaseStream.CanSeek && (long)count * 11 > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"hnsw changes: {count} nodes do not fit in the remaining bytes");
        EnsureCapacity(high, 0, 0);
        var changed = new SlotBitmap(_nodeCapacity);
        var rewritten = new SlotBitmap(_nodeCapacity);
        // Upper-layer lists of changed nodes wait here: the pool is laid out again once every node's level is known.
        var upper = new Dictionary<int, int[]>();
        int previous = -1;
        for (int i = 0; i < count; i++)
        {
            int node = reader.ReadInt32();
            if (node <= previous || node >= high) throw new InvalidDataException($"hnsw changes: node {node} is out of range or out of order");
            previous = node;
            byte state = reader.ReadByte();
            byte level = reader.ReadByte();
            int slot = reader.ReadInt32();
            bool code = reader.ReadBoolean();
            if (state > StateDead || level >= MaxLevels || (state == StateFree && level != 0))
                throw new InvalidDataException($"hnsw changes: bad node {node}");
            if (code) ReadExactly(reader, _codes[node]);
            // A node the image held free (or did not hold) has no code to keep: it must have been inserted since.
            else if (state != StateFree && (node >= baseHigh || _state[node] == StateFree))
                throw new InvalidDataException($"hnsw changes: node {node} was inserted since the image but carries no code");
            _state[node] = state;
            _level[node] = level;
            _nodeSlot[node] = slot;
            changed.Add(node);
            if (code) rewritten.Add(node);
            if (state == StateFree)
            {
                _links0[node][0] = 0;
                continue;
            }
            ReadLinkList(reader, node, 0, high);
            if (level == 0) continue;
            // One block of `level` lists, the shape the pool holds them in.
            var lists = new int[level * _strideUp];
            for (int l = 1; l <= level; l++) ReadLinkListInto(reader, node, l, high, lists.AsSpan((l - 1) * _strideUp, _strideUp));
            upper[node] = lists;
        }
        for (int node = baseHigh; node < high; node++)
            if (!changed.Contains(node)) throw new InvalidDataException($"hnsw changes: node {node} is newer than the image but missing");
        RelayoutUpper(upper, high);
        _nodeHigh = high;
        _inserted = inserted;
        FinishLoad(entryNode, entryLevel);
        _changed = changed;
        _rewritten = rewritten;
        _changedCount = count;
        _rewrittenCount = rewritten.Count();
        _imageHigh = baseHigh;
    }

    /// <summary>
    /// Lays the upper-layer pool out again, compactly in node order: unchanged nodes keep their lists from the old pool,
    /// changed ones take <paramref name="changedLists"/>.
    /// </summary>
    private void RelayoutUpper(Dictionary<int, int[]> changedLists, int high)
    {
        int total = 0;
        for (int node = 0; node < high; node++)
            if (_state[node] != StateFree) total += _level[node] * _strideUp;
        var pool = new int[Math.Max(64, total)];
        var offsets = new int[_upperOffset.Length];
        int used = 0;
        for (int node = 0; node < high; node++)
        {
            int level = _state[node] == StateFree ? 0 : _level[node];
            if (level == 0)
            {
                offsets[node] = -1;
                continue;
            }
            int length = level * _strideUp;
            if (changedLists.TryGetValue(node, out var lists)) lists.CopyTo(pool, used);
            else if (node < _nodeHigh && _upperOffset[node] >= 0) Array.Copy(_upperPool, _upperOffset[node], pool, used, length);
            else throw new InvalidDataException($"hnsw changes: node {node} has layers above 0 but no lists for them");
            offsets[node] = used;
            used += length;
        }
        _upperPool = pool;
        _upperOffset = offsets;
        _upperUsed = used;
    }
}
