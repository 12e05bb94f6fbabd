using VectorStore.Indexing;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>The int8 traversal scorer against the codec's own float scorer (run also with SIMD disabled in CI).</summary>
public class Sq8TraversalKernelTests
{
    [Theory]
    [InlineData(DistanceKind.L2, false, 384)]
    [InlineData(DistanceKind.NegativeDot, false, 384)]
    [InlineData(DistanceKind.L2, true, 100)]
    [InlineData(DistanceKind.NegativeDot, true, 37)]
    public void Int8ScorerTracksTheCodecScorer(DistanceKind kind, bool perVector, int dim)
    {
        var data = VectorStore.Evaluation.SyntheticData.Clustered(600, dim, 5, normalize: kind == DistanceKind.NegativeDot);
        var sq = ScalarQuantizer.Train(data, new ScalarQuantizerOptions { PerVectorScale = perVector });
        var codes = new byte[data.Count * sq.CodeSize];
        for (int i = 0; i < data.Count; i++) sq.Encode(data.Row(i), codes.AsSpan(i * sq.CodeSize, sq.CodeSize));
        var reference = sq.CreateScorer(kind);
        var fast = new Sq8TraversalScorer(sq, kind);
        var decoded = new float[dim];
        for (int q = 500; q < 520; q++)
        {
            reference.SetQuery(data.Row(q));
            fast.SetQuery(data.Row(q));
            AssertClose(reference, fast, codes, sq.CodeSize);
            // Node-to-node: the query is the reconstruction of a stored code.
            var code = codes.AsSpan(q * sq.CodeSize, sq.CodeSize);
            sq.Decode(code, decoded);
            reference.SetQuery(decoded);
            fast.SetQueryFromCode(code);
            AssertClose(reference, fast, codes, sq.CodeSize);
        }
    }

    private static void AssertClose(CodeScorer reference, Sq8TraversalScorer fast, byte[] codes, int size)
    {
        // Query-side int8 rounding bounds the error by a small fraction of the distance spread.
        var exact = new float[500];
        var approx = new float[500];
        for (int i = 0; i < 500; i++)
        {
            exact[i] = reference.Distance(codes.AsSpan(i * size, size));
            approx[i] = fast.Distance(codes.AsSpan(i * size, size));
        }
        float spread = exact.Max() - exact.Min();
        for (int i = 0; i < 500; i++)
            Assert.True(Math.Abs(exact[i] - approx[i]) <= 0.01f * spread + 1e-4f, $"code {i}: {approx[i]} vs {exact[i]} (spread {spread})");
        // Ranking agreement: the nearest code by the reference is within the fast scorer's top 3.
        int best = Array.IndexOf(exact, exact.Min());
        Assert.True(approx.Count(a => a < approx[best]) < 3);
    }
}
