using VectorStore.Clustering;
using VectorStore.Distance;
using VectorStore.Quantization;
using VectorStore.Ranking;
using VectorStore.Threading;

namespace VectorStore.Indexing.Ivf;

/// <summary>
/// Inverted-file index (<c>ivf:NLIST[,NPROBE][,residual][,spill]</c>): a k-means coarse quantizer splits the space into
/// NLIST cells; each entry lives in the list of its nearest centroid (and, with <c>spill</c>, also in a second list —
/// see IvfSpill.cs), encoded by the codec either as is (default) or, with <c>residual</c>, as its residual
/// x − centroid (the IVFADC scheme; the codec is then trained on residuals). A search ranks the centroids, scans the
/// nearest NPROBE lists with the codec's batch (or fast-scan block) kernel, and keeps the best in a bounded heap
/// (an entry met in two probed lists is offered once).
/// </summary>
/// <remarks>
/// <para>Scoring a residual code is the codec's <see cref="ResidualScorer"/>: the index sets each probed list on it,
/// with the q·c it already has from ranking the centroids.</para>
/// <para>Updates: an add goes to its nearest list without retraining; a delete moves the list's last entry into the
/// hole, so lists stay dense. Drift is repaired by <see cref="IRebalancingIndex"/> (split/merge or retrain).</para>
/// <para>Thread-safety: searches may run on many threads at once; mutations (<see cref="Add"/>,
/// <see cref="AddBatch"/>, <see cref="Remove"/>, <see cref="ApplyRebalance"/>) must be serialized with each other
/// and with searches by the caller; <see cref="PlanRebalance"/> may run beside searches, not beside mutations.</para>
/// </remarks>
public sealed partial class IvfIndex : VectorIndex, IRebalancingIndex, IPartitionedIndex
{
    private const int BlockSize = 256;
    private readonly ThreadLocal<Scratch> _scratch;
    private float[] _centroids;
    private CentroidSet _coarse;
    private IvfList[] _lists;
    private int[] _listOf = [];
    private int[] _spillOf = [];
    private int _count;
    private long _entries;
    private long _sumSquares;
    private long _version;

    internal IvfIndex(VectorCodec codec, DistanceKind kind, float[] centroids, bool residual, bool spherical, int defaultNProbe, double baselineImbalance, bool spill = false)
    {
        Codec = codec;
        DistanceKind = kind;
        Dimension = codec.Dimension;
        if (centroids.Length == 0 || centroids.Length % Dimension != 0)
            throw new InvalidArgumentException($"ivf: centroid array of {centroids.Length} floats does not fit dimension {Dimension}");
        NList = centroids.Length / Dimension;
        Residual = residual;
        Spherical = spherical;
        Spill = spill && NList > 1;
        DefaultNProbe = Math.Clamp(defaultNProbe, 1, NList);
        BaselineImbalance = baselineImbalance;
        _centroids = centroids;
        _coarse = new CentroidSet(new VectorMatrix(centroids, Dimension));
        _lists = new IvfList[NList];
        Blocks = codec.BlockLayout;
        for (int l = 0; l < NList; l++) _lists[l] = new IvfList(codec.CodeSize, Blocks);
        _scratch = new ThreadLocal<Scratch>(() => new Scratch(this));
    }

    /// <summary>The default nprobe for a list count: √NLIST, which reaches recall@10 ≈ 0.9 on typical embeddings.</summary>
    public static int DefaultNProbeFor(int nlist) => Math.Max(1, (int)Math.Round(Math.Sqrt(nlist)));

    /// <inheritdoc />
    public override string Spec =>
        (DefaultNProbe == DefaultNProbeFor(NList) ? $"ivf:{NList}" : $"ivf:{NList},{DefaultNProbe}") + (Residual ? ",residual" : "") + (Spill ? ",spill" : "");

    /// <inheritdoc />
    public override string Kind => "ivf";

    /// <inheritdoc />
    public override VectorCodec Codec { get; }

    /// <inheritdoc />
    public override DistanceKind DistanceKind { get; }

    /// <summary>Vector dimension.</summary>
    public int Dimension { get; }

    /// <summary>Number of inverted lists (coarse centroids).</summary>
    public int NList { get; }

