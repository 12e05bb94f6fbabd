
namespace VectorStore.Evaluation;

/// <summary>
/// Renders the report's two plots to PNG with ScottPlot (SkiaSharp underneath): recall@10 against bytes per vector, and
/// recall@10 against single-thread QPS, one labelled point per variant. Thread-safe (each call builds its own plots).
/// </summary>
public static class ReportPlots
{
    /// <summary>File name of the recall-vs-bytes plot.</summary>
    public const string RecallVsBytes = "recall_vs_bytes.png";

    /// <summary>File name of the recall-vs-QPS plot.</summary>
    public const string RecallVsQps = "recall_vs_qps.png";

    /// <summary>Writes both PNGs into <paramref name="directory"/>; returns (file name, caption) pairs for the HTML page.</summary>
    public static IReadOnlyList<(string File, string Caption)> Render(string directory, IReadOnlyList<ReportRow> rows, int width = 900, int height = 560)
    {
        Directory.CreateDirectory(directory);
        var ok = rows.Where(r => r.Error is null).ToList();
        Scatter(Path.Combine(directory, RecallVsBytes), ok, r => r.BytesPerVector, "bytes per vector (log scale)", logX: true, width, height);
        Scatter(Path.Combine(directory, RecallVsQps), ok, r => r.Qps, "queries per second, 1 thread (log scale)", logX: true, width, height);
        return
        [
            (RecallVsBytes, "recall@10 vs bytes per vector"),
            (RecallVsQps, "recall@10 vs queries per second (1 thread)"),
        ];
    }

    /// <summary>
    /// Checks that plots can be drawn, before a report spends minutes measuring. ScottPlot draws through SkiaSharp,
    /// whose native library (<c>libSkiaSharp.so</c> on Linux) is a separate file: the dotnet tool carries it, and a
    /// NativeAOT publish puts it beside the program, from where it must not be separated. A missing library becomes
    /// one <see cref="VectorStoreException"/> saying so, not a TypeInitializationException after the measurements.
    /// </summary>
    public static void EnsureRenderer()
    {
        try
        {
            new ScottPlot.Plot().RenderInMemory(8, 8);
        }
        catch (Exception e) when (CausedBy<DllNotFoundException>(e))
        {
            // The loader's message lists every path it tried, one per line; the CLI prints one error line.
            throw new VectorStoreException(
                "report draws its plots with SkiaSharp, whose native library libSkiaSharp.so could not be loaded: keep it " +
                $"next to the program ({AppContext.BaseDirectory}), where the publish folder puts it", e);
        }
    }

    private static bool CausedBy<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
            if (e is T) return true;
        return false;
    }

    private static void Scatter(string path, IReadOnlyList<ReportRow> rows, Func<ReportRow, double> x, string xLabel, bool logX, int width, int height)
    {
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            double xv = x(r);
            // Log axes are drawn by plotting log10 values and labelling ticks with the powers they stand for.
            double px = logX ? Math.Log10(Math.Max(xv, 1e-9)) : xv;
            var color = palette.GetColor(i);
            var marker = plot.Add.Marker(px, r.RecallAt10);
            marker.Color = color;
            marker.Size = 10;
            var label = plot.Add.Text(r.Compression, px, r.RecallAt10);
            label.LabelFontColor = color;
            label.LabelFontSize = 13;
            label.OffsetX = 6;
            label.OffsetY = -4;
        }
        if (logX)
        {
            var minor = new ScottPlot.TickGenerators.LogMinorTickGenerator();
            var ticks = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = minor,
                IntegerTicksOnly = true,
                LabelFormatter = v => Math.Pow(10, v).ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
            };
            plot.Axes.Bottom.TickGenerator = ticks;
        }
        plot.XLabel(xLabel);
        plot.YLabel("recall@10");
        plot.Title(Path.GetFileNameWithoutExtension(path).Replace('_', ' '));
        if (rows.Count > 0)
        {
            var xs = rows.Select(r => logX ? Math.Log10(Math.Max(x(r), 1e-9)) : x(r)).ToArray();
            double lo = xs.Min(), hi = xs.Max(), pad = Math.Max(0.15, (hi - lo) * 0.15);
            plot.Axes.SetLimitsX(lo - pad, hi + pad * 2);
            double ylo = rows.Min(r => r.RecallAt10);
            plot.Axes.SetLimitsY(Math.Max(0, ylo - 0.05), 1.02);
        }
        plot.SavePng(path, width, height);
    }
}
