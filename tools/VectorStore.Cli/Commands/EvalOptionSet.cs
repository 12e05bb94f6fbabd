using System.CommandLine;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.IO;

namespace VectorStore.Cli.Commands;

/// <summary>
/// The flags <c>eval</c>, <c>report</c> and <c>demo</c> share, declared once and turned into the one
/// <see cref="EvalSettings"/> record. Three groups, each command adding those it has: how to measure
/// (<c>--metric --threads --build-threads --min-time|--min-seconds --seed --json</c>), what to search
/// (<c>--index --k --rerank</c>) and which data (<c>--base --query --gt --max-base --max-queries</c>). Defaults are the
/// same for every command except <c>--metric</c> and <c>--threads</c>, which each command passes in (eval measures l2 on
/// one thread by default, report cosine on all cores). One instance per command definition.
/// </summary>
public sealed class EvalOptionSet
{
    private bool _search, _data;

    /// <summary>Declares the options; <paramref name="metric"/> and <paramref name="threads"/> are this command's defaults.</summary>
    public EvalOptionSet(string metric, int threads, string threadsDescription)
    {
        Metric = CliCommand.Opt("--metric", "l2 | ip | cosine", metric);
        Threads = CliCommand.Opt("--threads", threadsDescription + " (0 = all cores)", threads);
        MinTime = new Option<double>("--min-time", "--min-seconds")
        {
            Description = "Minimum seconds of each throughput pass",
            DefaultValueFactory = _ => 1.0,
        };
    }

    /// <summary><c>--metric</c>.</summary>
    public Option<string> Metric { get; }

    /// <summary><c>--threads</c>: threads of the timed search (<see cref="EvalSettings.Threads"/>).</summary>
    public Option<int> Threads { get; }

    /// <summary><c>--build-threads</c>: the build's database threads (<see cref="DatabaseOptions.Threads"/>).</summary>
    public Option<int> BuildThreads { get; } = CliCommand.Opt("--build-threads", "Threads of training, encoding, index construction and exact ground truth (0 = all cores)", 0);

    /// <summary><c>--min-time</c>, also spelled <c>--min-seconds</c>.</summary>
    public Option<double> MinTime { get; }

    /// <summary><c>--seed</c>.</summary>
    public Option<int> Seed { get; } = CliCommand.Opt("--seed", "Training seed", 42);

    /// <summary><c>--json</c>.</summary>
    public Option<bool> Json { get; } = CliCommand.Opt("--json", "One JSON object per result on stdout", false);

    /// <summary><c>--index</c>.</summary>
    public Option<string> Index { get; } = CliCommand.Opt("--index", "flat | ivf:NLIST | hnsw:M[,EFC]", "flat");

    /// <summary><c>--k</c>.</summary>
    public Option<int> K { get; } = CliCommand.Opt("--k", "Results per query", 10);

    /// <summary><c>--rerank</c>.</summary>
    public Option<int> Rerank { get; } = CliCommand.Opt("--rerank", "Re-score the best N candidates with full-precision vectors (0 = none)", 0);

    /// <summary><c>--base</c>.</summary>
    public Option<string> Base { get; } = CliCommand.Opt<string>("--base", "Base vectors (.fvecs or .npy)", required: true);

    /// <summary><c>--query</c>.</summary>
    public Option<string> Query { get; } = CliCommand.Opt<string>("--query", "Query vectors (.fvecs or .npy)", required: true);

    /// <summary><c>--gt</c>.</summary>
    public Option<string?> GroundTruth { get; } = CliCommand.Opt<string?>("--gt", "Ground truth (.ivecs, base rows nearest first per query); computed exactly when omitted");

    /// <summary><c>--max-base</c>.</summary>
    public Option<int> MaxBase { get; } = CliCommand.Opt("--max-base", "Use only the first N base vectors, 0 = all (ground truth is then computed)", 0);

    /// <summary><c>--max-queries</c>.</summary>
    public Option<int> MaxQueries { get; } = CliCommand.Opt("--max-queries", "Use only the first N queries, 0 = all", 0);

    /// <summary>Adds the measurement group (every command has it).</summary>
    public EvalOptionSet AddMeasurement(Command command)
    {
        foreach (var o in new Option[] { Metric, Threads, BuildThreads, MinTime, Seed, Json }) command.Options.Add(o);
        return this;
    }

