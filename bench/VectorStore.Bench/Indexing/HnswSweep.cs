using System.Diagnostics;
using System.Globalization;
using VectorStore.Collections;
using VectorStore.Evaluation;

namespace VectorStore.Bench.Indexing;

/// <summary>
/// Quick, non-BenchmarkDotNet sweep of the HNSW index through the collection API (codes walk + exact re-rank), for
/// numbers in notes until <c>eval</c> covers it:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- hnsw-sweep DATASET_DIR [M] [EFC] [EF,EF,..] [RERANK] [COMPRESSION]</c>.
/// </summary>
public static class HnswSweep
{
    public static void Run(string[] a)
    {
        string dir = a[0];
        int m = a.Length > 1 ? int.Parse(a[1], CultureInfo.InvariantCulture) : 16;
        int efc = a.Length > 2 ? int.Parse(a[2], CultureInfo.InvariantCulture) : 128;
        var efs = (a.Length > 3 ? a[3] : "16,24,32,48,64,96,128").Split(',').Select(int.Parse).ToArray();
        int rerank = a.Length > 4 ? int.Parse(a[4], CultureInfo.InvariantCulture) : 40;
        string compression = a.Length > 5 ? a[5] : "sq8";
        double minTime = 1.0;
        var ds = Dataset.LoadTexmex(dir);
        var col = new Collection("bench", new CollectionOptions
        {
            Dimension = ds.Base.Dimension,
            Metric = ds.Name.Contains("sift") ? Metric.L2 : Metric.Cosine,
            Compression = compression,
            Index = $"hnsw:{m},{efc}",
            TrainingThreshold = int.MaxValue,
        });
        var ids = Enumerable.Range(0, ds.Base.Count).Select(i => (ulong)i).ToArray();
        col.UpsertBatch(ids, ds.Base);
        var sw = Stopwatch.StartNew();
        col.BuildIndex();
        double build = sw.Elapsed.TotalSeconds;
        var stats = col.GetStats();
        Console.WriteLine($"# {ds.Name} n={ds.Base.Count} nq={ds.Queries.Count} {compression} hnsw:{m},{efc} rerank={rerank} build={build:F2}s index_bytes/vec={stats.IndexBytes / (double)stats.Count:F1}");
        Console.WriteLine("ef,recall@10,qps1");
        int nq = ds.Queries.Count;
        foreach (int ef in efs)
        {
            var opts = new SearchOptions { K = 10, Rerank = rerank, Ef = ef };
            double hits = 0;
            for (int q = 0; q < nq; q++)
            {
                var res = col.Search(ds.Queries.Row(q), opts);
                var truth = new HashSet<int>(ds.Truth[q].Take(10));
                foreach (var h in res) if (truth.Contains((int)h.Id)) hits++;
            }
            long done = 0;
            sw.Restart();
            while (sw.Elapsed.TotalSeconds < minTime)
            {
                for (int q = 0; q < nq; q++) col.Search(ds.Queries.Row(q), opts);
                done += nq;
            }
            Console.WriteLine(FormattableString.Invariant($"{ef},{hits / (nq * 10.0):F4},{done / sw.Elapsed.TotalSeconds:F0}"));
        }
    }
}
