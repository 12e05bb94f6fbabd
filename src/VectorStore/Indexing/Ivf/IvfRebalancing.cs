using System.Diagnostics;
using VectorStore.Clustering;
using VectorStore.Quantization;
using VectorStore.Threading;

namespace VectorStore.Indexing.Ivf;

/// <summary>Health statistics and online rebalancing of <see cref="IvfIndex"/>.</summary>
public sealed partial class IvfIndex
{
    // Over list entries, not vectors: with spill every vector is two entries.
    private double Imbalance => _entries == 0 ? 1.0 : (double)NList * _sumSquares / ((double)_entries * _entries);

    /// <summary>List-size statistics now (O(NLIST)).</summary>
    public IvfHealth GetHealth()
    {
        int min = int.MaxValue, max = 0, empty = 0;
        long spare = 0;
        double sumSq = 0;
        int entry = Codec.CodeSize + sizeof(int);
        foreach (var l in _lists)
        {
            min = Math.Min(min, l.Count);
            max = Math.Max(max, l.Count);
            if (l.Count == 0) empty++;
            spare += (long)(l.Capacity - l.Count) * entry;
            sumSq += (double)l.Count * l.Count;
        }
        double mean = _entries / (double)NList;
        double std = Math.Sqrt(Math.Max(0, sumSq / NList - mean * mean));
        return new IvfHealth(NList, _count, min, max, mean, std, empty, Imbalance, BaselineImbalance,
            _entries * entry, spare, NeedsRebalance);
    }

    /// <inheritdoc />
    public bool NeedsRebalance
    {
        get
        {
            var o = RebalanceOptions;
            if (_count < (long)NList * o.MinMeanListSize) return false;
            if (Imbalance > BaselineImbalance * (1 + o.ImbalanceTolerance)) return true;
            long spare = 0;
            foreach (var l in _lists) spare += l.Capacity - l.Count;
            return spare > o.SpareTolerance * _entries;
        }
    }

    /// <summary>
    /// Plans a repair: lists far above the mean size are split (2-means on their vectors) into the slots of the
    /// smallest lists, whose entries move to their nearest remaining centroid; if the result is still above the
    /// threshold, the centroids are retrained on a sample of live vectors and everything is reassigned. Every list of
    /// the plan is sized exactly, which also compacts spare capacity. The codec is kept: re-encoding is against the
    /// new centroids, from <paramref name="vectors"/> when given.
    /// </summary>
    public IndexRebalancePlan PlanRebalance(SlotVectorSource? vectors, bool force)
    {
        var o = RebalanceOptions;
        var sw = Stopwatch.StartNew();
        var plan = PlanSplitMerge(vectors, o);
        double threshold = BaselineImbalance * (1 + o.ImbalanceTolerance);
        if (plan.ImbalanceAfter > threshold && _count >= 2 * NList)
        {
            plan = PlanRetrain(vectors, o);
        }
        plan.Elapsed = sw.Elapsed;
        return plan;
    }

    /// <inheritdoc />
    public void ApplyRebalance(IndexRebalancePlan plan)
    {
        if (plan is not IvfRebalancePlan p || !ReferenceEquals(p.Owner, this))
            throw new InvalidOperationException("this rebalance plan was made by another index");
        if (p.Version != _version)
            throw new InvalidOperationException("the index changed after the rebalance plan was made; plan again");
        _centroids = p.Centroids;
        _coarse = p.Coarse;
        _lists = p.Lists;
        _listOf = p.ListOf;
        _spillOf = p.SpillOf;
        _sumSquares = p.SumSquares;
        BaselineImbalance = p.Baseline;
        _version++;
        _rebalances++;
    }

    // Counts applied rebalances: a snapshot's older index file cannot be brought up to date by re-adding slots after one.
    private long _rebalances;

    /// <inheritdoc />
    internal override long StructureRevision => _rebalances;

    /// <inheritdoc />
    /// <remarks>Re-adding a slot takes its nearest list(s) under the current centroids and encodes it, as the first add did.</remarks>
    internal override bool ReplaysChanges => true;

