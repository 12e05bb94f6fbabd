using System.Globalization;
using System.Net;
using System.Text;

namespace VectorStore.Evaluation;

/// <summary>Formats report rows as a text table and as a self-contained HTML page that embeds plot images by file name. Thread-safe (stateless).</summary>
public static class ReportHtml
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>Column headers and cell values of the comparison table, shared by the text and HTML forms.</summary>
    public static (string[] Headers, List<string[]> Cells) Table(IReadOnlyList<ReportRow> rows)
    {
        string[] headers =
        [
            "variant", "B/vec", "ratio", "R@1", "R@10", "R@100", "nDCG@10", "spearman", "score MAE",
            "p50 us", "p99 us", "QPS 1t", "QPS all", "build s", "train s", "enc us/vec", "peak MB", "notes",
        ];
        var cells = new List<string[]>();
        foreach (var r in rows)
        {
            if (r.Error is not null)
            {
                cells.Add([r.Compression, .. Enumerable.Repeat("-", headers.Length - 2), "error: " + r.Error]);
                continue;
            }
            cells.Add(
            [
                r.Compression,
                F(r.BytesPerVector, 1), F(r.CompressionRatio, 1) + "x",
                F(r.RecallAt1, 3), F(r.RecallAt10, 3), F(r.RecallAt100, 3), F(r.NdcgAt10, 3),
                F(r.Spearman, 3), F(r.ScoreMae, 4),
                F(r.P50Us, 0), F(r.P99Us, 0), F(r.Qps, 0), F(r.QpsAllThreads, 0),
                F(r.BuildSeconds, 2), F(r.TrainSeconds, 2), F(r.EncodeUsPerVector, 2), F(r.PeakRssMb, 0),
                r.Diagnostics ?? "",
            ]);
        }
        return (headers, cells);
    }

    private static string F(double v, int digits) => v.ToString("F" + digits, s_inv);

    /// <summary>The table as aligned plain text (one line per variant).</summary>
    public static string ToText(IReadOnlyList<ReportRow> rows)
    {
        var (headers, cells) = Table(rows);
        var widths = headers.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join("  ", headers.Select((h, i) => i == 0 || i == headers.Length - 1 ? h.PadRight(widths[i]) : h.PadLeft(widths[i]))).TrimEnd());
        foreach (var c in cells)
            sb.AppendLine(string.Join("  ", c.Select((v, i) => i == 0 || i == c.Length - 1 ? v.PadRight(widths[i]) : v.PadLeft(widths[i]))).TrimEnd());
        return sb.ToString();
    }

    /// <summary>
    /// Writes <c>report.html</c> into <paramref name="directory"/>: a title with the run's conditions, the table and an
    /// <c>img</c> per entry of <paramref name="plots"/> (file names relative to the directory, with captions).
    /// </summary>
    public static string Write(string directory, string title, string conditions, IReadOnlyList<ReportRow> rows, IReadOnlyList<(string File, string Caption)> plots)
    {
        Directory.CreateDirectory(directory);
        var (headers, cells) = Table(rows);
        var sb = new StringBuilder();
        sb.AppendLine("<!DOCTYPE html>");
        sb.AppendLine("<html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.AppendLine($"<title>{E(title)}</title>");
        sb.AppendLine("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}" +
                      "th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}" +
                      "td:last-child{text-align:left}figure{display:inline-block;margin:1em}</style></head><body>");
        sb.AppendLine($"<h1>{E(title)}</h1>");
        sb.AppendLine($"<p>{E(conditions)}</p>");
        sb.AppendLine("<table><thead><tr>" + string.Concat(headers.Select(h => $"<th>{E(h)}</th>")) + "</tr></thead><tbody>");
        foreach (var c in cells) sb.AppendLine("<tr>" + string.Concat(c.Select(v => $"<td>{E(v)}</td>")) + "</tr>");
        sb.AppendLine("</tbody></table>");
        sb.AppendLine("<p>Model cost: B/vec, ratio, build/train seconds and encoding µs per vector. Serving cost: latency and QPS. " +
                      "Score calibration compares the codec's estimated scores with exact scores over each query's top-100 candidates " +
                      "(before re-ranking).</p>");
        foreach (var (file, caption) in plots)
            sb.AppendLine($"<figure><img src=\"{E(file)}\" alt=\"{E(caption)}\"><figcaption>{E(caption)}</figcaption></figure>");
        sb.AppendLine("</body></html>");
        string path = Path.Combine(directory, "report.html");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
