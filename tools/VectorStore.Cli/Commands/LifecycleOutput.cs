using VectorStore.Client;
using VectorStore.Lifecycle;
using VectorStore.Protocol;

namespace VectorStore.Cli.Commands;

/// <summary>
/// What <c>scheme</c> and <c>drift</c> share: the lifecycle view of a <see cref="DatabaseTarget"/>'s client, and their
/// output rows with the keys of the CLI contract (docs/cli-contract.md). Stateless.
/// </summary>
internal static class LifecycleOutput
{
    /// <summary>
    /// Runs <paramref name="body"/> against the target's lifecycle API. A target without one (a database build without
    /// generations; a server whose database is a cluster, which answers NotSupported) is a usage error, exit 1: the
    /// command cannot work there, whatever the data.
    /// </summary>
    public static async Task RunAsync(IVectorDatabaseClient db, Func<ICompressionLifecycleClient, Task> body)
    {
        var lifecycle = db as ICompressionLifecycleClient
            ?? throw new UsageException("this database does not support compression generations (scheme and drift need a database with generations)");
        try
        {
            await body(lifecycle).ConfigureAwait(false);
        }
        catch (RemoteErrorException e) when (e.Code == ErrorCode.NotSupported)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>A finite figure as is; NaN or ±Infinity (no value) as null, since JSON has no literal for them.</summary>
    public static object? Figure(double v) => double.IsFinite(v) ? v : null;

    /// <summary>A mean (recall, overlap) or a latency, to 4 decimals: a canary's figures are estimates, not bit patterns.</summary>
    private static object? Rounded(double v) => double.IsFinite(v) ? Math.Round(v, 4) : null;

    /// <summary>The state as printed: <c>live</c>, <c>candidate</c>, <c>retired</c>.</summary>
    public static string State(GenerationState s) => s switch
    {
        GenerationState.Live => "live",
        GenerationState.Retired => "retired",
        _ => "candidate",
    };

    /// <summary>One generation (<c>scheme list</c>, <c>scheme build</c>).</summary>
    public static Dictionary<string, object?> GenerationRow(string collection, GenerationInfo g) => new()
    {
        ["collection"] = collection,
        ["generation"] = g.Generation,
        ["state"] = State(g.State),
        ["compression"] = g.Compression,
        ["index"] = g.Index,
        ["ready"] = g.Ready,
        ["progress"] = Figure(g.Progress),
        ["error"] = g.Error,
        ["code_size"] = g.CodeSize,
        ["index_bytes"] = g.IndexBytes,
        ["exposure_percent"] = Figure(g.ExposurePercent),
        ["canary"] = g.Canary is null ? null : CanaryRow(null, g.Canary),
    };

    /// <summary>A canary report (<c>scheme canary</c>, and nested in a generation row); with <paramref name="collection"/> first when given.</summary>
    public static Dictionary<string, object?> CanaryRow(string? collection, CanaryReport c)
    {
        var row = new Dictionary<string, object?>();
        if (collection is not null) row["collection"] = collection;
        row["generation"] = c.Generation;
        row["live_generation"] = c.LiveGeneration;
        row["queries"] = c.Queries;
        row["exact_queries"] = c.ExactQueries;
        row["k"] = c.K;
        row["recall_live"] = Rounded(c.RecallLive);
        row["recall_candidate"] = Rounded(c.RecallCandidate);
        row["overlap"] = Rounded(c.Overlap);
        row["live_p50_ms"] = Rounded(c.LiveP50Ms);
        row["live_p99_ms"] = Rounded(c.LiveP99Ms);
        row["candidate_p50_ms"] = Rounded(c.CandidateP50Ms);
        row["candidate_p99_ms"] = Rounded(c.CandidateP99Ms);
        row["live_index_bytes"] = c.LiveIndexBytes;
        row["candidate_index_bytes"] = c.CandidateIndexBytes;
        row["worst_segment"] = c.WorstSegment is { } w ? SegmentRow(w) : null;
        row["segments"] = c.Segments.Select(SegmentRow).ToArray();
        return row;
    }

    private static Dictionary<string, object?> SegmentRow(SegmentRecall s) => new()
    {
        ["segment"] = s.Segment,
        ["queries"] = s.Queries,
        ["recall_live"] = Rounded(s.RecallLive),
        ["recall_candidate"] = Rounded(s.RecallCandidate),
    };

    /// <summary>
    /// A drift report (<c>drift</c>). <c>sensors</c> false (with the <c>reason</c>) tells a generation that cannot
    /// drift from one whose sensors read healthy, since <c>drifted</c> is false for both; null from a server below
    /// protocol version 7, which does not say.
    /// </summary>
    public static Dictionary<string, object?> DriftRow(string collection, DriftReport d) => new()
    {
        ["collection"] = collection,
        ["generation"] = d.Generation,
        ["drifted"] = d.Drifted,
        ["sensors"] = d.Sensors,
        ["reason"] = d.NoSensorsReason,
        ["observed"] = d.Observed,
        ["signals"] = d.Signals.Select(s => new Dictionary<string, object?>
        {
            ["name"] = s.Name,
            ["value"] = Figure(s.Value),
            ["threshold"] = Figure(s.Threshold),
            ["baseline"] = Figure(s.Baseline),
            ["fired"] = s.Fired,
        }).ToArray(),
        ["actions"] = d.Actions.ToArray(),
    };
}