    /// <summary>Plans and applies in one call; for callers that already exclude searches (tests, offline tools).</summary>
    public string Rebalance(SlotVectorSource? vectors = null, bool force = true)
    {
        var plan = PlanRebalance(vectors, force);
        ApplyRebalance(plan);
        return plan.Summary;
    }

    private IvfRebalancePlan PlanSplitMerge(SlotVectorSource? vectors, IvfRebalanceOptions o)
    {
        double mean = _entries / (double)NList;
        var order = Enumerable.Range(0, NList).OrderByDescending(l => _lists[l].Count).ThenBy(l => l).ToArray();
        int big = order.Count(l => _lists[l].Count > o.SplitFactor * mean && _lists[l].Count >= 4);
        int small = order.Count(l => _lists[l].Count < o.MergeFactor * mean);
        // Pair the largest lists with the smallest so NLIST stays fixed: the small one's centroid slot is reused for
        // the second half of the split.
        int pairs = Math.Min(Math.Max(big, small), NList / 2);
        var centroids = (float[])_centroids.Clone();
        var affected = new bool[NList];
        int dim = Dimension;
        var context = new TrainingContext { Seed = o.Seed, Threads = 1 };
        for (int p = 0; p < pairs; p++)
        {
            int b = order[p], s = order[NList - 1 - p];
            var members = GatherVectors(b, vectors, 4096, o.Seed + p);
            if (members.Count < 2) break;
            var two = KMeans.Train(members, 2, context, new KMeansOptions { Iterations = 10, MinPointsPerCentroid = 0, Stage = "ivf-split" }).Centroids.Data;
            if (Spherical) NormalizeRows(two, dim);
            two.AsSpan(0, dim).CopyTo(centroids.AsSpan(b * dim, dim));
            two.AsSpan(dim, dim).CopyTo(centroids.AsSpan(s * dim, dim));
            affected[b] = affected[s] = true;
        }
        int splits = affected.Count(a => a) / 2;
        var plan = Rebuild(centroids, affected, vectors, BaselineImbalance);
        plan.SummaryText = $"ivf split/merge: {splits} lists split into the slots of {splits} dissolved lists, {plan.Moved} entries re-encoded, imbalance {Imbalance:F3} → {plan.ImbalanceAfter:F3}";
        return plan;
    }

    private IvfRebalancePlan PlanRetrain(SlotVectorSource? vectors, IvfRebalanceOptions o)
    {
        int sampleSize = (int)Math.Min(_count, (long)o.TrainingVectorsPerList * NList);
        var all = new int[_count];
        int n = 0;
        for (int slot = 0; slot < _listOf.Length; slot++)
            if (_listOf[slot] >= 0) all[n++] = slot;
        var rng = new Random(o.Seed);
        for (int i = 0; i < sampleSize; i++)
        {
            int j = rng.Next(i, n);
            (all[i], all[j]) = (all[j], all[i]);
        }
        var sample = new VectorMatrix(sampleSize, Dimension);
        for (int i = 0; i < sampleSize; i++) VectorOf(all[i], vectors, sample[i]);
        var centroids = KMeans.Train(sample, NList, new TrainingContext { Seed = o.Seed }, new KMeansOptions
        {
            Iterations = o.Iterations, MaxPointsPerCentroid = o.TrainingVectorsPerList, Stage = "ivf-retrain",
        }).Centroids.Data;
        if (Spherical) NormalizeRows(centroids, Dimension);
        var affected = new bool[NList];
        affected.AsSpan().Fill(true);
        var plan = Rebuild(centroids, affected, vectors, baseline: double.NaN);
        plan.Baseline = plan.ImbalanceAfter;
        plan.SummaryText = $"ivf retrain: {NList} centroids on {sampleSize} vectors, {plan.Moved} entries reassigned, imbalance {Imbalance:F3} → {plan.ImbalanceAfter:F3}";
        return plan;
    }

