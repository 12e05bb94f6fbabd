using System.Globalization;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Filtering;

namespace VectorStore.Bench.Collections;

/// <summary>
/// Filtered search on the shared text set (issue 15): real-field filters from the texts' metadata (kind, a package
/// prefix tag) and uncorrelated random filters (a random int field, and the id-set API) at about 0.1 %, 1 %, 10 % and
/// 50 % selectivity, against exact filtered ground truth, for sq8 + hnsw:16 and pq:96x4 + ivf:256; prints per
/// filter the QPS of the cheapest sweep point reaching recall 0.95 beside the unfiltered search's at the same recall,
/// measured in the same run, and the plans chosen.
/// <c>--dry</c>: 4,000 synthetic vectors, one point, for CI.
/// </summary>
internal static class FilteredSearch
{
    private static readonly string[] Prefixes =
        ["python3-", "golang-", "r-cran-", "node-", "ruby-", "php-", "fonts-", "texlive-", "haskell-", "gir1.2-", "cl-", "elpa-", "xserver-", "firmware-", "lib"];

    public static int Run(string[] args)
    {
        bool dry = args.Contains("--dry");
        double minSeconds = dry ? 0.05 : 0.6;
        double target = 0.95;
        VectorMatrix baseVectors, queries;
        List<IReadOnlyDictionary<string, FieldValue>> rows;
        var dir = Dataset.FindShared("debdesc-minilm384-public");
        if (!dry && dir is null)
        {
            Console.Error.WriteLine("filtered-search needs ../shared/data/debdesc-minilm384-public (or --dry)");
            return 2;
        }
        var rng = new Random(7);
        if (dir is not null && !dry)
        {
            var ds = Dataset.LoadTexmex(dir);
            (baseVectors, queries) = (ds.Base, ds.Queries);
            var table = FieldTable.Read(Path.Combine(dir, "debdesc-minilm384-public_base_texts.tsv"), null, undeclaredAsKeyword: true,
                only: new HashSet<string> { "kind", "package" });
            rows = table.Rows.Select(r =>
            {
                var d = new Dictionary<string, FieldValue>(r);
                string package = r["package"].AsKeyword();
                string? prefix = Prefixes.FirstOrDefault(p => package.StartsWith(p, StringComparison.Ordinal));
                if (prefix is not null) d["prefix"] = FieldValue.Tags(prefix);
                d["rnd"] = (long)rng.Next(100_000);
                return (IReadOnlyDictionary<string, FieldValue>)d;
            }).ToList();
        }
        else
        {
            baseVectors = SyntheticData.TextLike(4000, 384, seed: 3);
            queries = SyntheticData.TextLike(20, 384, seed: 4);
            rows = Enumerable.Range(0, baseVectors.Count).Select(i => (IReadOnlyDictionary<string, FieldValue>)new Dictionary<string, FieldValue>
            {
                ["kind"] = i % 5 < 3 ? "para" : "synopsis",
                ["package"] = $"p{i % 97}",
                ["prefix"] = FieldValue.Tags(Prefixes[i % Prefixes.Length]),
                ["rnd"] = (long)rng.Next(100_000),
            }).ToList();
        }
        var fields = new FieldDefinition[] { new("kind", FieldType.Keyword), new("package", FieldType.Keyword), new("prefix", FieldType.Tags), new("rnd", FieldType.Int) };
        // Each filter's matching rows, evaluated once by the reference evaluator: the ground truth asks per query and row.
        var filters = new List<(string Name, SearchFilter Filter, bool[] Allowed)>();
        void AddWhere(string name, FilterExpression where) =>
            filters.Add((name, new SearchFilter { Where = where }, rows.Select(r => FilterReference.Matches(where, fields, r)).ToArray()));
        AddWhere("prefix xserver-|haskell- (~0.1%)", Filter.Or(Filter.Contains("prefix", "xserver-"), Filter.Contains("prefix", "haskell-")));
        AddWhere("prefix fonts- (~1%)", Filter.Contains("prefix", "fonts-"));
        AddWhere("prefix python3-|golang- (~10%)", Filter.In("prefix", "python3-", "golang-"));
        AddWhere("kind == para (~59%)", Filter.Eq("kind", "para"));
        foreach (var pct in new[] { 0.1, 1, 10, 50 })
            AddWhere($"random field {pct}%", Filter.Lt("rnd", (long)(pct * 1000)));
        foreach (var pct in new[] { 1, 10 })
        {
            var idRng = new Random(11 + pct);
            var allowed = new bool[baseVectors.Count];
            var ids = new HashSet<ulong>();
            for (int i = 0; i < allowed.Length; i++)
                if (idRng.NextDouble() < pct / 100.0) { allowed[i] = true; ids.Add((ulong)i); }
            filters.Add(($"random id set {pct}%", new SearchFilter { Ids = ids }, allowed));
        }
        var configs = new (string Compression, string Index, int Rerank, string Knob, int[] Sweep)[]
        {
            ("sq8", "hnsw:16", 40, "ef", dry ? [32] : [16, 24, 32, 48, 64, 96, 128, 192, 256]),
            ("pq:96x4", dry ? "ivf:16" : "ivf:256", 100, "nprobe", dry ? [4] : [8, 12, 16, 24, 32, 48, 64, 96, 128]),
        };
        const int k = 10;
        var truthAll = EvalRunner.ExactTruth(baseVectors, queries, Metric.Cosine, k);
        var truths = filters.Select(f => EvalRunner.FilteredTruth(baseVectors, queries, Metric.Cosine, i => f.Allowed[i], k)).ToArray();
        Console.WriteLine($"filtered-search: {baseVectors.Count} × {baseVectors.Dimension}, {queries.Count} queries, k {k}, 1 thread, cheapest point reaching recall {target}");
        foreach (var (compression, index, rerank, knob, sweep) in configs)
        {
            var settings = new EvalSettings
            {
                Metric = Metric.Cosine, Compression = compression, Index = index, K = k, Rerank = rerank, Threads = 1, MinSeconds = minSeconds,
                Fields = fields, FieldValues = rows,
            };
            var runner = EvalRunner.Build(baseVectors, settings);
            Console.WriteLine($"\n{compression} + {index}, rerank {rerank} (built in {runner.BuildSeconds:F1} s)");
            // Interleaved: at each sweep point every filter is measured right after the unfiltered search, so load
            // changes on a shared machine hit both sides of a ratio alike.
            var points = new EvalPoint[filters.Count + 1][];
            for (int f = 0; f <= filters.Count; f++) points[f] = new EvalPoint[sweep.Length];
            for (int v = 0; v < sweep.Length; v++)
            {
                var sp = new SweepPoint(knob, sweep[v]);
                points[0][v] = runner.Measure(queries, truthAll, sp);
                for (int f = 0; f < filters.Count; f++) points[f + 1][v] = runner.Measure(queries, truths[f], sp, filters[f].Filter);
            }
            Console.WriteLine($"{"filter",-34} {"match",7} {"recall",7} {"qps",9} {knob,7} {"unfilt",9} {"×unfilt",8}  plans (recall pass)");
            var (unV, unRecall) = FirstReaching(points[0], target);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"(none)",-34} {"100%",7} {unRecall,7:F4} {points[0][unV].Qps,9:F0} {sweep[unV],7}"));
            for (int f = 0; f < filters.Count; f++)
            {
                int matching = filters[f].Allowed.Count(a => a);
                var (v, recall) = FirstReaching(points[f + 1], target);
                var m = points[f + 1][v];
                // Equal recall: the unfiltered search at the smallest point reaching at least this filter's recall (or the target).
                double need = Math.Min(recall, target);
                var (uv, _) = FirstReaching(points[0], need);
                string plans = string.Join(",", m.FilterPlans.OrderBy(p => p.Key).Select(p => $"{p.Key}:{p.Value}"));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{filters[f].Name,-34} {100.0 * matching / baseVectors.Count,6:F2}% {recall,7:F4} {m.Qps,9:F0} {sweep[v],7} {points[0][uv].Qps,9:F0} {m.Qps / points[0][uv].Qps,8:F2}  {plans}"));
            }
        }
        return 0;
    }

    /// <summary>The first (cheapest) sweep point whose recall reaches <paramref name="target"/>, else the one with the highest recall.</summary>
    private static (int Index, double Recall) FirstReaching(EvalPoint[] points, double target)
    {
        int best = 0;
        for (int i = 0; i < points.Length; i++)
        {
            if (points[i].Recall >= target) return (i, points[i].Recall);
            if (points[i].Recall > points[best].Recall) best = i;
        }
        return (best, points[best].Recall);
    }
}