    /// <summary>Lists probed when a search does not say (<see cref="IndexSearchParameters.NProbe"/> = 0).</summary>
    public int DefaultNProbe { get; }

    /// <summary>The codec's block layout when lists are stored packed for fast-scan (<c>pq:Mx4</c>), else null.</summary>
    internal IBlockCodec? Blocks { get; }

    /// <summary>
    /// Whether centroids are kept at unit length (data on the unit sphere, i.e. cosine collections). Then nearest
    /// centroid by L2 is largest inner product, and on sentence embeddings it probes better than mean centroids
    /// (+0.01–0.02 recall@10 at equal nprobe on the shared text set).
    /// </summary>
    public bool Spherical { get; }

    /// <summary>Whether codes encode the residual to the list centroid (<c>ivf:…,residual</c>; never for <c>none</c>).</summary>
    public bool Residual { get; }

    /// <summary>Whether every entry is also stored in a second list (<c>ivf:…,spill</c>; needs NLIST ≥ 2).</summary>
    public bool Spill { get; }

    /// <summary>
    /// The imbalance factor measured when the centroids were (re)trained; the rebalancing threshold is relative to it
    /// because real data is never perfectly balanced.
    /// </summary>
    public double BaselineImbalance { get; private set; }

    /// <summary>When and how rebalancing triggers; may be replaced at any time.</summary>
    public IvfRebalanceOptions RebalanceOptions { get; set; } = new();

    /// <inheritdoc />
    public override int Count => _count;

    /// <inheritdoc />
    public override long MemoryBytes
    {
        get
        {
            long bytes = (long)_centroids.Length * sizeof(float) + NList * sizeof(float)
                + ((long)_listOf.Length + _spillOf.Length) * sizeof(int) + Codec.ParameterBytes;
            foreach (var list in _lists) bytes += list.Bytes;
            return bytes;
        }
    }

    /// <summary>The coarse centroids, row-major NLIST × dimension.</summary>
    public ReadOnlySpan<float> Centroids => _centroids;

    /// <summary>Entries in list <paramref name="list"/>.</summary>
    public int ListSize(int list) => _lists[list].Count;

    /// <inheritdoc />
    /// <remarks>Each list's codes are one array: the largest list must be able to take the whole batch.</remarks>
    public override void CheckRoom(long highWater, int rows)
    {
        base.CheckRoom(highWater, rows);
        // No list holds more entries than all of them (each vector is in one list, two with spill): only a collection
        // near a list's limit pays the scan of every list's size.
        if ((long)_count * (Spill ? 2 : 1) + rows <= _lists[0].MaxEntries) return;
        int largest = 0;
        foreach (var list in _lists) largest = Math.Max(largest, list.Count);
        if ((long)largest + rows > _lists[0].MaxEntries)
            throw CapacityError((long)largest + rows, $"each inverted list's codes are one array, at most {_lists[0].MaxEntries:N0} codes, and the largest could receive the whole batch");
    }

    /// <summary>The list holding <paramref name="slot"/>, or −1.</summary>
    public int ListOf(int slot) => (uint)slot < (uint)_listOf.Length ? _listOf[slot] : -1;

    private void EnsureSlotCapacity(int slot)
    {
        if (slot < _listOf.Length) return;
        // Grow by half (not double) and never past what is needed: the map is 4 bytes per slot of index overhead.
        int cap = Math.Max(slot + 1, Math.Min(int.MaxValue - 64, _listOf.Length + (_listOf.Length >> 1)));
        int old = _listOf.Length;
        Array.Resize(ref _listOf, cap);
        _listOf.AsSpan(old).Fill(-1);
        if (!Spill) return;
        Array.Resize(ref _spillOf, cap);
        _spillOf.AsSpan(old).Fill(-1);
    }

    /// <summary>The list nearest to <paramref name="vector"/> (squared L2 to the centroids, whatever the metric).</summary>
    public int Assign(ReadOnlySpan<float> vector) => _coarse.Nearest(vector, out _);

    /// <inheritdoc />
    public int Lists => NList;