    /// <summary>Scales every row of a row-major matrix to unit length (spherical centroids).</summary>
    internal static void NormalizeRows(float[] rows, int dim)
    {
        for (int r = 0; r < rows.Length / dim; r++) Distance.Distances.Normalize(rows.AsSpan(r * dim, dim));
    }

    /// <summary>The full-precision vector of <paramref name="slot"/>, or its reconstruction from its code.</summary>
    private void VectorOf(int slot, SlotVectorSource? vectors, Span<float> destination)
    {
        if (vectors is not null) vectors(slot).CopyTo(destination);
        else DecodePrimary(slot, destination);
    }

    private VectorMatrix GatherVectors(int listIndex, SlotVectorSource? vectors, int max, int seed)
    {
        var list = _lists[listIndex];
        int n = Math.Min(list.Count, max);
        var picks = Enumerable.Range(0, list.Count).ToArray();
        var rng = new Random(seed);
        for (int i = 0; i < n; i++)
        {
            int j = rng.Next(i, picks.Length);
            (picks[i], picks[j]) = (picks[j], picks[i]);
        }
        var m = new VectorMatrix(n, Dimension);
        for (int i = 0; i < n; i++)
        {
            int pos = picks[i];
            if (vectors is not null) vectors(list.Slots[pos]).CopyTo(m[i]);
            else DecodeEntry(listIndex, pos, m[i]);
        }
        return m;
    }

    /// <summary>
    /// Builds exactly-sized lists for <paramref name="centroids"/>: entries of unaffected lists keep their codes; every
    /// vector with an entry in an affected list (with spill: either of its two) is reassigned — nearest new centroid,
    /// and its second list — and re-encoded.
    /// </summary>
    private IvfRebalancePlan Rebuild(float[] centroids, bool[] affected, SlotVectorSource? vectors, double baseline)
    {
        int dim = Dimension, size = Codec.CodeSize;
        var coarse = new CentroidSet(new VectorMatrix(centroids, dim));
        var isMoved = new bool[_listOf.Length];
        var moved = new List<int>();
        for (int l = 0; l < NList; l++)
        {
            if (!affected[l]) continue;
            var list = _lists[l];
            for (int j = 0; j < list.Count; j++)
                if (!isMoved[list.Slots[j]]) { isMoved[list.Slots[j]] = true; moved.Add(list.Slots[j]); }
        }
        int m = moved.Count;
        var target = new int[m];
        var second = Spill ? new int[m] : null;
        var codes = new byte[(long)m * size];
        var secondCodes = Spill && Residual ? new byte[(long)m * size] : null;
        Parallel.For(0, m, EngineParallel.Options(), () => (new float[dim], new float[dim], new float[2 * NList]), (i, _, buf) =>
        {
            var (vector, residual, work) = buf;
            int slot = moved[i];
            if (vectors is not null) vectors(slot).CopyTo(vector);
            else DecodePrimary(slot, vector);
            int l = coarse.Nearest(vector, out float _);
            target[i] = l;
            EncodeAgainst(centroids, vector, l, codes.AsSpan(i * size, size), residual);
            if (second is not null)
            {
                second[i] = SecondList(coarse, vector, l, work);
                if (secondCodes is not null) EncodeAgainst(centroids, vector, second[i], secondCodes.AsSpan(i * size, size), residual);
            }
            return buf;
        }, _ => { });

        var sizes = new int[NList];
        var kept = new int[NList]; // entries of unaffected lists that stay where they are
        for (int l = 0; l < NList; l++)
        {
            if (affected[l]) continue;
            var list = _lists[l];
            for (int j = 0; j < list.Count; j++) if (!isMoved[list.Slots[j]]) kept[l]++;
            sizes[l] = kept[l];
        }
        foreach (int t in target) sizes[t]++;
        if (second is not null) foreach (int t in second) sizes[t]++;
        var lists = new IvfList[NList];
        var listOf = (int[])_listOf.Clone();
        var spillOf = (int[])_spillOf.Clone();
        var code = new byte[size];
        for (int l = 0; l < NList; l++)
        {
            lists[l] = new IvfList(size, Blocks, sizes[l]);
            if (affected[l]) continue;
            var list = _lists[l];
            // Whole-list copy only when nothing left it (with spill a list can lose and regain the same number).
            if (kept[l] == list.Count) { lists[l].AppendAll(list); continue; }
            for (int j = 0; j < list.Count; j++)
            {
                if (isMoved[list.Slots[j]]) continue;
                list.CopyCode(j, code);
                lists[l].Append(list.Slots[j], code);
            }
        }
        for (int i = 0; i < m; i++)
        {
            lists[target[i]].Append(moved[i], codes.AsSpan(i * size, size));
            listOf[moved[i]] = target[i];
            if (second is null) continue;
            lists[second[i]].Append(moved[i], (secondCodes ?? codes).AsSpan(i * size, size));
            spillOf[moved[i]] = second[i];
        }
        long sumSq = 0;
        foreach (int s in sizes) sumSq += (long)s * s;
        double after = _entries == 0 ? 1.0 : (double)NList * sumSq / ((double)_entries * _entries);
        return new IvfRebalancePlan(this, _version, centroids, coarse, lists, listOf, spillOf, sumSq, baseline, m, after);
    }

