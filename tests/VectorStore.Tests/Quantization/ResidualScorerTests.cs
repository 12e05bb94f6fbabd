using VectorStore.Distance;
using VectorStore.Indexing;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>
/// The per-list residual scorer against the formulas IVF applied itself before the scorer owned them: for L2 the
/// codec's scorer set on q − c, for negative dot the scorer set on q plus the constant −q·c. Bit for bit, so IVF
/// rankings cannot move.
/// </summary>
public class ResidualScorerTests
{
    private const int Dim = 32;

    [Theory]
    [InlineData("sq8", DistanceKind.L2)]
    [InlineData("sq8", DistanceKind.NegativeDot)]
    [InlineData("pq:8", DistanceKind.L2)]
    [InlineData("pq:8x4", DistanceKind.L2)]
    [InlineData("pq:8x4", DistanceKind.NegativeDot)]
    [InlineData("pca:16+sq8", DistanceKind.NegativeDot)]
    [InlineData("none", DistanceKind.L2)]
    public void PerListScoresEqualTheResidualFormulas(string spec, DistanceKind kind)
    {
        var data = VectorStore.Evaluation.SyntheticData.Clustered(900, Dim, seed: 3, normalize: kind == DistanceKind.NegativeDot);
        var codec = CodecRegistry.Train(CompressionSpec.Parse(spec), data, kind);
        var residual = codec.CreateResidualScorer(kind);
        var reference = codec.CreateScorer(kind);
        int n = 70, size = codec.CodeSize;
        var codes = new byte[n * size];
        var got = new float[n];
        var want = new float[n];
        var shifted = new float[Dim];
        for (int q = 800; q < 806; q++)
        {
            var query = data.Row(q);
            residual.SetQuery(query);
            for (int list = 0; list < 3; list++)
            {
                var centroid = data.Row(100 * list);
                for (int i = 0; i < n; i++)
                {
                    var x = data.Row(200 + i);
                    for (int d = 0; d < Dim; d++) shifted[d] = x[d] - centroid[d];
                    codec.Encode(shifted, codes.AsSpan(i * size, size));
                }
                float qc = DotProduct.Compute(query, centroid);
                residual.SetList(centroid, qc);
                float bias = 0;
                if (kind == DistanceKind.L2)
                {
                    for (int d = 0; d < Dim; d++) shifted[d] = query[d] - centroid[d];
                    reference.SetQuery(shifted);
                }
                else
                {
                    reference.SetQuery(query);
                    bias = -qc;
                }
                for (int i = 0; i < n; i++)
                {
                    want[i] = reference.Distance(codes.AsSpan(i * size, size)) + bias;
                    Assert.Equal(want[i], residual.Distance(codes.AsSpan(i * size, size)));
                }
                residual.DistanceBatch(codes, size, got);
                Assert.Equal(want, got);
                if (codec.BlockLayout is { } blocks) AssertBlockScansMatch(blocks, (IBlockScorer)reference, residual, codes, n, size, bias);
            }
        }
    }

    private static void AssertBlockScansMatch(IBlockCodec blocks, IBlockScorer reference, ResidualScorer residual, byte[] codes, int n, int size, float bias)
    {
        int nb = (n + blocks.BlockVectors - 1) / blocks.BlockVectors;
        var packed = new byte[nb * blocks.BlockBytes];
        for (int b = 0; b < nb; b++)
        {
            int c = Math.Min(blocks.BlockVectors, n - b * blocks.BlockVectors);
            blocks.PackBlock(codes.AsSpan(b * blocks.BlockVectors * size, c * size), c, packed.AsSpan(b * blocks.BlockBytes, blocks.BlockBytes));
        }
        var want = new float[n];
        var got = new float[n];
        reference.ScanBlocks(packed, n, want);
        for (int i = 0; i < n; i++) want[i] += bias;
        residual.ScanBlocks(packed, n, got);
        Assert.Equal(want, got);
        // The threshold a caller passes is in the residual scorer's units: the median keeps about half.
        float threshold = want.Order().ElementAt(n / 2);
        var wantPos = new int[n];
        var gotPos = new int[n];
        int wantFound = reference.ScanBlocksBelow(packed, n, threshold - bias, wantPos, want);
        for (int i = 0; i < wantFound; i++) want[i] += bias;
        int gotFound = residual.ScanBlocksBelow(packed, n, threshold, gotPos, got);
        Assert.InRange(gotFound, n / 4, n - 1);
        Assert.Equal(wantFound, gotFound);
        Assert.Equal(wantPos.AsSpan(0, wantFound).ToArray(), gotPos.AsSpan(0, gotFound).ToArray());
        Assert.Equal(want.AsSpan(0, wantFound).ToArray(), got.AsSpan(0, gotFound).ToArray());
    }

    [Fact]
    public void CodeVsCodeIsRefusedBecauseAResidualNeedsItsCentroid()
    {
        var data = VectorStore.Evaluation.SyntheticData.Clustered(300, Dim, seed: 3);
        var codec = CodecRegistry.Train(CompressionSpec.Parse("sq8"), data, DistanceKind.L2);
        var scorer = codec.CreateResidualScorer(DistanceKind.L2);
        Assert.Throws<NotSupportedException>(() => scorer.SetQueryFromCode(new byte[codec.CodeSize]));
    }
}
