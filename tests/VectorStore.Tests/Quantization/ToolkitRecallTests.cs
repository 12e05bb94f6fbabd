using VectorStore.Collections;
using VectorStore.Evaluation;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Tests.Quantization;

/// <summary>Recall floors on the shared text set (50,000 MiniLM sentence embeddings, 384-d, cosine).</summary>
public class ToolkitRecallTests(ITestOutputHelper output)
{
    private const int Queries = 200;

    private double Recall10(string compression, int rerank)
    {
        var ds = TestData.RequireShared(TestData.TextSet, maxQueries: Queries);
        var runner = new ReportRunner(ds.Base, ds.Queries, ds.Truth, new EvalSettings { Metric = Metric.Cosine, Rerank = rerank });
        var row = runner.RunVariant(compression);
        output.WriteLine($"{compression} rerank {rerank}: recall@10 {row.RecallAt10:F3}, {row.BytesPerVector:F1} B/vec, code {row.CodeBytes} B, {row.Diagnostics}");
        return row.RecallAt10;
    }

    [SkippableFact]
    public void Pca128Sq8WithRerank100ReachesTarget()
    {
        // Issue #8's target: pca:128+sq8 at recall@10 ≥ 0.97 with --rerank 100 (measured 0.99+ on 500 queries).
        double r = Recall10("pca:128+sq8", 100);
        Assert.True(r >= 0.97, $"recall@10 {r:F3}");
    }

    [SkippableFact]
    public void BinWithRerank200ReachesTarget()
    {
        // Issue #8's target: bin (48 bytes of bits per vector) with --rerank 200 at recall@10 ≥ 0.90.
        double r = Recall10("bin", 200);
        Assert.True(r >= 0.90, $"recall@10 {r:F3}");
    }

    [SkippableFact]
    [Trait("Category", "Long")]
    public void DistillBeatsPcaAtEqualBytes()
    {
        // Long (distillation trains for ~30 s): dotnet test --filter "FullyQualifiedName~DistillBeatsPcaAtEqualBytes"
        double pca = Recall10("pca:96+sq8", 0);
        double distill = Recall10("distill:96+sq8", 0);
        Assert.True(distill > pca, $"distill:96+sq8 {distill:F3} vs pca:96+sq8 {pca:F3}");
    }
}