    /// <inheritdoc />
    public int Route(ReadOnlySpan<float> vector, Span<float> codecInput, out float squaredDistance)
    {
        if (vector.Length != Dimension) throw new InvalidVectorException($"expected dimension {Dimension}, got {vector.Length}");
        // One read of each field: a rebalance may swap them meanwhile, and a residual against the other set's
        // centroid of the same number would still be a residual (statistics only).
        var coarse = _coarse;
        var centroids = _centroids;
        int list = coarse.Nearest(vector, out squaredDistance);
        if (!Residual)
        {
            vector.CopyTo(codecInput);
            return list;
        }
        var c = centroids.AsSpan(list * Dimension, Dimension);
        for (int d = 0; d < Dimension; d++) codecInput[d] = vector[d] - c[d];
        return list;
    }

    /// <inheritdoc />
    public void CopyListSizes(Span<int> sizes)
    {
        var lists = _lists;
        for (int l = 0; l < lists.Length; l++) sizes[l] = lists[l].Count;
    }

    /// <summary>Encodes <paramref name="vector"/> for list <paramref name="list"/> (its residual, when residual).</summary>
    private void EncodeFor(ReadOnlySpan<float> vector, int list, Span<byte> code, Span<float> residual) =>
        EncodeAgainst(_centroids, vector, list, code, residual);

    /// <inheritdoc />
    public override void Add(int slot, ReadOnlySpan<float> vector)
    {
        if (vector.Length != Dimension) throw new InvalidVectorException($"expected dimension {Dimension}, got {vector.Length}");
        if (slot < 0) throw new InvalidArgumentException($"slot must not be negative, got {slot}");
        Remove(slot);
        EnsureSlotCapacity(slot);
        int list = Assign(vector);
        Span<float> residual = Dimension <= 2048 ? stackalloc float[Dimension] : new float[Dimension];
        Span<byte> code = Codec.CodeSize <= 2048 ? stackalloc byte[Codec.CodeSize] : new byte[Codec.CodeSize];
        EncodeFor(vector, list, code, residual);
        AppendEntry(list, slot, code);
        _listOf[slot] = list;
        if (Spill)
        {
            int second = SecondList(_coarse, vector, list, new float[2 * NList]);
            if (Residual) EncodeFor(vector, second, code, residual);
            AppendEntry(second, slot, code);
            _spillOf[slot] = second;
        }
        _count++;
        _version++;
    }

    private void AppendEntry(int list, int slot, ReadOnlySpan<byte> code)
    {
        var target = _lists[list];
        _sumSquares += 2L * target.Count + 1;
        target.Append(slot, code);
        _entries++;
    }

    private void RemoveEntry(int list, int slot)
    {
        var l = _lists[list];
        int pos = l.IndexOf(slot);
        if (pos < 0) throw new InvalidOperationException($"ivf: slot {slot} is mapped to list {list} but not in it");
        l.RemoveAt(pos);
        _sumSquares -= 2L * l.Count + 1;
        _entries--;
    }

    /// <summary>Assigns and encodes in parallel, then appends list by list, reserving each list's space once.</summary>
    public override void AddBatch(ReadOnlySpan<int> slots, VectorMatrix vectors, int threads)
    {
        if (slots.Length == 0) return;
        if (vectors.Dimension != Dimension) throw new InvalidVectorException($"expected dimension {Dimension}, got {vectors.Dimension}");
        if (vectors.Count != slots.Length) throw new InvalidArgumentException($"{slots.Length} slots for {vectors.Count} vectors");
        int max = 0;
        foreach (var s in slots)
        {
            if (s < 0) throw new InvalidArgumentException($"slot must not be negative, got {s}");
            max = Math.Max(max, s);
            Remove(s);
        }
        EnsureSlotCapacity(max);
        int n = slots.Length, size = Codec.CodeSize;
        var assign = new int[n];
        var codes = new byte[(long)n * size];
        var second = Spill ? new int[n] : null;
        var secondCodes = Spill && Residual ? new byte[(long)n * size] : null;
        var po = EngineParallel.Options(threads);
        Parallel.For(0, n, po, () => (new float[Dimension], Spill ? new float[2 * NList] : null), (i, _, buffers) =>
        {
            var (residual, work) = buffers;
            var v = vectors.Row(i);
            int list = Assign(v);
            assign[i] = list;
            EncodeFor(v, list, codes.AsSpan(i * size, size), residual);
            if (second is not null)
            {
                second[i] = SecondList(_coarse, v, list, work);
                if (secondCodes is not null) EncodeFor(v, second[i], secondCodes.AsSpan(i * size, size), residual);
            }
            return buffers;
        }, _ => { });
        var perList = new int[NList];
        foreach (int l in assign) perList[l]++;
        if (second is not null) foreach (int l in second) perList[l]++;
        for (int l = 0; l < NList; l++) if (perList[l] > 0) _lists[l].Reserve(perList[l]);
        for (int i = 0; i < n; i++)
        {
            // A slot repeated within the batch: the later vector replaces the earlier, as with single adds.
            if (_listOf[slots[i]] >= 0) Remove(slots[i]);
            AppendEntry(assign[i], slots[i], codes.AsSpan(i * size, size));
            _listOf[slots[i]] = assign[i];
            if (second is not null)
            {
                AppendEntry(second[i], slots[i], (secondCodes ?? codes).AsSpan(i * size, size));
                _spillOf[slots[i]] = second[i];
            }
            _count++;
        }
        _version++;
    }

