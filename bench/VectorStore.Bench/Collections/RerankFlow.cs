using System.Diagnostics;
using System.Globalization;
using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Ranking;
using VectorStore.Storage;

namespace VectorStore.Bench.Collections;

/// <summary>
/// The re-rank step measured inside the real search flow, where <see cref="RerankBenchmarks"/>' tight loop cannot
/// see it: each query runs the collection's real index scan (untimed; it is what evicts caches and TLB between
/// re-ranks), then one of three re-rank variants on its real 100 candidates, rotating per query in one process:
/// the per-slot loop over the old layout (plain arrays, small pages), the same loop over <see cref="RawVectorStore"/>
/// (huge pages on Linux), and <see cref="RawVectorStore.ComputeDistances"/> (huge pages and prefetching). Prints
/// medians and quartiles (the machine is shared; means are ruined by a few preempted calls). Run:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- rerank-flow [INDEX=ivf:256] [NPROBE=48] [REPS=2]</c>
/// </summary>
public static class RerankFlow
{
    private const int Depth = 100;

    public static void Run(string[] a)
    {
        string index = a.Length > 0 ? a[0] : "ivf:256";
        int nprobe = a.Length > 1 ? int.Parse(a[1], CultureInfo.InvariantCulture) : 48;
        int reps = a.Length > 2 ? int.Parse(a[2], CultureInfo.InvariantCulture) : 2;
        var dir = Dataset.FindShared("debdesc-minilm384-public");
        VectorMatrix data, queries;
        if (dir is not null)
        {
            var ds = Dataset.LoadTexmex(dir);
            (data, queries) = (ds.Base, ds.Queries);
        }
        else
        {
            var all = SyntheticData.Clustered(50_500, 384, seed: 1, normalize: true);
            (data, queries) = (all.Slice(0, 50_000), all.Slice(50_000, 500));
        }
        var c = VectorDatabase.CreateInMemory().CreateCollection("flow", new CollectionOptions
        {
            Dimension = data.Dimension, Metric = Metric.Cosine, Compression = "pq:96x4", Index = index, TrainingThreshold = data.Count,
        });
        c.UpsertBatch(Enumerable.Range(0, data.Count).Select(i => (ulong)i).ToArray(), data);
        var raw = c.RawVectors;
        int dim = data.Dimension;
        // The layout before huge pages: slot s at chunk s / 4096, offset (s % 4096) · dim; ids equal slots here.
        var plain = new float[(data.Count + 4095) / 4096][];
        for (int ch = 0; ch < plain.Length; ch++) plain[ch] = new float[4096 * dim];
        for (int s = 0; s < data.Count; s++) raw.Get(s).CopyTo(plain[s >> 12].AsSpan((s & 4095) * dim));

        string[] names = ["per-slot loop, old layout (baseline)", "per-slot loop, RawVectorStore", "RawVectorStore.ComputeDistances"];
        var samples = names.Select(_ => new List<double>()).ToArray();
        var heap = new TopK(Depth);
        var slots = new int[Depth];
        var approx = new float[Depth];
        var exact = new float[Depth];
        var q = new float[dim];
        var p = new IndexSearchParameters { NProbe = nprobe };
        const DistanceKind Kind = DistanceKind.NegativeDot;
        for (int rep = 0; rep <= reps; rep++)
        {
            for (int i = 0; i < queries.Count; i++)
            {
                queries.Row(i).CopyTo(q);
                Distances.Normalize(q);
                heap.Reset(Depth);
                c.Index!.Search(q, p, null, heap);
                int n = heap.Drain(slots, approx);
                var sl = slots.AsSpan(0, n);
                int v = (i + rep) % names.Length;
                long t0 = Stopwatch.GetTimestamp();
                switch (v)
                {
                    case 0:
                        for (int j = 0; j < n; j++) exact[j] = Distances.Compute(Kind, q, plain[sl[j] >> 12].AsSpan((sl[j] & 4095) * dim, dim));
                        break;
                    case 1:
                        for (int j = 0; j < n; j++) exact[j] = Distances.Compute(Kind, q, raw.Get(sl[j]));
                        break;
                    default:
                        raw.ComputeDistances(Kind, q, sl, exact);
                        break;
                }
                long t1 = Stopwatch.GetTimestamp();
                // Rep 0 warms up the JIT and the caches.
                if (rep > 0) samples[v].Add((t1 - t0) * 1e6 / Stopwatch.Frequency);
            }
            // Tiered JIT promotes hot methods in the background after a quiet period: without this pause part of the
            // first measured pass can still run tier-0 kernels (seen as a 2× slower ComputeDistances on flat).
            if (rep == 0) Thread.Sleep(1000);
        }
        Console.WriteLine($"# re-rank of {Depth} candidates from {index} (nprobe {nprobe}), pq:96x4, {data.Count}x{dim}, us per query");
        double baseline = BenchStats.Median(samples[0]);
        for (int v = 0; v < names.Length; v++)
        {
            var x = samples[v];
            x.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{names[v],-38} median {x[x.Count / 2],6:F1}  p25 {x[x.Count / 4],6:F1}  p75 {x[x.Count * 3 / 4],6:F1}  speed-up {baseline / x[x.Count / 2]:F2}x"));
        }
    }
}
