using System.Diagnostics;
using System.Globalization;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Storage;

namespace VectorStore.Bench.Storage;

/// <summary>
/// What a checkpoint costs in steady state, with index files reused (<see cref="StorageSettings.IndexRewriteFraction"/>
/// and, for HNSW, <see cref="StorageSettings.IndexChangeImageFraction"/> at their defaults, and the slot file reused
/// under <see cref="StorageSettings.SlotChangeFraction"/>) against new index and slot files at every checkpoint (all
/// three 0: what every checkpoint wrote before), in one
/// run: a durable collection of <c>--count</c> seeded text-like vectors, then <c>--rounds</c> rounds of
/// <c>--changes</c> overwrites of random ids, each followed by a checkpoint; per round the checkpoint's time and the
/// bytes of the files it created or appended to. Then each database is reopened, best of three alternating opens (the reuse pays at
/// open: flat and IVF re-add the changed slots, HNSW applies its change image).
/// <code>
/// dotnet bench/VectorStore.Bench/bin/Release/net10.0/VectorStore.Bench.dll checkpoint-cost [--count 200000] [--dim 384]
///     [--changes 2000] [--rounds 12] [--compression pq:96x4] [--index ivf:256] [--work DIR]
/// </code>
/// </summary>
public static class CheckpointCost
{
    /// <summary>Entry point of <c>checkpoint-cost</c>.</summary>
    public static int Run(string[] args)
    {
        var a = BenchArgs.Parse(args);
        int count = a.Int("count", 200_000), dim = a.Int("dim", 384), changes = a.Int("changes", 2000), rounds = a.Int("rounds", 12);
        string compression = a.Str("compression", "pq:96x4"), index = a.Str("index", "ivf:256");
        string work = a.Str("work", Path.Combine(Path.GetTempPath(), "vectorstore-checkpoint-cost"));
        var data = SyntheticData.TextLike(count + changes * rounds, dim, seed: 7);
        var rng = new Random(11);
        var overwriteIds = Enumerable.Range(0, rounds).Select(_ => Enumerable.Range(0, changes).Select(_ => (ulong)rng.Next(count)).Distinct().ToArray()).ToArray();
        var results = new List<(string Mode, double[] Ms, long[] Bytes, int NewIndexFiles, double ReopenS)>();
        foreach (bool reuseFiles in new[] { true, false })
        {
            string mode = reuseFiles ? "reused" : "rewritten";
            string dir = Path.Combine(work, mode);
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            var settings = reuseFiles ? new StorageSettings() : new StorageSettings { IndexRewriteFraction = 0, IndexChangeImageFraction = 0, SlotChangeFraction = 0 };
            var ms = new double[rounds];
            var bytes = new long[rounds];
            int newIndexFiles = 0;
            using (var db = VectorDatabase.Open(dir, null, settings))
            {
                var c = db.CreateCollection("c", new CollectionOptions
                {
                    Dimension = dim, Metric = Metric.Cosine, Compression = compression, Index = index,
                    TrainingThreshold = Math.Min(count, 50_000),
                });
                for (int start = 0; start < count; start += 10_000)
                {
                    int n = Math.Min(10_000, count - start);
                    c.UpsertBatch(Enumerable.Range(start, n).Select(i => (ulong)i).ToArray(), data.Slice(start, n));
                }
                db.Compact("c");
                string cdir = Path.Combine(dir, "collections", "c");
                for (int r = 0; r < rounds; r++)
                {
                    var ids = overwriteIds[r];
                    var rows = new VectorMatrix(ids.Length, dim);
                    for (int i = 0; i < ids.Length; i++) data.Row(count + r * changes + i).CopyTo(rows.Data.AsSpan(i * dim, dim));
                    c.UpsertBatch(ids, rows);
                    var before = Directory.GetFiles(cdir).ToDictionary(f => f, f => new FileInfo(f).Length);
                    var sw = Stopwatch.StartNew();
                    db.Snapshot();
                    ms[r] = sw.Elapsed.TotalMilliseconds;
                    var created = Directory.GetFiles(cdir).Where(f => !before.ContainsKey(f)).ToArray();
                    // Files a checkpoint appends to (the drift reservoir file) count with what they grew by.
                    var grown = Directory.GetFiles(cdir).Where(f => before.TryGetValue(f, out long was) && new FileInfo(f).Length > was)
                        .Select(f => (Name: f, Bytes: new FileInfo(f).Length - before[f])).ToArray();
                    bytes[r] = created.Sum(f => new FileInfo(f).Length) + grown.Sum(g => g.Bytes);
                    Console.Error.WriteLine($"# {mode}, round {r}: {ms[r]:F1} ms, " + string.Join(", ", created.Select(f => $"{Path.GetFileName(f)} {new FileInfo(f).Length >> 10} KiB")
                        .Concat(grown.Select(g => $"{Path.GetFileName(g.Name)} +{g.Bytes >> 10} KiB"))));
                    newIndexFiles += created.Count(f => Path.GetFileName(f).StartsWith("idx-", StringComparison.Ordinal));
                }
            }
            results.Add((mode, ms, bytes, newIndexFiles, 0));
        }
        // Reopens alternate between the two databases, best of three each: the first open in a process runs the
        // recovery code cold (tier-0 JIT), which would otherwise be charged to whichever database opened first.
        var bestOpen = new double[results.Count];
        Array.Fill(bestOpen, double.MaxValue);
        for (int round = 0; round < 3; round++)
            for (int i = 0; i < results.Count; i++)
            {
                string dir = Path.Combine(work, results[i].Mode);
                var settings = results[i].Mode == "reused" ? new StorageSettings() : new StorageSettings { IndexRewriteFraction = 0, IndexChangeImageFraction = 0, SlotChangeFraction = 0 };
                var open = Stopwatch.StartNew();
                using (var db = VectorDatabase.Open(dir, null, settings)) _ = db.GetCollection("c").Count;
                bestOpen[i] = Math.Min(bestOpen[i], open.Elapsed.TotalSeconds);
            }
        for (int i = 0; i < results.Count; i++)
        {
            results[i] = results[i] with { ReopenS = bestOpen[i] };
            Directory.Delete(Path.Combine(work, results[i].Mode), recursive: true);
        }
        Console.WriteLine($"{count} x {dim}, {compression} + {index}; {rounds} rounds of {changes} overwrites, a checkpoint after each");
        Console.WriteLine($"{"index files",16} {"median ms",10} {"max ms",8} {"MB/checkpoint",14} {"B/changed vector",17} {"new idx files",14} {"reopen s",9}");
        foreach (var (f, ms, bytes, files, reopen) in results)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{f,16} {Median(ms),10:F1} {ms.Max(),8:F1} {bytes.Average() / (1 << 20),14:F2} {bytes.Average() / changes,17:F0} {files,14} {reopen,9:F2}"));
        var (reuse, full) = (results[0], results[1]);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# reuse / rewrite: checkpoint time {Median(reuse.Ms) / Median(full.Ms):F2}x, bytes {reuse.Bytes.Average() / full.Bytes.Average():F2}x, reopen {reuse.ReopenS / full.ReopenS:F2}x"));
        return 0;
    }

    private static double Median(double[] v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