    /// <inheritdoc />
    public override void Remove(int slot)
    {
        int list = ListOf(slot);
        if (list < 0) return;
        RemoveEntry(list, slot);
        _listOf[slot] = -1;
        int second = SpillListOf(slot);
        if (second >= 0)
        {
            RemoveEntry(second, slot);
            _spillOf[slot] = -1;
        }
        _count--;
        _version++;
    }

    /// <inheritdoc />
    public override void Search(ReadOnlySpan<float> query, in IndexSearchParameters parameters, SlotFilter? filter, TopK results)
    {
        if (query.Length != Dimension) throw new InvalidVectorException($"expected dimension {Dimension}, got {query.Length}");
        int count = _count;
        if (count == 0) return;
        int nprobe = parameters.NProbe > 0 ? parameters.NProbe : DefaultNProbe;
        bool sparseFilter = false;
        if (filter is not null)
        {
            if (filter.Count == 0) return;
            double fraction = Math.Min(1.0, filter.Count / (double)count);
            // Widen the probe so about as many matching entries are scanned as an unfiltered search scans entries;
            // at the limit it visits every list, i.e. an exact scan of the matching set over the codes.
            nprobe = (int)Math.Min(NList, Math.Ceiling(nprobe / fraction));
            // Below a quarter, testing the filter first and scoring matches one by one beats block scoring — except
            // for packed fast-scan lists, where one code costs about as much to unpack as a whole block to score.
            sparseFilter = Blocks is null && fraction < 0.25;
        }
        nprobe = Math.Min(nprobe, NList);
        var s = _scratch.Value!;
        int probed = RankLists(query, nprobe, s);
        // With spill an entry may sit in two probed lists: stamp what the heap accepted so it is offered once.
        var seen = Spill ? s.BeginQuery(_listOf.Length) : null;
        int epoch = s.Epoch;
        s.Scorer.SetQuery(query);
        for (int i = 0; i < probed; i++) ScanProbed(s.ProbeLists[i], filter, sparseFilter, results, s, seen, epoch);
        if (results.Count < parameters.MinResults && probed < NList)
            ProbeFurther(query, s.ProbeLists.AsSpan(0, probed), parameters.MinResults, filter, sparseFilter, results, s, seen, epoch);
    }

    /// <summary>
    /// Scans the lists beyond those already probed, nearest first, until <paramref name="results"/> holds
    /// <paramref name="wanted"/> entries or every list is scanned (<see cref="IndexSearchParameters.MinResults"/>). The
    /// nprobe nearest lists can hold fewer entries than a search asks for (most of a collection deleted, a small
    /// collection over many lists, a filter matching few of the probed entries), and a search must not answer with fewer
    /// hits than there are vectors to return. The scorer holds the query already.
    /// </summary>
    private void ProbeFurther(ReadOnlySpan<float> query, ReadOnlySpan<int> probedLists, int wanted, SlotFilter? filter, bool sparseFilter, TopK results,
        Scratch s, int[]? seen, int epoch)
    {
        int stamp = s.NextListStamp();
        foreach (int l in probedLists) s.ListStamps[l] = stamp;
        int ranked = RankLists(query, NList, s); // overwrites the probe order, read above
        for (int i = 0; i < ranked && results.Count < wanted; i++)
        {
            int l = s.ProbeLists[i];
            if (s.ListStamps[l] != stamp) ScanProbed(l, filter, sparseFilter, results, s, seen, epoch);
        }
    }

