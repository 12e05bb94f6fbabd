using System.Buffers.Binary;
using System.Globalization;
using VectorStore.Collections;
using VectorStore.Filtering;

namespace VectorStore.Cli.Commands;

/// <summary>
/// Output of <c>search</c> and <c>info</c>, shared by the --db and --server paths so both print the same thing
/// (the CLI contract requires it). Stateless.
/// </summary>
internal static class DatabaseOutput
{
    /// <summary>
    /// Writes search results: ids to <paramref name="outPath"/> as ivecs (<c>-1</c> fills missing slots; nothing is left
    /// there if writing fails, see <see cref="OutputFile"/>); with
    /// <paramref name="json"/> one summary line; with neither, one line of <c>id:score</c> per query.
    /// <paramref name="hitsJson"/> prints one <c>{"query":i,"hits":[{"id":…,"score":…},…]}</c> line per query first and
    /// implies the summary line: the CLI contract pins <c>search --json</c> to that single line, so the hits are opt-in.
    /// </summary>
    public static void WriteSearch(SearchHit[][] results, double[] micros, double seconds, int k, string? outPath, bool json, TextWriter stdout,
        bool hitsJson = false)
    {
        if (outPath is not null) WriteIvecs(outPath, results, k);
        if (hitsJson)
            for (int q = 0; q < results.Length; q++)
                stdout.WriteLine(CliCommand.ToJson(new Dictionary<string, object?>
                {
                    ["query"] = q,
                    ["hits"] = results[q].Select(Hit).ToArray(),
                }));
        if (json || hitsJson)
        {
            var sorted = (double[])micros.Clone();
            Array.Sort(sorted);
            stdout.WriteLine(CliCommand.ToJson(new Dictionary<string, object?>
            {
                ["queries"] = results.Length,
                ["qps"] = Math.Round(results.Length / Math.Max(seconds, 1e-9), 1),
                ["p50_us"] = Math.Round(Percentile(sorted, 0.50), 1),
                ["p99_us"] = Math.Round(Percentile(sorted, 0.99), 1),
                ["k"] = k,
            }));
        }
        else if (outPath is null)
        {
            foreach (var hits in results)
                stdout.WriteLine(string.Join(' ', hits.Select(h => string.Create(CultureInfo.InvariantCulture, $"{h.Id}:{h.Score:G6}"))));
        }
        stdout.Flush();
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

    private static void WriteIvecs(string path, SearchHit[][] results, int k)
    {
        using var file = new OutputFile(path);
        var fs = file.Stream;
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
        file.Commit();
    }

    /// <summary>One <c>info</c> row, with the keys of the CLI contract.</summary>
    public static Dictionary<string, object?> InfoRow(string name, CollectionOptions options, CollectionStats s, long? bytesOnDisk) => new()
    {
        ["name"] = name,
        ["count"] = s.Count,
        ["dim"] = s.Dimension,
        ["metric"] = options.Metric.ToSpec(),
        ["compression"] = s.Compression,
        ["index"] = s.Index,
        ["bytes_on_disk"] = bytesOnDisk,
        // Derived from what the collection has allocated (not the page cache of its memory-mapped segments); null
        // when an older server (protocol < 3) did not report it.
        ["resident_bytes"] = options.RawVectors is null && s.ResidentBytes == 0 ? null : s.ResidentBytes,
        ["raw_vectors"] = options.RawVectors switch { RawVectorResidency.Disk => "disk", RawVectorResidency.Ram => "ram", _ => null },
        ["trained"] = s.Trained,
        ["index_bytes"] = s.IndexBytes,
        ["rerank_bytes"] = s.RerankBytes,
        // Declared metadata fields, name -> type (empty when none).
        ["fields"] = (options.Fields ?? []).ToDictionary(f => f.Name, f => (object?)f.Type.Name()),
        ["refine"] = options.Refine,
        // The live compression generation (1 from a server before protocol 5, which has no others) and why its
        // training failed (null when it did not).
        ["generation"] = s.Generation,
        ["training_error"] = s.TrainingError,
    };

    /// <summary>A value in the text form: a flat object as <c>k:v,…</c>, nested objects and lists of them as JSON.</summary>
    private static string? Text(object? value) => value switch
    {
        Dictionary<string, object?> d when d.Values.All(v => v is not (Dictionary<string, object?> or Array)) =>
            string.Join(',', d.Select(kv => $"{kv.Key}:{Text(kv.Value)}")),
        Dictionary<string, object?> d => CliCommand.ToJson(d),
        Dictionary<string, object?>[] rows => System.Text.Json.JsonSerializer.Serialize(rows, CliJsonContext.Cli.DictionaryStringObjectArray),
        string[] items => string.Join(',', items),
        double v => v.ToString("G6", CultureInfo.InvariantCulture),
        _ => value?.ToString(),
    };

    /// <summary>One row in the text form: <c>key=value</c> pairs separated by two spaces.</summary>
    private static string Line(Dictionary<string, object?> row) => string.Join("  ", row.Select(kv => $"{kv.Key}={Text(kv.Value)}"));

    /// <summary>Writes <c>info</c>: one JSON object with <c>collections</c>, or one <c>key=value</c> line per collection.</summary>
    public static void WriteInfo(List<Dictionary<string, object?>> rows, bool json, TextWriter stdout)
    {
        if (json) stdout.WriteLine(CliCommand.ToJson(new Dictionary<string, object?> { ["collections"] = rows }));
        else
            foreach (var row in rows)
                stdout.WriteLine(Line(row));
        stdout.Flush();
    }

    /// <summary>Writes one result row: a JSON line, or its <c>key=value</c> text form.</summary>
    public static void WriteRow(Dictionary<string, object?> row, bool json, TextWriter stdout)
    {
        stdout.WriteLine(json ? CliCommand.ToJson(row) : Line(row));
        stdout.Flush();
    }
}
