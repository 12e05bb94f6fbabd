using VectorStore.Clustering;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Flat;
using VectorStore.Quantization;
using VectorStore.Ranking;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>Every toolkit spec trains, composes, survives a write/read round trip byte for byte, and rejects bad arguments.</summary>
public class ToolkitCodecTests
{
    // Base rows and held-out queries from one generation, so queries share the base's clusters.
    private static readonly VectorMatrix s_all = SyntheticData.Clustered(3_050, 48, seed: 5, normalize: true);
    private static readonly VectorMatrix s_data = s_all.Slice(0, 3_000);
    private static readonly VectorMatrix s_queries = s_all.Slice(3_000, 50);

    public static TheoryData<string, DistanceKind> Specs => new()
    {
        { "pca:16+sq8", DistanceKind.NegativeDot },
        { "pca:16,w+none", DistanceKind.L2 },
        { "prune:16+sq8", DistanceKind.NegativeDot },
        { "prune:16,var+sq8", DistanceKind.L2 },
        { "distill:16+sq8", DistanceKind.NegativeDot },
        { "distill:12+none", DistanceKind.L2 },
        { "hash:32+sq8", DistanceKind.NegativeDot },
        { "hash:32,4+none", DistanceKind.L2 },
        { "hash:40", DistanceKind.NegativeDot },
        { "bin", DistanceKind.NegativeDot },
        { "bin:norot", DistanceKind.L2 },
        { "pca:24+bin", DistanceKind.L2 },
        { "rq:1", DistanceKind.NegativeDot },
        { "rq:3", DistanceKind.L2 },
        { "rq:8", DistanceKind.NegativeDot },
        { "pca:16+rq:4", DistanceKind.L2 },
    };

    private static VectorCodec Train(string spec, DistanceKind kind) =>
        CodecRegistry.Train(CompressionSpec.Parse(spec), s_data, kind, new TrainingContext { Seed = 3 });

