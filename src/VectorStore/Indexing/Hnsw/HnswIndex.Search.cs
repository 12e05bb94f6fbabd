using VectorStore.Quantization;
using VectorStore.Ranking;

namespace VectorStore.Indexing.Hnsw;

public sealed partial class HnswIndex
{
    /// <summary>
    /// Filters matching at most this many live entries, or this fraction of them, are answered by scoring just the
    /// matches: a graph walk would have to wade through too many non-matching nodes to fill its beam.
    /// </summary>
    internal static int FilterScanThreshold(int live) => Math.Max(1024, live / 50);

    /// <inheritdoc />
    /// <remarks>
    /// Beam width is <see cref="IndexSearchParameters.Ef"/> (default <see cref="DefaultEf"/>), raised to the number of
    /// results wanted. With a filter, the walk goes through non-matching nodes but only matching ones fill the beam;
    /// a small matching set is scanned exactly instead.
    /// </remarks>
    public override void Search(ReadOnlySpan<float> query, in IndexSearchParameters parameters, SlotFilter? filter, TopK results)
    {
        if (query.Length != Codec.Dimension) throw new InvalidVectorException($"expected dimension {Codec.Dimension}, got {query.Length}");
        int ef = Math.Max(parameters.Ef > 0 ? parameters.Ef : DefaultEf, results.Capacity);
        var s = _scratch.Value!;
        _structure.EnterReadLock();
        try
        {
            long entry = Volatile.Read(ref _entry);
            if (entry < 0) return;
            bool scan = filter is not null && filter.Count <= FilterScanThreshold(_liveCount);
            s.Scorer.SetQuery(query);
            if (scan) ScanFiltered(s.Scorer, filter!, results);
            else Walk(s.Scorer, entry, ef, filter, results, s);
        }
        finally { _structure.ExitReadLock(); }
    }

    private void Walk(CodeScorer dist, long entry, int ef, SlotFilter? filter, TopK results, HnswScratch s)
    {
        int cur = (int)entry;
        float curDist = dist.Distance(CodeOf(cur));
        for (int l = (int)(entry >> 32); l > 0; l--) cur = Greedy(dist, cur, ref curDist, l, s);
        s.NewVisit(_nodeCapacity);
        s.Candidates.Clear();
        s.Top.Clear();
        Seed(cur, curDist, filter, s, requireLive: true);
        Beam(dist, 0, ef, filter, s);
        var nodes = s.Top.Nodes;
        var dists = s.Top.Distances;
        for (int i = 0; i < nodes.Length; i++)
        {
            int node = nodes[i];
            // Checked again: a delete that completed during the walk must not leak into the answer.
            if (Volatile.Read(ref _state[node]) == StateLive) results.Push(_nodeSlot[node], dists[i]);
        }
    }

    private void ScanFiltered(CodeScorer dist, SlotFilter filter, TopK results)
    {
        var slotNode = _slotNode;
        foreach (int slot in filter.Slots())
        {
            if (slot >= slotNode.Length) break;
            int node = Volatile.Read(ref slotNode[slot]);
            if (node < 0 || Volatile.Read(ref _state[node]) != StateLive) continue;
            results.Push(slot, dist.Distance(CodeOf(node)));
        }
    }
}
