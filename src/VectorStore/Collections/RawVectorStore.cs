namespace VectorStore.Collections;

/// <summary>
/// Full-precision vectors by slot, for re-ranking, <c>get</c> and <c>export</c>. Chunked so growth never copies what
/// is stored. Thread-safety: reads may run concurrently with each other; writes are serialized by the collection's
/// write lock.
/// </summary>
internal sealed class RawVectorStore(int dimension)
{
    private const int ChunkShift = 12; // 4,096 vectors per chunk
    private const int ChunkSize = 1 << ChunkShift;
    private float[][] _chunks = [];

    public int Dimension { get; } = dimension;

    public long MemoryBytes => (long)_chunks.Length * ChunkSize * Dimension * sizeof(float);

    public ReadOnlySpan<float> Get(int slot) =>
        new(_chunks[slot >> ChunkShift], (slot & (ChunkSize - 1)) * Dimension, Dimension);

    public void Set(int slot, ReadOnlySpan<float> vector)
    {
        int c = slot >> ChunkShift;
        if (c >= _chunks.Length)
        {
            var grown = new float[Math.Max(c + 1, _chunks.Length * 2)][];
            Array.Copy(_chunks, grown, _chunks.Length);
            for (int i = _chunks.Length; i < grown.Length; i++) grown[i] = new float[ChunkSize * Dimension];
            _chunks = grown;
        }
        vector.CopyTo(_chunks[c].AsSpan((slot & (ChunkSize - 1)) * Dimension, Dimension));
    }
}
