using VectorStore.Indexing;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>The scorers codecs hand out for graph walks and code-vs-code distances.</summary>
public class TraversalScorerTests
{
    private const int Dim = 48;

    [Theory]
    [InlineData(DistanceKind.L2)]
    [InlineData(DistanceKind.NegativeDot)]
    public void TransformedSq8WalksWithTheInt8ScorerOnProjectedVectors(DistanceKind kind)
    {
        var data = VectorStore.Evaluation.SyntheticData.Clustered(700, Dim, seed: 2, normalize: kind == DistanceKind.NegativeDot);
        var codec = (TransformedCodec)CodecRegistry.Train(CompressionSpec.Parse("pca:24+sq8"), data, kind);
        var walk = codec.CreateTraversalScorer(kind);
        var inner = codec.Inner.CreateTraversalScorer(kind);
        Assert.IsType<Sq8TraversalScorer>(inner);
        var exact = codec.CreateScorer(kind);
        int size = codec.CodeSize, n = 600;
        var codes = new byte[n * size];
        for (int i = 0; i < n; i++) codec.Encode(data.Row(i), codes.AsSpan(i * size, size));
        var projected = new float[codec.Inner.Dimension];
        int differs = 0;
        for (int q = 600; q < 620; q++)
        {
            walk.SetQuery(data.Row(q));
            codec.Transform.Apply(data.Row(q), projected);
            inner.SetQuery(projected);
            exact.SetQuery(data.Row(q));
            for (int i = 0; i < n; i++)
            {
                var code = codes.AsSpan(i * size, size);
                Assert.Equal(inner.Distance(code), walk.Distance(code));
                if (walk.Distance(code) != exact.Distance(code)) differs++;
            }
            // Code vs code stays in the inner space: the int8 scorer's own no-materialise form.
            var node = codes.AsSpan((q - 600) * size, size);
            walk.SetQueryFromCode(node);
            inner.SetQueryFromCode(node);
            for (int i = 0; i < n; i++) Assert.Equal(inner.Distance(codes.AsSpan(i * size, size)), walk.Distance(codes.AsSpan(i * size, size)));
        }
        // The int8-rounded query gives estimates other than the exact float scorer's: the walk really takes that path.
        Assert.True(differs > n, $"only {differs} estimates differ from the exact scorer");
    }

    [Theory]
    [InlineData("none")]
    [InlineData("sq8")]
    [InlineData("pq:12")]
    [InlineData("pq:12x4")]
    [InlineData("bin")]
    public void DefaultCodeQueryIsTheDecodedVector(string spec)
    {
        var data = VectorStore.Evaluation.SyntheticData.Clustered(500, Dim, seed: 4);
        var codec = CodecRegistry.Train(CompressionSpec.Parse(spec), data, DistanceKind.L2);
        var fromCode = codec.CreateScorer(DistanceKind.L2);
        var fromVector = codec.CreateScorer(DistanceKind.L2);
        int size = codec.CodeSize;
        var codes = new byte[100 * size];
        for (int i = 0; i < 100; i++) codec.Encode(data.Row(i), codes.AsSpan(i * size, size));
        var decoded = new float[Dim];
        for (int q = 0; q < 5; q++)
        {
            var node = codes.AsSpan(q * size, size);
            fromCode.SetQueryFromCode(node);
            codec.Decode(node, decoded);
            fromVector.SetQuery(decoded);
            for (int i = 0; i < 100; i++)
                Assert.Equal(fromVector.Distance(codes.AsSpan(i * size, size)), fromCode.Distance(codes.AsSpan(i * size, size)));
        }
    }

    [Theory]
    [InlineData("none", true)]
    [InlineData("sq8", false)]
    [InlineData("pca:24+none", false)]
    public void OnlyUncompressedCodesHaveExactEstimates(string spec, bool exact)
    {
        var data = VectorStore.Evaluation.SyntheticData.Clustered(300, Dim, seed: 4);
        Assert.Equal(exact, CodecRegistry.Train(CompressionSpec.Parse(spec), data, DistanceKind.L2).EstimatesAreExact);
    }

    [Theory]
    [InlineData("pq:12x4", true)]
    [InlineData("pca:24+pq:12x4", true)]
    [InlineData("pq:12", false)]
    [InlineData("sq8", false)]
    public void BlockLayoutIsFoundThroughTransforms(string spec, bool packed)
    {
        var data = VectorStore.Evaluation.SyntheticData.Clustered(600, Dim, seed: 4);
        var codec = CodecRegistry.Train(CompressionSpec.Parse(spec), data, DistanceKind.L2);
        Assert.Equal(packed, codec.BlockLayout is not null);
        if (packed) Assert.IsAssignableFrom<IBlockScorer>(codec.CreateScorer(DistanceKind.L2));
    }
}
