using VectorStore.Evaluation;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>
/// The rq scorer's integer path against the scalar reference kernel (bit-exact) and against a plain float evaluation of
/// its formula, for every B. "Kernel" in the name: CI reruns it with AVX-512, AVX2 and all intrinsics disabled.
/// </summary>
public class RotationScorerKernelTests
{
    [Theory]
    [InlineData(1, 384, DistanceKind.NegativeDot)]
    [InlineData(2, 100, DistanceKind.L2)]
    [InlineData(3, 129, DistanceKind.NegativeDot)]
    [InlineData(4, 384, DistanceKind.L2)]
    [InlineData(5, 33, DistanceKind.L2)]
    [InlineData(6, 200, DistanceKind.NegativeDot)]
    [InlineData(7, 65, DistanceKind.L2)]
    [InlineData(8, 384, DistanceKind.NegativeDot)]
    public void IntegerPathMatchesReferences(int bits, int dim, DistanceKind kind)
    {
        var data = SyntheticData.Clustered(300, dim, seed: bits, normalize: kind == DistanceKind.NegativeDot);
        var rq = RotationQuantizer.Train(data, bits, seed: 3);
        var scorer = (RotationScorer)rq.CreateScorer(kind);
        var code = new byte[rq.CodeSize];
        var y = new float[dim];
        for (int q = 0; q < 4; q++)
        {
            scorer.SetQuery(data.Row(200 + q));
            for (int i = 0; i < 100; i++)
            {
                rq.Encode(data.Row(i), code);
                int fast = scorer.CodeDot(code);
                Assert.Equal(scorer.CodeDot(code, reference: true), fast);
                Assert.Equal(scorer.DistanceScalar(code), scorer.Distance(code));
                // The same sum from the unpacked grid values: Σ (y_i + (2^B − 1)/2)·q̃_i.
                rq.GridValues(code, y);
                long expected = 0;
                var qi = scorer.QuantizedQuery;
                for (int d = 0; d < dim; d++) expected += (long)Math.Round(y[d] + ((1 << bits) - 1) * 0.5) * qi[d];
                Assert.Equal(expected, fast);
            }
        }
    }
}
