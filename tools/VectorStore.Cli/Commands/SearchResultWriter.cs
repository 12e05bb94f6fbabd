using System.Buffers.Binary;
using System.Globalization;
using VectorStore.Collections;
using VectorStore.Filtering;

namespace VectorStore.Cli.Commands;

/// <summary>
/// Prints <c>search</c>'s results as each query is answered, so the command holds one query's hits at a time: with
/// <c>--k 100000</c> over many queries, keeping every hit until the end (only to print one summary line with
/// <c>--json</c>) took over a gigabyte. The --db and --server paths print through it alike (the CLI contract requires
/// it). What it prints:
/// <list type="bullet">
/// <item>ids to <c>--out</c> as ivecs (<c>-1</c> fills missing slots); the file appears only once every query is
/// written (<see cref="OutputFile"/>), so a failed run leaves nothing there;</item>
/// <item>with <c>hitsJson</c>, one <c>{"query":i,"hits":[{"id":…,"score":…},…]}</c> line per query, then the summary
/// line (the CLI contract pins <c>search --json</c> to that single line, so the hits are opt-in);</item>
/// <item>with <c>json</c>, the summary line only; with neither (and no <c>--out</c>), one line of <c>id:score</c> per query.</item>
/// </list>
/// Not thread-safe: one command's loop writes through it.
/// </summary>
internal sealed class SearchResultWriter : IDisposable
{
    private readonly int _k;
    private readonly bool _json;
    private readonly bool _hitsJson;
    private readonly TextWriter _stdout;
    private readonly OutputFile? _ivecs;
    private readonly byte[] _row;

    public SearchResultWriter(int k, string? outPath, bool json, TextWriter stdout, bool hitsJson)
    {
        _k = k;
        _json = json || hitsJson;
        _hitsJson = hitsJson;
        _stdout = stdout;
        _row = outPath is null ? [] : new byte[4 + 4 * k];
        _ivecs = outPath is null ? null : new OutputFile(outPath);
    }

    /// <summary>Writes query <paramref name="query"/>'s hits.</summary>
    public void Add(int query, SearchHit[] hits)
    {
        if (_ivecs is not null) WriteIvecsRow(hits);
        if (_hitsJson)
            _stdout.WriteLine(CliCommand.ToJson(new Dictionary<string, object?>
            {
                ["query"] = query,
                ["hits"] = hits.Select(Hit).ToArray(),
            }));
        else if (!_json && _ivecs is null)
            _stdout.WriteLine(string.Join(' ', hits.Select(h => string.Create(CultureInfo.InvariantCulture, $"{h.Id}:{h.Score:G6}"))));
    }

    /// <summary>
    /// Publishes the ivecs file and prints the summary line (with json) for the per-query latencies
    /// <paramref name="micros"/>; the throughput is over their sum, so printing the hits is outside it.
    /// </summary>
    public void Finish(double[] micros)
    {
        double seconds = micros.Sum() / 1e6;
        _ivecs?.Commit();
        if (_json)
        {
            var sorted = (double[])micros.Clone();
            Array.Sort(sorted);
            _stdout.WriteLine(CliCommand.ToJson(new Dictionary<string, object?>
            {
                ["queries"] = micros.Length,
                ["qps"] = Math.Round(micros.Length / Math.Max(seconds, 1e-9), 1),
                ["p50_us"] = Math.Round(Percentile(sorted, 0.50), 1),
                ["p99_us"] = Math.Round(Percentile(sorted, 0.99), 1),
                ["k"] = _k,
            }));
        }
        _stdout.Flush();
    }

    /// <summary>Deletes an uncommitted ivecs file.</summary>
    public void Dispose() => _ivecs?.Dispose();

    private void WriteIvecsRow(SearchHit[] hits)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_row, _k);
        for (int j = 0; j < _k; j++)
        {
            int id = -1;
            if (j < hits.Length)
            {
                if (hits[j].Id > int.MaxValue) throw new InvalidArgumentException($"id {hits[j].Id} does not fit the int32 .ivecs format");
                id = (int)hits[j].Id;
            }
            BinaryPrimitives.WriteInt32LittleEndian(_row.AsSpan(4 + 4 * j), id);
        }
        _ivecs!.Stream.Write(_row);
    }

    /// <summary>One hit as JSON: id, score, serving generation and, when the search returned them, its fields (<see cref="FieldJson.ToJson"/>).</summary>
    private static Dictionary<string, object?> Hit(SearchHit h)
    {
        // generation: the compression generation that served the query, as `info` numbers it (0 = not reported: a server
        // before protocol 5, a cluster, or an exact answer from a server of an earlier release).
        var hit = new Dictionary<string, object?> { ["id"] = h.Id, ["score"] = h.Score, ["generation"] = h.Generation };
        if (h.Fields is not null) hit["fields"] = FieldJson.ToJson(h.Fields);
        return hit;
    }

    /// <summary>Nearest-rank percentile of an ascending array (0 when empty).</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