    /// <summary>Scans list <paramref name="l"/> for the query the scratch's scorer holds (the centroid dots of the last ranking).</summary>
    private void ScanProbed(int l, SlotFilter? filter, bool sparseFilter, TopK results, Scratch s, int[]? seen, int epoch)
    {
        var list = _lists[l];
        if (list.Count == 0) return;
        s.Residual?.SetList(_centroids.AsSpan(l * Dimension, Dimension), s.CentroidDots[l]);
        if (sparseFilter) ScanSparse(list, s.Scorer, filter!, results, seen, epoch);
        else ScanList(list, s.Scorer, filter, results, s.Distances, s.Positions, seen, epoch);
    }

    /// <summary>
    /// Ranks the centroids by squared L2 (the assignment criterion) from one dot product each (blocked kernel): the
    /// nearest <paramref name="nprobe"/> go to <c>s.ProbeLists</c>, nearest first, and every dot to
    /// <c>s.CentroidDots</c>. Returns how many lists were ranked.
    /// </summary>
    private int RankLists(ReadOnlySpan<float> query, int nprobe, Scratch s)
    {
        var coarse = _coarse;
        float qn = DotProduct.Compute(query, query);
        var dots = s.CentroidDots;
        var probe = s.Probe;
        probe.Reset(nprobe);
        coarse.Dots(query, dots);
        for (int c = 0; c < NList; c++) probe.Push(c, qn - 2 * dots[c] + coarse.Norm(c));
        return probe.Drain(s.ProbeLists, s.ProbeDistances);
    }

    /// <inheritdoc />
    /// <remarks>
    /// With block codes, plain (not residual) codes and no spill, the lists each query of a
    /// <see cref="VectorIndex.BatchChunk"/> probes are gathered first, then every probed list is scanned once for all
    /// the queries that probe it, each code block scored for up to four of them per pass. A list's estimates do not
    /// depend on the order lists are visited in, so each heap ends with the entries <see cref="Search"/> gives it.
    /// </remarks>
    public override void SearchBatch(ReadOnlySpan<float> queries, in IndexSearchParameters parameters, ReadOnlySpan<TopK> results)
    {
        if (results.Length == 0) return;
        int dim = CheckBatch(queries, results.Length);
        var s = _scratch.Value!;
        var batch = Blocks is null || Residual || Spill ? null : s.Batch ??= Codec.CreateBatchScorer(DistanceKind, BatchChunk);
        if (batch is null || _count == 0)
        {
            if (batch is null) base.SearchBatch(queries, parameters, results);
            return;
        }
        int nprobe = Math.Min(parameters.NProbe > 0 ? parameters.NProbe : DefaultNProbe, NList);
        var lists = _lists;
        var b = s.BatchBuffers(NList, nprobe);
        for (int q0 = 0; q0 < results.Length; q0 += BatchChunk)
        {
            int nq = Math.Min(BatchChunk, results.Length - q0);
            var heaps = results.Slice(q0, nq);
            // Probe lists of every query, then inverted: for each list, the queries that probe it (a counting sort).
            Array.Clear(b.Start, 0, NList + 1);
            for (int i = 0; i < nq; i++)
            {
                var query = queries.Slice((q0 + i) * dim, dim);
                batch.SetQuery(i, query);
                int probed = RankLists(query, nprobe, s);
                b.Probed[i] = probed;
                for (int j = 0; j < probed; j++)
                {
                    int l = s.ProbeLists[j];
                    b.Probes[i * nprobe + j] = l;
                    b.Start[l + 1]++;
                }
            }
            for (int l = 0; l < NList; l++) b.Start[l + 1] += b.Start[l];
            b.Start.AsSpan(0, NList).CopyTo(b.Next);
            for (int i = 0; i < nq; i++)
                for (int j = 0; j < b.Probed[i]; j++) b.Members[b.Next[b.Probes[i * nprobe + j]]++] = i;
            for (int l = 0; l < NList; l++)
            {
                int first = b.Start[l], count = b.Start[l + 1] - first;
                var list = lists[l];
                if (count == 0 || list.Count == 0) continue;
                ScanListBatch(list, batch, b.Members.AsSpan(first, count), heaps, b);
            }
            // A query whose probed lists held too few entries goes on alone, as Search does (batched queries have no
            // filter, residual codes or spill).
            for (int i = 0; i < nq; i++)
            {
                if (heaps[i].Count >= parameters.MinResults || b.Probed[i] >= NList) continue;
                var query = queries.Slice((q0 + i) * dim, dim);
                s.Scorer.SetQuery(query);
                ProbeFurther(query, b.Probes.AsSpan(i * nprobe, b.Probed[i]), parameters.MinResults, null, false, heaps[i], s, null, 0);
            }
        }
    }

