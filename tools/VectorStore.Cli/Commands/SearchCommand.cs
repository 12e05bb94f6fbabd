using System.CommandLine;
using System.Diagnostics;
using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.IO;

namespace VectorStore.Cli.Commands;

/// <summary><c>search</c>: runs every query of a file against a stored collection.</summary>
public sealed class SearchCommand : CliCommand
{
    public override Command Build()
    {
        var nameOpt = Opt<string>("--collection", "Collection name", required: true);
        var qOpt = Opt<string>("--queries", "Query vectors (.fvecs or .npy)", required: true);
        var kOpt = Opt("--k", "Results per query", 10);
        var efOpt = Opt("--ef", "HNSW beam width (0 = index default)", 0);
        var nprobeOpt = Opt("--nprobe", "IVF lists probed (0 = index default)", 0);
        var rerankOpt = Opt("--rerank", "Re-score the best N candidates with full-precision vectors (0 = none)", 0);
        var outOpt = Opt<string?>("--out", "Write result ids as .ivecs (-1 fills missing slots)");
        var jsonOpt = Opt<bool>("--json", "Print one JSON summary line");
        var hitsOpt = Opt<bool>("--hits-json", "Print one JSON line per query with its hits ({\"query\":i,\"hits\":[{\"id\":…,\"score\":…}]}), then the --json summary line");
        var whereOpt = Opt<string?>("--where", "Only records whose fields match EXPR, e.g. \"kind == 'lib' and (size < 10 or tags contains 'x')\"; "
            + "with --json the hits (with their fields) are printed as with --hits-json");
        var exposureOpt = Opt<string?>("--exposure-key", "Caller key for A/B exposure (scheme exposure): a stable hash of it picks the generation that serves every query; hits printed as JSON say which");
        var segmentOpt = Opt<string?>("--segment", "Segment tag of the queries, for the shadow canary's per-segment recall (scheme shadow)");
        var cmd = new Command("search", "Search a stored collection with a file of queries")
        {
            nameOpt, qOpt, kOpt, efOpt, nprobeOpt, rerankOpt, outOpt, jsonOpt, hitsOpt, whereOpt, exposureOpt, segmentOpt,
        };
        var target = new DatabaseTarget().AddTo(cmd).WithReadOnly(cmd);
        cmd.SetAction(r => Guard(() =>
        {
            int k = r.GetValue(kOpt);
            RequireRange("--k", k, 1, MaxK);
            int rerank = r.GetValue(rerankOpt);
            RequireRange("--rerank", rerank, 0, MaxK);
            int ef = r.GetValue(efOpt), nprobe = r.GetValue(nprobeOpt);
            RequireRange("--ef", ef, 0, MaxK);
            RequireRange("--nprobe", nprobe, 0, 1 << 20);
            // Parsed before any database is opened: a bad expression is a usage error naming its position.
            var where = r.GetValue(whereOpt) is { } text ? FilterParser.Parse(text) : null;
            string? exposureKey = r.GetValue(exposureOpt), segment = r.GetValue(segmentOpt);
            if (exposureKey is "") throw new UsageException("--exposure-key must not be empty");
            if (segment is "") throw new UsageException("--segment must not be empty");
            var options = new SearchOptions
            {
                K = k, Rerank = rerank, Ef = ef, NProbe = nprobe, Filter = where is null ? null : new SearchFilter { Where = where },
                ExposureKey = exposureKey, Segment = segment,
            };
            return target.Run(r, db =>
                SearchAsync(db, r.GetValue(nameOpt)!, r.GetValue(qOpt)!, options, r.GetValue(outOpt), r.GetValue(jsonOpt), Console.Out,
                    r.GetValue(hitsOpt)));
        }));
        return cmd;
    }

    /// <summary>
    /// Searches one query at a time (so latencies are per query) and prints each query's hits as it is answered, through <see cref="SearchResultWriter"/>:
    /// result ids to <paramref name="outPath"/> as ivecs, with <paramref name="json"/> one summary line, else the hits;
    /// <paramref name="hitsJson"/> adds one JSON line of hits per query before the summary line, and so does
    /// <paramref name="json"/> with a field filter (<see cref="SearchFilter.Where"/>); hits printed as JSON carry their
    /// field values when the collection declares fields.
    /// </summary>
    public static async Task SearchAsync(IVectorDatabaseClient db, string collection, string queriesPath, SearchOptions options,
        string? outPath, bool json, TextWriter stdout, bool hitsJson = false)
    {
        var info = await db.GetInfoAsync(collection).ConfigureAwait(false);
        RequireKnobApplies(info.Options.Index, options.Ef, options.NProbe);
        var queries = VectorFiles.ReadVectors(queriesPath);
        int dim = info.Options.Dimension;
        if (queries.Dimension != dim)
            throw new InvalidArgumentException($"query dimension {queries.Dimension} differs from the collection's {dim}");
        // Searched one by one (each is timed), so checked first, as a batch is: a bad row is named, and none is answered.
        for (int q = 0; q < queries.Count; q++) QueryValidation.Check(queries.Row(q), info.Options.Metric, q);
        bool printHits = hitsJson || (json && options.Filter?.Where is not null);
        if (printHits && info.Options.Fields is { Count: > 0 }) options = options with { IncludeFields = true };
        using var output = new SearchResultWriter(options.K, outPath, json, stdout, printHits);
        var micros = new double[queries.Count];
        for (int q = 0; q < queries.Count; q++)
        {
            long t0 = Stopwatch.GetTimestamp();
            var hits = await db.SearchAsync(collection, queries.RowMemory(q), options).ConfigureAwait(false);
            micros[q] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            output.Add(q, hits);
        }
        output.Finish(micros);
    }
}