    /// <summary>Adds the search group.</summary>
    public EvalOptionSet AddSearch(Command command)
    {
        foreach (var o in new Option[] { Index, K, Rerank }) command.Options.Add(o);
        _search = true;
        return this;
    }

    /// <summary>Adds the data group.</summary>
    public EvalOptionSet AddData(Command command)
    {
        foreach (var o in new Option[] { Base, Query, GroundTruth, MaxBase, MaxQueries }) command.Options.Add(o);
        _data = true;
        return this;
    }

    /// <summary>
    /// The settings the flags describe, checked (usage errors) before any data is read; <paramref name="maxK"/> is this
    /// command's limit on <c>--k</c>. Fields of groups the command lacks keep <see cref="EvalSettings"/>' defaults.
    /// </summary>
    public EvalSettings Settings(ParseResult r, int maxK = CliCommand.MaxK)
    {
        int threads = r.GetValue(Threads), buildThreads = r.GetValue(BuildThreads);
        CliCommand.RequireRange("--threads", threads, 0, 1024);
        CliCommand.RequireRange("--build-threads", buildThreads, 0, 1024);
        double minTime = r.GetValue(MinTime);
        if (!(minTime is >= 0 and <= 3600)) throw new UsageException($"--min-time must be in 0..3600 seconds, got {minTime}");
        var settings = new EvalSettings
        {
            Metric = MetricExtensions.Parse(r.GetValue(Metric)!),
            Threads = threads,
            MinSeconds = minTime,
            Seed = r.GetValue(Seed),
            Database = new DatabaseOptions { Threads = buildThreads },
        };
        if (!_search) return settings;
        int k = r.GetValue(K), rerank = r.GetValue(Rerank);
        CliCommand.RequireRange("--k", k, 1, maxK);
        CliCommand.RequireRange("--rerank", rerank, 0, CliCommand.MaxK);
        var index = IndexSpec.Parse(r.GetValue(Index)!);
        IndexRegistry.Get(index).Validate(index);
        return settings with { Index = r.GetValue(Index)!, K = k, Rerank = rerank };
    }

    /// <summary>
    /// Reads a query file (its first <paramref name="maxRows"/>), refusing one without vectors or of another dimension
    /// than the base's; <paramref name="what"/> names it in the error.
    /// </summary>
    public static VectorMatrix ReadQueries(string path, string what, int dimension, int maxRows = int.MaxValue)
    {
        var queries = VectorFiles.ReadVectors(path, maxRows: maxRows);
        if (queries.Dimension != dimension)
            throw new InvalidArgumentException($"{what} dimension {queries.Dimension} differs from base dimension {dimension}");
        if (queries.Count == 0) throw new InvalidArgumentException($"{what} file has no vectors");
        return queries;
    }

    /// <summary>
    /// Reads <c>--base</c> and <c>--query</c> (truncated by <c>--max-base</c> / <c>--max-queries</c>) and the
    /// <c>--gt</c> rows of those queries; the ground truth is null when absent or when a truncated base invalidates it.
    /// </summary>
    public (VectorMatrix Base, VectorMatrix Queries, int[][]? Truth) ReadData(ParseResult r)
    {
        if (!_data) throw new InvalidOperationException("the data options were not added to this command");
        int maxBase = r.GetValue(MaxBase), maxQueries = r.GetValue(MaxQueries);
        CliCommand.RequireRange("--max-base", maxBase, 0, int.MaxValue);
        CliCommand.RequireRange("--max-queries", maxQueries, 0, int.MaxValue);
        var baseVectors = VectorFiles.ReadVectors(r.GetValue(Base)!, maxRows: maxBase > 0 ? maxBase : int.MaxValue);
        // Zero queries would average recall over nothing and report 0 with success.
        var queries = ReadQueries(r.GetValue(Query)!, "query", baseVectors.Dimension, maxQueries > 0 ? maxQueries : int.MaxValue);
        if (baseVectors.Count == 0) throw new InvalidArgumentException("base file has no vectors");
        var gt = r.GetValue(GroundTruth);
        var truth = gt is not null && maxBase == 0 ? VectorFiles.ReadIvecs(gt, queries.Count) : null;
        return (baseVectors, queries, truth);
    }
}