    /// <summary>Scans one list for the queries <paramref name="members"/> (indexes into <paramref name="heaps"/>).</summary>
    private static void ScanListBatch(IvfList list, BlockBatchScorer batch, ReadOnlySpan<int> members, ReadOnlySpan<TopK> heaps, BatchScratch b)
    {
        int total = list.Count;
        var slots = list.Slots;
        int q = members.Length;
        for (int start = 0; start < total; start += BlockSize)
        {
            int n = Math.Min(BlockSize, total - start);
            var chunk = list.BlockRange(start, n);
            // A group of rows at a time, so the per-row outputs stay a few KiB.
            for (int g0 = 0; g0 < q; g0 += BatchGroup)
            {
                var group = members.Slice(g0, Math.Min(BatchGroup, q - g0));
                for (int g = 0; g < group.Length; g++) b.Thresholds[g] = heaps[group[g]].Threshold;
                batch.ScanBlocksBelow(group, chunk, n, b.Thresholds.AsSpan(0, group.Length), b.Positions, b.Distances, b.Found);
                for (int g = 0; g < group.Length; g++)
                {
                    var heap = heaps[group[g]];
                    for (int j = g * n, stop = j + b.Found[g]; j < stop; j++) heap.Push(slots[start + b.Positions[j]], b.Distances[j]);
                }
            }
        }
    }

    private static void ScanList(IvfList list, CodeScorer scorer, SlotFilter? filter, TopK results, float[] dist, int[] pos,
        int[]? seen, int epoch)
    {
        int size = list.CodeSize, count = list.Count;
        var codes = list.Codes;
        var slots = list.Slots;
        var blocks = list.Blocks;
        var blockScorer = blocks is null ? null : (IBlockScorer)scorer;
        for (int start = 0; start < count; start += BlockSize)
        {
            int n = Math.Min(BlockSize, count - start);
            if (blockScorer is not null)
            {
                // BlockSize is a multiple of the block length, so every chunk starts on a block boundary. Only codes
                // that can beat the heap's current threshold come back (pruned on the integer sums).
                int found = blockScorer.ScanBlocksBelow(list.BlockRange(start, n), n, results.Threshold, pos, dist);
                for (int j = 0; j < found; j++)
                {
                    int slot = slots[start + pos[j]];
                    if (filter is null || filter.Contains(slot)) Offer(results, slot, dist[j], seen, epoch);
                }
                continue;
            }
            scorer.DistanceBatch(codes.AsSpan(start * size, n * size), size, dist.AsSpan(0, n));
            for (int j = 0; j < n; j++)
                if (filter is null || filter.Contains(slots[start + j])) Offer(results, slots[start + j], dist[j], seen, epoch);
        }
    }

    private static void ScanSparse(IvfList list, CodeScorer scorer, SlotFilter filter, TopK results, int[]? seen, int epoch)
    {
        var slots = list.Slots;
        for (int j = 0; j < list.Count; j++)
        {
            int slot = slots[j];
            if (!filter.Contains(slot)) continue;
            Offer(results, slot, scorer.Distance(list.Codes.AsSpan(j * list.CodeSize, list.CodeSize)), seen, epoch);
        }
    }

