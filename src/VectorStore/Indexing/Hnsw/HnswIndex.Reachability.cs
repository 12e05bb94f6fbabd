namespace VectorStore.Indexing.Hnsw;

/// <summary>
/// Reachability: every live node can be reached on layer 0 from the entry point. The neighbour-selection heuristic
/// that prunes a full link list (<see cref="LinkBack"/>) and the relinking around deleted nodes may drop a node's last
/// in-link; such a node is never returned, whatever the beam width (a user's 9,000-vector SIFT collection kept 9
/// vectors that no search, not even of themselves with ef 100,000, could find). An insert relinks the nodes its own
/// pruning cut off (<see cref="KeepReachable"/>); a pass finds any left (a breadth-first walk of layer 0) and links
/// each from a reachable node near it, found the way a search for its vector would.
/// </summary>
public sealed partial class HnswIndex
{
    /// <summary>A reachability pass runs once this many nodes, or a hundredth of the live ones if more, were inserted since the last.</summary>
    internal const int ReachabilityCheckMinInserts = 256;

    /// <summary>The part of the live nodes (1 / this) whose insertion triggers a pass when it is more than <see cref="ReachabilityCheckMinInserts"/>.</summary>
    private const int ReachabilityCheckFraction = 100;

    private long _insertsSinceReachability;

    /// <summary>
    /// Counts inserts and runs a pass (<see cref="Reconnect"/>) when enough have accumulated. A pass walks every
    /// layer-0 link once and holds 5 bytes per node while it runs; spread over a hundredth of the graph that is about
    /// 2M × 100 link reads per insert, well under the insert's own beam search (EFC candidates, each scored and its
    /// links read).
    /// </summary>
    private void AfterInserts(int count)
    {
        if (Interlocked.Add(ref _insertsSinceReachability, count) >= ReachabilityDue()) Reconnect(onlyIfDue: true);
    }

    private long ReachabilityDue() => Math.Max(ReachabilityCheckMinInserts, Volatile.Read(ref _liveCount) / ReachabilityCheckFraction);

    /// <summary>
    /// Links every live node that cannot be reached on layer 0 from the entry point; returns how many it linked. With
    /// <paramref name="onlyIfDue"/> the insert count is checked again under the lock, so callers that crossed the mark
    /// together run one pass, not one each. Holds the mutation lock exclusively (inserts, removals and images wait;
    /// searches go on, reading links under the node locks as during inserts).
    /// </summary>
    internal int Reconnect(bool onlyIfDue = false)
    {
        _mutation.EnterWriteLock();
        try
        {
            if (onlyIfDue && Volatile.Read(ref _insertsSinceReachability) < ReachabilityDue()) return 0;
            Volatile.Write(ref _insertsSinceReachability, 0);
            return ReconnectExclusive();
        }
        finally { _mutation.ExitWriteLock(); }
    }

    /// <summary>Live nodes that cannot be reached on layer 0 from the entry point (for tests).</summary>
    internal int CountUnreachable()
    {
        _mutation.EnterWriteLock();
        try
        {
            return WalkFromEntry(out _, out _, out _) is { } reached ? LiveUnreached(reached) : 0;
        }
        finally { _mutation.ExitWriteLock(); }
    }

    /// <summary>
    /// Marks what layer 0 reaches from the entry point (null: no entry point); <paramref name="queue"/> holds the
    /// reached nodes up to <paramref name="tail"/>, for the walk to go on from nodes linked later.
    /// </summary>
    private bool[]? WalkFromEntry(out long entry, out int[] queue, out int tail)
    {
        int high = _nodeHigh;
        entry = _entry;
        queue = [];
        tail = 0;
        if (entry < 0 || high == 0) return null;
        var reached = new bool[high];
        queue = new int[high];
        Reach((int)entry, reached, queue, ref tail, 0);
        return reached;
    }

    private int LiveUnreached(bool[] reached)
    {
        int count = 0;
        for (int node = 0; node < reached.Length; node++)
            if (!reached[node] && _state[node] == StateLive) count++;
        return count;
    }

    /// <summary>
    /// After an insert: each node its back links pruned from a full list that no node it links to links back to gets a
    /// link from its nearest neighbour that has room, or in place of that neighbour's farthest link (whose node is then
    /// checked the same way, a few rounds at most). In HNSW a node's in-links come almost only from the nodes it links
    /// to, so this finds the nodes a prune cut off as it happens, for about 2M × 2M link reads each; a node reached only
    /// from elsewhere gets one link more than it needed, and what a concurrent insert changes meanwhile is left to the
    /// next <see cref="Reconnect"/>.
    /// </summary>
    private void KeepReachable(HnswScratch s)
    {
        var dropped = s.Dropped;
        for (int i = 0; i < dropped.Count && i < 4 * _m0; i++)
        {
            int x = dropped[i];
            if (Volatile.Read(ref _state[x]) != StateLive || LinkedFromANeighbour(x, s)) continue;
            int displaced = LinkFromNearestNeighbour(x, s);
            if (displaced >= 0) dropped.Add(displaced);
        }
        dropped.Clear();
    }