    private static byte[] Serialize(VectorCodec codec)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) CodecRegistry.Write(codec, w);
        return ms.ToArray();
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void RoundTripIsByteIdenticalAndEncodesTheSame(string spec, DistanceKind kind)
    {
        var codec = Train(spec, kind);
        var bytes = Serialize(codec);
        var back = CodecRegistry.Read(new BinaryReader(new MemoryStream(bytes)));
        Assert.Equal(bytes, Serialize(back));
        Assert.Equal(codec.Spec, back.Spec);
        Assert.Equal(codec.CodeSize, back.CodeSize);
        var a = new byte[codec.CodeSize];
        var b = new byte[codec.CodeSize];
        var s1 = codec.CreateScorer(kind);
        var s2 = back.CreateScorer(kind);
        s1.SetQuery(s_data.Row(7));
        s2.SetQuery(s_data.Row(7));
        for (int i = 0; i < 50; i++)
        {
            codec.Encode(s_data.Row(i), a);
            back.Encode(s_data.Row(i), b);
            Assert.Equal(a, b);
            Assert.Equal(s1.Distance(a), s2.Distance(b));
        }
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void CompressedSearchFindsMostTrueNeighbours(string spec, DistanceKind kind)
    {
        // A floor, not a target: 48-d clustered data is easy, so a working codec with re-ranking of 50 finds almost all
        // of the true top 10, and a broken one (wrong sign, scrambled dims) finds a few percent.
        var codec = Train(spec, kind);
        var index = new FlatIndex(codec, kind);
        for (int i = 0; i < s_data.Count; i++) index.Add(i, s_data.Row(i));
        var queries = s_queries;
        var truth = GroundTruth.Compute(s_data, queries, 10, kind);
        var found = new List<long[]>();
        var heap = new TopK(50);
        var slots = new int[50];
        var dist = new float[50];
        for (int q = 0; q < queries.Count; q++)
        {
            heap.Reset(50);
            index.Search(queries.Row(q), default, null, heap);
            int n = heap.Drain(slots, dist);
            found.Add(slots.Take(n).OrderBy(s => VectorStore.Distance.Distances.Compute(kind, queries.Row(q), s_data.Row(s))).Take(10).Select(s => (long)s).ToArray());
        }
        Assert.True(Recall.AtK(found, truth, 10) >= 0.8, $"{spec}: recall@10 after re-ranking 50 was {Recall.AtK(found, truth, 10):F3}");
    }

    [Theory]
    [InlineData("pca:16+sq8")]
    [InlineData("prune:24+sq8")]
    [InlineData("hash:40")]
    [InlineData("bin")]
    public void CollectionsAcceptToolkitSpecs(string spec)
    {
        // The public API path: CollectionOptions validates the spec, training happens at the threshold, and a re-ranked
        // search finds a stored vector first.
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("t", new VectorStore.Collections.CollectionOptions { Dimension = 48, Compression = spec, TrainingThreshold = 1_000 });
        var ids = Enumerable.Range(0, 1_500).Select(i => (ulong)i).ToArray();
        c.UpsertBatch(ids, s_data.Slice(0, 1_500));
        Assert.Equal(spec, c.GetStats().Compression.Replace("hash:40+none", "hash:40"));
        var hits = c.Search(s_data.Row(321), new VectorStore.Collections.SearchOptions { K = 1, Rerank = 50 });
        Assert.Equal(321UL, Assert.Single(hits).Id);
    }

    [Fact]
    public void FlatIndexWithTransformSurvivesSnapshot()
    {
        var codec = Train("pca:16+sq8", DistanceKind.NegativeDot);
        var index = new FlatIndex(codec, DistanceKind.NegativeDot);
        for (int i = 0; i < 500; i++) index.Add(i, s_data.Row(i));
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) IndexRegistry.Write(index, w);
        var bytes = ms.ToArray();
        var back = IndexRegistry.Read(new BinaryReader(new MemoryStream(bytes)));
        using var ms2 = new MemoryStream();
        using (var w = new BinaryWriter(ms2, System.Text.Encoding.UTF8, leaveOpen: true)) IndexRegistry.Write(back, w);
        Assert.Equal(bytes, ms2.ToArray());
        Assert.Equal("pca:16+sq8", back.Codec.Spec);
    }

    [Theory]
    [InlineData("pca:0+sq8")]
    [InlineData("pca:abc+sq8")]
    [InlineData("pca:49+sq8")]
    [InlineData("pca:16,x+sq8")]
    [InlineData("prune:16,foo+sq8")]
    [InlineData("distill:-3+sq8")]
    [InlineData("hash:8,8+sq8")]
    [InlineData("bin:7")]
    [InlineData("nosuch:4+sq8")]
    public void BadSpecsAreTypedErrors(string spec)
    {
        var e = Assert.ThrowsAny<InvalidArgumentException>(() => Train(spec, DistanceKind.L2));
        Assert.Contains(spec.Split('+')[0].Split(':')[0], e.Message);
    }

    [Fact]
    public void PcaExplainsMostVarianceOfLowRankData()
    {
        // Clustered data has rank-16 clusters around 64 centres: 40 components must hold nearly all of the energy.
        var pca = PcaTransform.Fit(s_data, 40, DistanceKind.L2);
        Assert.InRange(pca.ExplainedVariance, 0.9, 1.0);
        var small = PcaTransform.Fit(s_data, 4, DistanceKind.L2);
        Assert.True(small.ExplainedVariance < pca.ExplainedVariance);
    }

    [Fact]
    public void PruneKeepsTheDimensionsThatRankNeighbours()
    {
        // Dimensions 0..7 carry clustered signal; 8..15 are constant, so dropping them perturbs no ranking.
        var signal = SyntheticData.Clustered(2_000, 8, seed: 2);
        var data = new VectorMatrix(2_000, 16);
        for (int i = 0; i < data.Count; i++)
        {
            signal.Row(i).CopyTo(data[i]);
            for (int d = 8; d < 16; d++) data[i][d] = 5f;
        }
        var t = PruneTransform.Fit(data, 8, DistanceKind.L2, byVariance: false);
        Assert.Equal(Enumerable.Range(0, 8), t.Kept);
        var ip = PruneTransform.Fit(data, 8, DistanceKind.NegativeDot, byVariance: false);
        Assert.Equal(Enumerable.Range(0, 8), ip.Kept);
    }
}
