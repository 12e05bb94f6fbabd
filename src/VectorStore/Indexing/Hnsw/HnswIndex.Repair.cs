using VectorStore.Quantization;
using VectorStore.Threading;

namespace VectorStore.Indexing.Hnsw;

/// <summary>Deletion repair: relinking around deleted nodes and recycling them.</summary>
public sealed partial class HnswIndex
{
    /// <summary>
    /// Relinks every live node that points at a deleted node (its new candidates are its live links plus the deleted
    /// node's live links, pruned with the selection heuristic), moves the entry point off deleted nodes, and recycles
    /// the deleted nodes, then links any live node the relinking left unreachable (<see cref="Reconnect"/>). Takes the
    /// exclusive lock; runs on all cores. Called automatically by <see cref="Remove"/>.
    /// </summary>
    public void Consolidate()
    {
        if (RelinkAroundDeleted()) Reconnect();
    }

    private bool RelinkAroundDeleted()
    {
        _mutation.EnterReadLock();
        _structure.EnterWriteLock();
        try
        {
            if (_deadCount == 0) return false;
            int high = _nodeHigh;
            var po = EngineParallel.Options();
            Parallel.For(0, high, po, () => _scratch.Value!, (node, _, s) =>
            {
                if (_state[node] == StateLive)
                    for (int l = _level[node]; l >= 0; l--) Repair(node, l, s);
                return s;
            }, _ => { });
            int bestNode = -1, bestLevel = -1;
            lock (_alloc)
            {
                for (int node = 0; node < high; node++)
                {
                    byte st = _state[node];
                    if (st == StateLive)
                    {
                        if (_level[node] > bestLevel) { bestLevel = _level[node]; bestNode = node; }
                        continue;
                    }
                    if (st != StateDead) continue;
                    int level = _level[node];
                    if (level > 0) _freeBlocks[level].Push(_upperOffset[node]);
                    MarkChanged(node);
                    _state[node] = StateFree;
                    _nodeSlot[node] = -1;
                    _links0[node][0] = 0;
                    _level[node] = 0;
                    _upperOffset[node] = -1;
                    _freeNodes.Push(node);
                }
            }
            long entry = _entry;
            if (entry >= 0 && _state[(int)entry] != StateLive)
                _entry = bestNode < 0 ? -1 : PackEntry(bestLevel, bestNode);
            _deadCount = 0;
            return true;
        }
        finally
        {
            _structure.ExitWriteLock();
            _mutation.ExitReadLock();
        }
    }

    private void Repair(int node, int level, HnswScratch s)
    {
        var links = Links(node, level);
        int n = links[0];
        bool any = false;
        for (int i = 0; i < n; i++)
            if (_state[links[1 + i]] != StateLive) { any = true; break; }
        if (!any) return;
        int max = MaxDegree(level);
        s.EnsureCandidates(max * (max + 1) * 2 + 1);
        s.NewVisit(_nodeCapacity);
        s.Visit(node);
        var ids = s.Ids;
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            int nb = links[1 + i];
            if (!s.Visit(nb)) continue;
            if (_state[nb] == StateLive)
            {
                ids[count++] = nb;
                continue;
            }
            if (_state[nb] != StateDead || _level[nb] < level) continue;
            var links2 = Links(nb, level);
            int n2 = links2[0];
            for (int j = 0; j < n2; j++)
            {
                int nb2 = links2[1 + j];
                if (count == ids.Length) break;
                if (!s.Visit(nb2)) continue;
                if (_state[nb2] == StateLive)
                {
                    ids[count++] = nb2;
                    continue;
                }
                // A chain of two deleted nodes: look one hop further so the region behind them stays reachable.
                if (_state[nb2] != StateDead || _level[nb2] < level) continue;
                var links3 = Links(nb2, level);
                int n3 = links3[0];
                for (int t = 0; t < n3 && count < ids.Length; t++)
                {
                    int nb3 = links3[1 + t];
                    if (_state[nb3] == StateLive && s.Visit(nb3)) ids[count++] = nb3;
                }
            }
        }
        var cand = ids.AsSpan(0, count);
        var dists = s.Dists.AsSpan(0, count);
        SetAuxQuery(node, s);
        for (int i = 0; i < count; i++) dists[i] = AuxDistance(cand[i], s);
        dists.Sort(cand);
        s.EnsureLinks(max + 1);
        int chosen = SelectNeighbors(cand, dists, max, s);
        // Only this thread touches this node's lists during consolidation; neighbours' lists are only read, and
        // dead nodes' lists are never written until every repair is done.
        MarkChanged(node);
        s.Selected.AsSpan(0, chosen).CopyTo(links.Slice(1, chosen));
        links[0] = chosen;
    }
}
