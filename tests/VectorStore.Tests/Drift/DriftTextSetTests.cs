using VectorStore.Drift;
using VectorStore.Lifecycle;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Tests.Drift;

/// <summary>
/// Real drift on the shared text set: an index trained on package synopses (one-line summaries) sees held-out
/// synopses (no drift) and then paragraphs (long descriptions: a real shift of the embedding distribution).
/// </summary>
public sealed class DriftTextSetTests(ITestOutputHelper output)
{
    private const int TrainCount = 8_000;
    private const int StreamCount = 2_000;

    /// <summary>Base vectors and, per row, whether it is a synopsis (else a paragraph), from the texts file.</summary>
    internal static (VectorMatrix Base, int[] Synopses, int[] Paragraphs) Load()
    {
        var ds = TestData.RequireShared(TestData.TextSet);
        var dir = VectorStore.Evaluation.Dataset.FindShared(TestData.TextSet)!;
        var kinds = File.ReadLines(Path.Combine(dir, $"{TestData.TextSet}_base_texts.tsv")).Skip(1)
            .Select(line => line.Split('\t', 4)[2]).ToArray();
        Assert.Equal(ds.Base.Count, kinds.Length);
        return (ds.Base, Enumerable.Range(0, kinds.Length).Where(i => kinds[i] == "synopsis").ToArray(),
            Enumerable.Range(0, kinds.Length).Where(i => kinds[i] == "para").ToArray());
    }

    [SkippableTheory]
    [InlineData("ivf:256", "pq:48")]
    [InlineData("ivf:256", "sq8")]
    public void SynopsisTrainedSensorsIgnoreHeldOutSynopsesAndFireOnParagraphs(string index, string compression)
    {
        var (all, synopses, paragraphs) = Load();
        var training = all.Select(synopses.AsSpan(0, TrainCount));
        var built = DriftMonitorTests.Train(index, compression, training, DistanceKind.NegativeDot);
        var settings = new DriftSettings();

        var quiet = DriftMonitor.Create(built, training, DistanceKind.NegativeDot, settings, seed: 1);
        DriftMonitorTests.Stream(quiet, all.Select(synopses.AsSpan(TrainCount, StreamCount)), batch: 200);
        DriftMonitorTests.Settle(quiet);
        quiet.RunPeriodicTests();
        var held = quiet.Report(1);
        output.WriteLine("held-out synopses: " + Describe(held));
        Assert.Contains(held.Signals, s => s.Name == "mmd");
        Assert.False(held.Drifted, Describe(held));

        var drift = DriftMonitor.Create(built, training, DistanceKind.NegativeDot, settings, seed: 1);
        DriftMonitorTests.Stream(drift, all.Select(paragraphs.AsSpan(0, StreamCount)), batch: 200);
        DriftMonitorTests.Settle(drift);
        drift.RunPeriodicTests();
        var para = drift.Report(1);
        output.WriteLine("paragraphs: " + Describe(para));
        Assert.True(para.Drifted, Describe(para));
        // More than one independent view sees it: the encoding and the two-sample test.
        Assert.True(para.Signals.Single(s => s.Name == "mmd").Fired, Describe(para));
        Assert.True(para.Signals.Single(s => s.Name == "centroid_distance_p50").Fired, Describe(para));
    }

    internal static string Describe(DriftReport r) =>
        string.Join(", ", r.Signals.Select(s => $"{s.Name}={s.Value:G4}/{s.Threshold:G4}{(s.Fired ? "!" : "")}"));
}
