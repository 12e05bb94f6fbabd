using System.Globalization;
using VectorStore.Collections;
using VectorStore.Filtering;

namespace VectorStore.Cli.Commands;

/// <summary>
/// Output of <c>info</c> (and <see cref="SearchResultWriter"/> for <c>search</c>), shared by the --db and --server paths so both print the same thing
/// (the CLI contract requires it). Stateless.
/// </summary>
internal static class DatabaseOutput
{
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