    /// <summary>
    /// Whether a node <paramref name="x"/> links to links back to it and is itself linked from another of its own
    /// neighbours: two hops, so a pair that only link to each other (the heuristic can leave a node one out-link)
    /// does not pass for reachable.
    /// </summary>
    private bool LinkedFromANeighbour(int x, HnswScratch s)
    {
        s.EnsureLinks(_m0 + 1);
        int n = ReadLinks(x, 0, s.Links);
        for (int i = 0; i < n; i++)
        {
            int nb = s.Links[i];
            int m = ReadLinks(nb, 0, s.Links2);
            if (!s.Links2.AsSpan(0, m).Contains(x)) continue;
            for (int j = 0; j < m; j++)
            {
                int y = s.Links2[j];
                if (y == x) continue;
                int k = ReadLinks(y, 0, s.Selected);
                if (s.Selected.AsSpan(0, k).Contains(nb)) return true;
            }
        }
        return false;
    }

    /// <summary>Links <paramref name="x"/> from its nearest live neighbour; returns the node whose link it took (-1: none, or a free slot was used).</summary>
    private int LinkFromNearestNeighbour(int x, HnswScratch s)
    {
        int n = ReadLinks(x, 0, s.Links);
        SetAuxQuery(x, s);
        int from = -1;
        float best = float.PositiveInfinity;
        for (int i = 0; i < n; i++)
        {
            int nb = s.Links[i];
            if (Volatile.Read(ref _state[nb]) != StateLive) continue;
            float d = AuxDistance(nb, s);
            if (d < best) (from, best) = (nb, d);
        }
        return from < 0 ? -1 : PutLink(from, x, s);
    }

    private int ReconnectExclusive()
    {
        if (WalkFromEntry(out long entry, out int[] queue, out int tail) is not { } reached || LiveUnreached(reached) == 0) return 0;
        var s = _scratch.Value!;
        int linked = 0;
        // One pass suffices: linking never takes a way in from a reached node (LinkFrom), so what is reached stays so.
        for (int node = 0; node < reached.Length; node++)
        {
            if (_state[node] != StateLive || reached[node]) continue;
            LinkFromReachable(node, entry, reached, s);
            linked++;
            // What the node links to is reachable now too (a group cut off together comes back through one of them).
            int head = tail;
            Reach(node, reached, queue, ref tail, head);
        }
        return linked;
    }

    /// <summary>Marks what layer 0 reaches from <paramref name="start"/>, using <paramref name="queue"/> from <paramref name="head"/> on.</summary>
    private void Reach(int start, bool[] reached, int[] queue, ref int tail, int head)
    {
        if (reached[start]) return;
        reached[start] = true;
        queue[tail++] = start;
        while (head < tail)
        {
            var links = _links0[queue[head++]];
            for (int i = 0, n = links[0]; i < n; i++)
            {
                int nb = links[1 + i];
                if (reached[nb]) continue;
                reached[nb] = true;
                queue[tail++] = nb;
            }
        }
    }

    /// <summary>
    /// Adds <paramref name="node"/> to the layer-0 links of the nearest reachable node that can take it: the layer-0
    /// beam of a search for the node's vector gives the candidates, the entry point (live and reachable) comes last.
    /// </summary>
    private void LinkFromReachable(int node, long entry, bool[] reached, HnswScratch s)
    {
        var dist = s.Aux;
        dist.SetQueryFromCode(CodeOf(node));
        int cur = Descend(dist, entry, 0, out float curDist, s);
        NewLayerSearch(s);
        s.Visit(node);
        Seed(cur, curDist, null, s, requireLive: false);
        Beam(dist, 0, _efc, null, s);
        int n = s.Top.Count;
        s.EnsureCandidates(n + 1);
        s.Top.Nodes.CopyTo(s.Ids);
        s.Top.Distances.CopyTo(s.Dists);
        var ids = s.Ids.AsSpan(0, n);
        s.Dists.AsSpan(0, n).Sort(ids);
        // The entry point last (live and reachable), if nothing nearer can take the link.
        s.Ids[n] = (int)entry;
        ids = s.Ids.AsSpan(0, n + 1);
        foreach (int from in ids)
        {
            if (from == node || !reached[from] || _state[from] != StateLive) continue;
            LinkFrom(from, node, s);
            return;
        }
    }

    /// <summary>
    /// Links <paramref name="node"/> from <paramref name="from"/>: into a free place, or in place of the farthest link,
    /// which <paramref name="node"/> then takes over (from → node → the node it replaced), so no way in that a reachable
    /// node gave is lost. (Giving up a link whose node seemed to have another way in cut nodes off in turn when that
    /// way ran through the link itself: with M = 2 a pass went on relinking the same few nodes.)
    /// </summary>
    private void LinkFrom(int from, int node, HnswScratch s)
    {
        int carried = PutLink(from, node, s);
        // The node was cut off until now, so no reachable node depended on the link of its own this may replace.
        if (carried >= 0) PutLink(node, carried, s);
    }

    /// <summary>
    /// Puts <paramref name="target"/> into the layer-0 links of <paramref name="node"/>: into a free place, or in place
    /// of its farthest link; returns the node whose link it took (-1: a free place, or already linked).
    /// </summary>
    private int PutLink(int node, int target, HnswScratch s)
    {
        LockNode(node);
        try
        {
            var links = _links0[node];
            int n = links[0];
            if (links.Slice(1, n).Contains(target)) return -1;
            if (n < _m0)
            {
                links[1 + n] = target;
                links[0] = n + 1;
                return -1;
            }
            SetAuxQuery(node, s);
            int farthest = 0;
            float farthestDistance = float.NegativeInfinity;
            for (int i = 0; i < n; i++)
            {
                float d = AuxDistance(links[1 + i], s);
                if (d > farthestDistance) (farthest, farthestDistance) = (i, d);
            }
            int replaced = links[1 + farthest];
            links[1 + farthest] = target;
            return replaced;
        }
        finally { UnlockNode(node); }
    }
}