    /// <summary>
    /// Offers a candidate, once per query when <paramref name="seen"/> is given. Only accepted entries are stamped: a
    /// copy rejected now may still enter from the other list (with residual codes its estimate differs), while a copy
    /// met after its twin was accepted is skipped even if the twin was evicted since — without residual codes both
    /// copies have the same code, so the skipped one would have been rejected anyway.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Offer(TopK results, int slot, float distance, int[]? seen, int epoch)
    {
        if (seen is null)
        {
            results.Push(slot, distance);
            return;
        }
        if (seen[slot] == epoch) return;
        if (results.Push(slot, distance)) seen[slot] = epoch;
    }

    /// <summary>Per-thread search state, sized once: scorer, centroid dots, probe heap and block buffers.</summary>
    private sealed class Scratch
    {
        public Scratch(IvfIndex index)
        {
            Residual = index.Residual ? index.Codec.CreateResidualScorer(index.DistanceKind) : null;
            Scorer = Residual ?? index.Codec.CreateScorer(index.DistanceKind);
            CentroidDots = new float[index.NList];
            Probe = new TopK(index.NList);
            ProbeLists = new int[index.NList];
            ProbeDistances = new float[index.NList];
            ListStamps = new int[index.NList];
        }

        /// <summary>The scorer a list is scanned with: <see cref="Residual"/> when codes are residuals.</summary>
        public CodeScorer Scorer { get; }

        /// <summary>The per-list residual scorer, or null when codes encode the vectors themselves.</summary>
        public ResidualScorer? Residual { get; }
        public float[] CentroidDots { get; }
        public TopK Probe { get; }
        public int[] ProbeLists { get; }
        public float[] ProbeDistances { get; }
        public float[] Distances { get; } = new float[BlockSize];
        public int[] Positions { get; } = new int[BlockSize];
        private int[] _seen = [];
        private BatchScratch? _batch;

        /// <summary>The batched search's scorer, made on this thread's first batch.</summary>
        public BlockBatchScorer? Batch { get; set; }

        /// <summary>The batched search's buffers, grown to <paramref name="nlist"/> lists and <paramref name="nprobe"/> probes.</summary>
        public BatchScratch BatchBuffers(int nlist, int nprobe)
        {
            if (_batch is null || _batch.Start.Length < nlist + 1 || _batch.Probes.Length < BatchChunk * nprobe) _batch = new BatchScratch(nlist, nprobe);
            return _batch;
        }

        /// <summary>Per-list stamps of <see cref="ProbeFurther"/>: lists stamped with the current stamp were probed already.</summary>
        public int[] ListStamps { get; }
        private int _listStamp;

        /// <summary>A stamp no list carries yet.</summary>
        public int NextListStamp()
        {
            if (++_listStamp == int.MaxValue)
            {
                Array.Clear(ListStamps);
                _listStamp = 1;
            }
            return _listStamp;
        }

        /// <summary>The stamp of the current query in <see cref="BeginQuery"/>'s array.</summary>
        public int Epoch { get; private set; }

        /// <summary>Starts a query: a per-slot stamp array (grown to <paramref name="slots"/>) and a fresh stamp.</summary>
        public int[] BeginQuery(int slots)
        {
            if (_seen.Length < slots) _seen = new int[slots];
            if (++Epoch == int.MaxValue)
            {
                Array.Clear(_seen);
                Epoch = 1;
            }
            return _seen;
        }
    }

    /// <summary>
    /// Per-thread buffers of <see cref="SearchBatch"/>: each query's probed lists, the lists' member queries (counting-sort
    /// layout: list l's members at <c>Members[Start[l] … Start[l + 1])</c>), and one group's per-member outputs.
    /// </summary>
    private sealed class BatchScratch(int nlist, int nprobe)
    {
        public int[] Probes { get; } = new int[BatchChunk * nprobe];
        public int[] Probed { get; } = new int[BatchChunk];
        public int[] Start { get; } = new int[nlist + 1];
        public int[] Next { get; } = new int[nlist];
        public int[] Members { get; } = new int[BatchChunk * nprobe];
        public float[] Thresholds { get; } = new float[BatchGroup];
        public int[] Found { get; } = new int[BatchGroup];
        public int[] Positions { get; } = new int[BatchGroup * BlockSize];
        public float[] Distances { get; } = new float[BatchGroup * BlockSize];
    }
}
