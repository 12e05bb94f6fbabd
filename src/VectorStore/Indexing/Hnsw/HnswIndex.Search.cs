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
    /// Largest matching set still cheaper to score one by one than to walk to: a scan scores every match once,
    /// sequentially and prefetched; a filtered walk scores on the order of ef·m0 nodes but pays a random read of a
    /// link list for every node it crosses (two hops under a selective filter). Measured on the text set (50k, sq8,
    /// M 16, ef 40, 10 % random filter): scan 6,300 QPS, two-hop walk 3,100 — the scan wins up to about 8·ef·m0
    /// matches (10k here, 20 %; at 1M, 1 %).
    /// </summary>
    internal int ScanBeatsWalk(int ef) => 8 * ef * _m0;

    /// <summary>Below this fraction of live nodes matching, the walk crosses non-matching nodes without scoring them (<see cref="BeamTwoHop"/>).</summary>
    internal const double TwoHopFraction = 0.5;

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
            bool scan = filter is not null && filter.Count <= Math.Max(FilterScanThreshold(_liveCount), ScanBeatsWalk(ef));
            s.Scorer.SetQuery(query);
            if (scan) ScanFiltered(s.Scorer, filter!, results);
            else Walk(s.Scorer, entry, ef, filter, results, s);
        }
        finally { _structure.ExitReadLock(); }
    }

    private void Walk(CodeScorer dist, long entry, int ef, SlotFilter? filter, TopK results, HnswScratch s)
    {
        int cur = Descend(dist, entry, 0, out float curDist, s);
        NewLayerSearch(s);
        Seed(cur, curDist, filter, s, requireLive: true);
        if (filter is not null && filter.Count < TwoHopFraction * Math.Max(1, _liveCount)) BeamTwoHop(dist, ef, filter, s);
        else Beam(dist, 0, ef, filter, s);
        var nodes = s.Top.Nodes;
        var dists = s.Top.Distances;
        for (int i = 0; i < nodes.Length; i++)
        {
            int node = nodes[i];
            // Checked again: a delete that completed during the walk must not leak into the answer.
            if (Volatile.Read(ref _state[node]) == StateLive) results.Push(_nodeSlot[node], dists[i]);
        }
    }

    /// <summary>
    /// The layer-0 beam under a selective filter, after ACORN-1 (Patel et al., SIGMOD 2024): only matching nodes are
    /// scored and enter the frontier; a non-matching neighbour is crossed once, its own neighbours standing in for it
    /// (two hops), so the walk follows the matching subgraph without wading through the nodes it would discard. At most
    /// m0 fresh matches are gathered per expansion, direct neighbours first.
    /// </summary>
    private void BeamTwoHop(CodeScorer dist, int ef, SlotFilter filter, HnswScratch s)
    {
        var cand = s.Candidates;
        var top = s.Top;
        s.EnsureLinks(_m0 + 1);
        var buf = s.Links;
        var buf2 = s.Links2;
        var fresh = s.Selected;
        int cap = _m0;
        while (cand.Count > 0)
        {
            int c = cand.Pop(out float dc);
            if (top.Count >= ef && dc > top.MaxDistance) break;
            int n = ReadLinks(c, 0, buf);
            int nf = 0;
            for (int i = 0; i < n && nf < cap; i++)
            {
                int nb = buf[i];
                if (Accept(nb, filter) && s.Visit(nb))
                {
                    Prefetch(nb);
                    fresh[nf++] = nb;
                }
            }
            for (int i = 0; i < n && nf < cap; i++)
            {
                int nb = buf[i];
                if (Accept(nb, filter) || !s.Visit(nb)) continue;
                int n2 = ReadLinks(nb, 0, buf2);
                for (int j = 0; j < n2 && nf < cap; j++)
                {
                    int nb2 = buf2[j];
                    if (Accept(nb2, filter) && s.Visit(nb2))
                    {
                        Prefetch(nb2);
                        fresh[nf++] = nb2;
                    }
                }
            }
            if (cand.Count > 0) PrefetchLinks(cand.MinNode, 0);
            for (int i = 0; i < nf; i++)
            {
                int nb = fresh[i];
                float d = dist.Distance(CodeOf(nb));
                if (top.Count < ef || d < top.MaxDistance)
                {
                    cand.Push(nb, d);
                    top.PushBounded(nb, d, ef);
                }
            }
        }
    }

    private void ScanFiltered(CodeScorer dist, SlotFilter filter, TopK results)
    {
        var slotNode = _slotNode;
        var words = filter.Words;
        int limit = Math.Min(words.Length, (slotNode.Length + 63) >> 6);
        int pending = -1; // scored one step behind its prefetch: the next match's code is fetched while this one is scored
        for (int w = 0; w < limit; w++)
        {
            ulong bits = words[w];
            while (bits != 0)
            {
                int slot = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                if (slot >= slotNode.Length) break;
                int node = Volatile.Read(ref slotNode[slot]);
                if (node < 0 || Volatile.Read(ref _state[node]) != StateLive) continue;
                Prefetch(node);
                if (pending >= 0) results.Push(_nodeSlot[pending], dist.Distance(CodeOf(pending)));
                pending = node;
            }
        }
        if (pending >= 0) results.Push(_nodeSlot[pending], dist.Distance(CodeOf(pending)));
    }
}
