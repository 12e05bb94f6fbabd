using System.Runtime.InteropServices;
using VectorStore.Memory;

namespace VectorStore.Storage;

/// <summary>
/// Append-only storage for the vectors written since the last checkpoint (disk residency): rows are copied into
/// blocks instead of one array each. A buffered row lives until a checkpoint seals it, long enough for the garbage
/// collector to copy a small array through every generation; and fresh memory costs its page faults, several times
/// the copy itself on a virtual machine (notes/issue-13.md, fifth session). So:
/// <list type="bullet">
/// <item>blocks grow from 64 KiB (a small collection holds little) to 6 MiB, and the whole 2 MiB pages inside the
/// larger ones sit on transparent huge pages where the system allows (<see cref="HugePageArray.AllocateAdvised"/>: a
/// fault per 2 MiB, not per 4 KiB, for at least two thirds of a 6 MiB block). Every byte of a block holds rows:
/// aligning a block to a huge page would reserve up to 2 MiB that is never touched but that a heap limit counts
/// (notes/memory-caps.md);</item>
/// <item>after a checkpoint (<see cref="Recycle"/>) blocks no buffered row refers to take the next rows, so sustained
/// ingest stops taking new memory, and the arena never holds more blocks than the buffer once needed at a time
/// (one checkpoint's worth, <c>StorageSettings.CheckpointAfterBufferedBytes</c>);</item>
/// <item>a checkpoint that leaves nothing buffered (writes paused, <c>compact</c>, close) frees every block, and returns
/// their pages to the system at once (<see cref="HugePageArray.Discard"/>).</item>
/// </list>
/// Thread-safety: <see cref="Append"/> and <see cref="Recycle"/> run under the owner's exclusive lock (no reader
/// holds a row then); the rows <see cref="Append"/> returns are read concurrently once the owner publishes them.
/// </summary>
internal sealed class RowArena
{
    private const int FirstBlockBytes = 64 << 10;
    private const int LastBlockBytes = 6 << 20;
    private readonly int _dimension;
    private readonly List<Block> _handedOut = [];
    private readonly Stack<Block> _free = new();
    private Block _block = new([], 0, 0);
    private int _used;
    private int _nextBytes = FirstBlockBytes;
    private long _bytes;

    private readonly record struct Block(float[] Array, int Offset, int Floats);

    /// <summary>An empty arena for rows of <paramref name="dimension"/> values.</summary>
    public RowArena(int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        _dimension = dimension;
    }

    /// <summary>Bytes of the blocks held, in use or free (for memory accounting).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Copies <paramref name="row"/> into the arena; its place is not written again until <see cref="Recycle"/> frees its block.</summary>
    public ReadOnlyMemory<float> Append(ReadOnlySpan<float> row)
    {
        if (row.Length != _dimension) throw new ArgumentException($"row of {row.Length} values in an arena of dimension {_dimension}");
        if (_used > _block.Floats - _dimension)
        {
            _block = _free.Count > 0 ? _free.Pop() : NewBlock();
            _handedOut.Add(_block);
            _used = 0;
        }
        var memory = new Memory<float>(_block.Array, _block.Offset + _used, _dimension);
        row.CopyTo(memory.Span);
        _used += _dimension;
        return memory;
    }

    private Block NewBlock()
    {
        // Whole rows, rounded up: a block of at least the step's size.
        int floats = checked((_nextBytes / sizeof(float) + _dimension - 1) / _dimension * _dimension);
        _nextBytes = Math.Min(LastBlockBytes, _nextBytes * 2);
        // Not zeroed: every row is written before it is handed out, and no reader looks past the rows.
        var array = HugePageArray.AllocateAdvised<float>(floats, zeroed: false);
        Interlocked.Add(ref _bytes, (long)floats * sizeof(float));
        return new Block(array, 0, floats);
    }

    /// <summary>
    /// Frees every block none of <paramref name="stillBuffered"/> lies in, except the one being filled; with nothing
    /// buffered, every block. The caller holds the exclusive lock, so no reader is looking at a row of a freed block.
    /// </summary>
    public void Recycle(IReadOnlyCollection<ReadOnlyMemory<float>> stillBuffered)
    {
        if (stillBuffered.Count == 0)
        {
            // Gone from the process now, not when the collector reuses the holes: an idle collection's checkpoint
            // (DatabaseOptions.CheckpointWhenIdle) is what ends here, and nothing allocates after it. Every block is
            // in exactly one of the two lists (the one being filled is handed out).
            foreach (var block in _handedOut.Concat(_free)) HugePageArray.Discard(block.Array);
            _handedOut.Clear();
            _free.Clear();
            _block = new([], 0, 0);
            _used = 0;
            _nextBytes = FirstBlockBytes;
            Interlocked.Exchange(ref _bytes, 0);
            return;
        }
        var kept = new HashSet<float[]>(ReferenceEqualityComparer.Instance) { _block.Array };
        foreach (var row in stillBuffered)
            if (MemoryMarshal.TryGetArray(row, out var segment) && segment.Array is { } array) kept.Add(array);
        for (int i = _handedOut.Count - 1; i >= 0; i--)
        {
            if (kept.Contains(_handedOut[i].Array)) continue;
            _free.Push(_handedOut[i]);
            _handedOut.RemoveAt(i);
        }
    }
}