    /// <summary>The reconstruction of <paramref name="slot"/> from the code in its first list.</summary>
    private void DecodePrimary(int slot, Span<float> vector) => DecodeEntry(_listOf[slot], _lists[_listOf[slot]].IndexOf(slot), vector);

    /// <summary>The reconstruction of the entry at <paramref name="position"/> of list <paramref name="list"/> (its centroid added back when residual).</summary>
    private void DecodeEntry(int list, int position, Span<float> vector)
    {
        Span<byte> code = Codec.CodeSize <= 2048 ? stackalloc byte[Codec.CodeSize] : new byte[Codec.CodeSize];
        _lists[list].CopyCode(position, code);
        Codec.Decode(code, vector);
        if (!Residual) return;
        var c = _centroids.AsSpan(list * Dimension, Dimension);
        for (int d = 0; d < Dimension; d++) vector[d] += c[d];
    }

    /// <summary>Encodes <paramref name="vector"/> for list <paramref name="list"/> of <paramref name="centroids"/>.</summary>
    private void EncodeAgainst(float[] centroids, ReadOnlySpan<float> vector, int list, Span<byte> code, Span<float> residual)
    {
        if (!Residual)
        {
            Codec.Encode(vector, code);
            return;
        }
        var c = centroids.AsSpan(list * Dimension, Dimension);
        for (int d = 0; d < Dimension; d++) residual[d] = vector[d] - c[d];
        Codec.Encode(residual, code);
    }

    /// <summary>The lists, centroids and map an <see cref="IvfIndex"/> rebalance will install. Immutable once made.</summary>
    private sealed class IvfRebalancePlan(
        IvfIndex owner, long version, float[] centroids, CentroidSet coarse, IvfList[] lists, int[] listOf, int[] spillOf,
        long sumSquares, double baseline, int moved, double imbalanceAfter) : IndexRebalancePlan
    {
        public IvfIndex Owner { get; } = owner;
        public long Version { get; } = version;
        public float[] Centroids { get; } = centroids;
        public CentroidSet Coarse { get; } = coarse;
        public IvfList[] Lists { get; } = lists;
        public int[] ListOf { get; } = listOf;
        public int[] SpillOf { get; } = spillOf;
        public long SumSquares { get; } = sumSquares;
        public double Baseline { get; set; } = baseline;
        public int Moved { get; } = moved;
        public double ImbalanceAfter { get; } = imbalanceAfter;
        public TimeSpan Elapsed { get; set; }
        public override string Summary => $"{_summary} ({Elapsed.TotalMilliseconds:F0} ms)";
        private string _summary = "";

        public string SummaryText { set => _summary = value; }
    }
}
