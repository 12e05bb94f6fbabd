using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VectorStore.Collections;
using VectorStore.IO;

namespace VectorStore.Cli.Commands;

/// <summary><c>search</c>: runs every query of a file against a stored collection.</summary>
public sealed class SearchCommand : CliCommand
{
    public override Command Build()
    {
        var dbOpt = Opt<string>("--db", "Database directory", required: true);
        var nameOpt = Opt<string>("--collection", "Collection name", required: true);
        var qOpt = Opt<string>("--queries", "Query vectors (.fvecs or .npy)", required: true);
        var kOpt = Opt("--k", "Results per query", 10);
        var efOpt = Opt("--ef", "HNSW beam width (0 = index default)", 0);
        var nprobeOpt = Opt("--nprobe", "IVF lists probed (0 = index default)", 0);
        var rerankOpt = Opt("--rerank", "Re-score the best N candidates with full-precision vectors (0 = none)", 0);
        var outOpt = Opt<string?>("--out", "Write result ids as .ivecs (-1 fills missing slots)");
        var jsonOpt = Opt<bool>("--json", "Print one JSON summary line");
        var cmd = new Command("search", "Search a stored collection with a file of queries")
        {
            dbOpt, nameOpt, qOpt, kOpt, efOpt, nprobeOpt, rerankOpt, outOpt, jsonOpt,
        };
        cmd.SetAction(r => Guard(() =>
        {
            int k = r.GetValue(kOpt);
            RequireRange("--k", k, 1, MaxK);
            int rerank = r.GetValue(rerankOpt);
            RequireRange("--rerank", rerank, 0, MaxK);
            int ef = r.GetValue(efOpt), nprobe = r.GetValue(nprobeOpt);
            RequireRange("--ef", ef, 0, MaxK);
            RequireRange("--nprobe", nprobe, 0, 1 << 20);
            var queries = VectorFiles.ReadVectors(r.GetValue(qOpt)!);
            using var db = DatabaseCli.Open(r.GetValue(dbOpt)!);
            var c = db.GetCollection(r.GetValue(nameOpt)!);
            if (queries.Dimension != c.Options.Dimension)
                throw new InvalidArgumentException($"query dimension {queries.Dimension} differs from the collection's {c.Options.Dimension}");
            var options = new SearchOptions { K = k, Rerank = rerank, Ef = ef, NProbe = nprobe };
            var results = new SearchHit[queries.Count][];
            var micros = new double[queries.Count];
            var total = Stopwatch.StartNew();
            for (int i = 0; i < queries.Count; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                results[i] = c.Search(queries.Row(i), options);
                micros[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }
            double seconds = total.Elapsed.TotalSeconds;
            if (r.GetValue(outOpt) is { } outPath) WriteIvecs(outPath, results, k);
            if (r.GetValue(jsonOpt))
            {
                Array.Sort(micros);
                WriteJsonLine(new Dictionary<string, object>
                {
                    ["queries"] = queries.Count,
                    ["qps"] = Math.Round(queries.Count / Math.Max(seconds, 1e-9), 1),
                    ["p50_us"] = Math.Round(Percentile(micros, 0.50), 1),
                    ["p99_us"] = Math.Round(Percentile(micros, 0.99), 1),
                    ["k"] = k,
                });
            }
            else if (r.GetValue(outOpt) is null)
            {
                for (int i = 0; i < results.Length; i++)
                    Console.Out.WriteLine(string.Join(' ', results[i].Select(h => string.Create(CultureInfo.InvariantCulture, $"{h.Id}:{h.Score:G6}"))));
            }
            return 0;
        }));
        return cmd;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1 < 0 ? 0 : (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static void WriteIvecs(string path, SearchHit[][] results, int k)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var row = new byte[4 + 4 * k];
        BinaryPrimitives.WriteInt32LittleEndian(row, k);
        foreach (var hits in results)
        {
            for (int j = 0; j < k; j++)
            {
                int id = -1;
                if (j < hits.Length)
                {
                    if (hits[j].Id > int.MaxValue) throw new InvalidArgumentException($"id {hits[j].Id} does not fit the int32 .ivecs format");
                    id = (int)hits[j].Id;
                }
                BinaryPrimitives.WriteInt32LittleEndian(row.AsSpan(4 + 4 * j), id);
            }
            fs.Write(row);
        }
    }
}
