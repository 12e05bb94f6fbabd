using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Hnsw;
using VectorStore.Quantization;
using VectorStore.Ranking;
using Xunit;
using static VectorStore.Tests.Indexing.Hnsw.HnswTestKit;
using static VectorStore.Tests.Indexing.IndexSnapshots;

namespace VectorStore.Tests.Indexing.Hnsw;

/// <summary><c>pca:…+sq8</c> walks its graph with the sq8 int8 scorer behind the transform.</summary>
public class HnswTransformedCodecTests
{
    [Fact]
    public void PcaSq8GraphIsTheSq8GraphOfTheProjectedVectors()
    {
        // Built on one thread, the same levels and the same distances give the same graph: every search answer —
        // slots and distances — equals that of plain sq8 HNSW over the PCA-projected data with the same inner codec.
        var (data, queries) = Clustered(3000, 40, 48);
        var codec = (TransformedCodec)CodecRegistry.Train(CompressionSpec.Parse("pca:24+sq8"), data, DistanceKind.L2);
        var slots = Enumerable.Range(0, data.Count).ToArray();
        var transformed = new HnswIndex(codec, DistanceKind.L2, 16, 100);
        transformed.AddBatch(slots, data, threads: 1);
        var projected = new HnswIndex(codec.Inner, DistanceKind.L2, 16, 100);
        projected.AddBatch(slots, codec.Transform.ApplyBatch(data), threads: 1);
        var q = new float[24];
        for (int i = 0; i < queries.Count; i++)
        {
            codec.Transform.Apply(queries.Row(i), q);
            var (slotsP, distP) = Answer(projected, q);
            var (slotsT, distT) = Answer(transformed, queries.Row(i));
            Assert.Equal(20, slotsT.Length);
            Assert.Equal(slotsP, slotsT);
            Assert.Equal(distP, distT);
        }
    }

    [Fact]
    public void PcaSq8RecallHoldsAgainstTheExactFloatWalk()
    {
        var (data, queries) = Clustered(4000, 100, 48);
        var truth = GroundTruth.Compute(data, queries, 10, DistanceKind.L2);
        var codec = CodecRegistry.Train(CompressionSpec.Parse("pca:24+sq8"), data, DistanceKind.L2);
        var slots = Enumerable.Range(0, data.Count).ToArray();
        var int8 = new HnswIndex(codec, DistanceKind.L2, 16, 100);
        int8.AddBatch(slots, data, threads: 2);
        var exact = new HnswIndex(new ExactWalk(codec), DistanceKind.L2, 16, 100);
        exact.AddBatch(slots, data, threads: 2);
        double r8 = Recall(int8, data, queries, truth, ef: 64, rerank: 40);
        double rExact = Recall(exact, data, queries, truth, ef: 64, rerank: 40);
        Assert.True(r8 >= rExact - 0.02, $"int8 walk recall@10 {r8:F3}, exact float walk {rExact:F3}");
        Assert.True(r8 >= 0.85, $"int8 walk recall@10 {r8:F3}");
    }

    /// <summary>
    /// Feature hashing has no faithful inverse, so node-to-node distances must stay in the hashed space the search
    /// measures in: decoding a node through the inverse and hashing it again links the graph by other distances,
    /// and its recall fell far below a scan of the same codes.
    /// </summary>
    [Theory]
    [InlineData("hash:24+sq8")]
    [InlineData("hash:24+pq:12")]
    public void LossyTransformGraphKeepsTheRecallOfAScanOverTheSameCodes(string compression)
    {
        var (data, queries) = Clustered(4000, 100, 48);
        var truth = GroundTruth.Compute(data, queries, 10, DistanceKind.NegativeDot);
        var codec = CodecRegistry.Train(CompressionSpec.Parse(compression), data, DistanceKind.NegativeDot);
        var slots = Enumerable.Range(0, data.Count).ToArray();
        var graph = new HnswIndex(codec, DistanceKind.NegativeDot, 16, 100);
        graph.AddBatch(slots, data, threads: 2);
        var scan = new VectorStore.Indexing.Flat.FlatIndex(codec, DistanceKind.NegativeDot);
        scan.AddBatch(slots, data, threads: 2);
        double rGraph = Recall(graph, data, queries, truth, ef: 64, rerank: 40);
        double rScan = Recall(scan, data, queries, truth, ef: 64, rerank: 40);
        Assert.True(rGraph >= rScan - 0.05, $"{compression}: graph recall@10 {rGraph:F3}, scan {rScan:F3}");
    }

    private static (int[] Slots, float[] Distances) Answer(HnswIndex index, ReadOnlySpan<float> query)
    {
        var heap = new TopK(20);
        index.Search(query, new IndexSearchParameters { Ef = 64 }, null, heap);
        var s = new int[heap.Count];
        var d = new float[heap.Count];
        heap.Drain(s, d);
        return (s, d);
    }

    /// <summary>A codec that walks with its exact scorer: the path <c>pca:…+sq8</c> took before it had a traversal scorer.</summary>
    private sealed class ExactWalk(VectorCodec codec) : VectorCodec
    {
        public override string Spec => codec.Spec;
        public override string Kind => codec.Kind;
        public override int Dimension => codec.Dimension;
        public override int CodeSize => codec.CodeSize;
        public override long ParameterBytes => codec.ParameterBytes;
        public override void Encode(ReadOnlySpan<float> vector, Span<byte> code) => codec.Encode(vector, code);
        public override void Decode(ReadOnlySpan<byte> code, Span<float> vector) => codec.Decode(code, vector);
        public override CodeScorer CreateScorer(DistanceKind kind) => codec.CreateScorer(kind);
        public override void WriteParameters(BinaryWriter writer) => codec.WriteParameters(writer);
    }
}
