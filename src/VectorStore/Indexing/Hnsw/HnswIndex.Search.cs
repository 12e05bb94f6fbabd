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

    /// <summary>
    /// Largest matching set still cheaper to score one by one than to walk to: a walk whose beam admits only a fraction
    /// s = matches/live of the nodes it scores visits about (ef·m0)/s nodes, a scan scores the matches once, so the
    /// scan wins while matches² / live &lt; 2·ef·m0 (the factor 2 for the scan's sequential, prefetch-friendly access).
    /// At 50k live and ef 64 that is about 14k matches (28 %); at 1M, 64k (6 %).
    /// </summary>
    internal int ScanBeatsWalk(int live, int ef) => (int)Math.Min(int.MaxValue, Math.Sqrt(2.0 * ef * _m0 * Math.Max(1, live)));

    /// <inheritdoc />
    /// <remarks>
    /// Beam width is <see cref="IndexSearchParameters.Ef"/> (default <see cref="DefaultEf"/>), raised to the number of
    /// results wanted. With a filter, the walk goes through non-matching nodes but only matching ones fill the beam;
    /// a matching set small enough that scoring it is cheaper than the walk (<see cref="ScanBeatsWalk"/>) is scored
    /// code by code instead.
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
            bool scan = filter is not null && filter.Count <= Math.Max(FilterScanThreshold(_liveCount), ScanBeatsWalk(_liveCount, ef));
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
