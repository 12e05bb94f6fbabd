using VectorStore.Ranking;
using VectorStore.Telemetry;

namespace VectorStore.Collections;

/// <summary>
/// One thread's reusable buffers for searches of one collection: the prepared query, the candidate heap, the
/// candidates' slots and distances, a batch's queries and heaps, and the statistics of its last search. Grown on
/// demand and never shrunk, so a search allocates nothing but its hits.
/// Thread-safety: none; each thread has its own (<see cref="SearchPipeline.Scratch"/>).
/// </summary>
internal sealed class SearchScratch(int dimension)
{
    public float[] Query { get; } = new float[dimension];
    public TopK Heap { get; } = new(16);
    public SearchStats Stats { get; set; }
    public int[] SlotBuffer { get; private set; } = new int[16];
    public float[] DistBuffer { get; private set; } = new float[16];

    private float[] _batchQueries = [];
    private TopK[] _batchHeaps = [];

    /// <summary>Room for <paramref name="rows"/> prepared queries of a batch, and a candidate heap for each.</summary>
    public (float[] Queries, TopK[] Heaps) Batch(int rows)
    {
        if (_batchQueries.Length < rows * dimension) _batchQueries = new float[rows * dimension];
        if (_batchHeaps.Length < rows)
        {
            int had = _batchHeaps.Length;
            Array.Resize(ref _batchHeaps, rows);
            for (int i = had; i < rows; i++) _batchHeaps[i] = new TopK(16);
        }
        return (_batchQueries, _batchHeaps);
    }

    public Span<int> Slots(int n)
    {
        if (SlotBuffer.Length < n) SlotBuffer = new int[n];
        return SlotBuffer;
    }

    public Span<float> Dists(int n)
    {
        if (DistBuffer.Length < n) DistBuffer = new float[n];
        return DistBuffer;
    }
}
