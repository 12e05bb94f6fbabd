using VectorStore.Clustering;
using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Flat;
using VectorStore.Quantization;
using VectorStore.Ranking;
using Xunit;

namespace VectorStore.Tests.Quantization;

public class PqCodecTests
{
    private static readonly VectorMatrix Sample = SyntheticData.Clustered(3000, 30, seed: 11);

    [Theory]
    [InlineData("pq:6", DistanceKind.L2)]
    [InlineData("pq:6", DistanceKind.NegativeDot)]
    [InlineData("pq:8x4", DistanceKind.L2)]
    [InlineData("opq+pq:6", DistanceKind.L2)]
    [InlineData("opq+pq:10x4", DistanceKind.NegativeDot)]
    public void AsymmetricDistanceMatchesDistanceToReconstruction(string spec, DistanceKind kind)
    {
        // Dimension 30: pq:8x4 has uneven sub-spaces (4 and 3 dims), the others even ones.
        var codec = CodecRegistry.Train(CompressionSpec.Parse(spec), Sample, kind);
        Assert.Equal(spec, codec.Spec);
        var scorer = codec.CreateScorer(kind);
        var q = Sample.Row(2999).ToArray();
        scorer.SetQuery(q);
        var code = new byte[codec.CodeSize];
        var back = new float[30];
        bool fastScan = spec.EndsWith("x4");
        // A transformed codec scores the query as its transform maps queries (OPQ: a bfloat16 copy of the rotation)
        // against the inner codec's reconstruction; the rotation preserves distances, so that is the exact reference
        // for the scorer's arithmetic (the bfloat16 rotation's own error is Bf16MatrixProductKernelTests' concern).
        var inner = codec is TransformedCodec t ? t.Inner : codec;
        var innerQuery = new float[30];
        if (codec is TransformedCodec tc) tc.Transform.ApplyToQuery(q, innerQuery); else q.CopyTo(innerQuery, 0);
        // The 4-bit tables are quantized to bytes: each of the M entries is off by at most half a step (1 / Scale).
        double quantBound = 0;
        if (fastScan)
        {
            var fs = (PqFastScanScorer)inner.CreateScorer(kind);
            fs.SetQuery(innerQuery);
            quantBound = ((PqFastScanCodec)inner).Codebook.SubQuantizers * 0.5 / fs.Scale;
        }
        for (int i = 0; i < 200; i++)
        {
            codec.Encode(Sample.Row(i), code);
            inner.Decode(code, back);
            float exact = Distances.Compute(kind, innerQuery, back);
            float est = scorer.Distance(code);
            double tol = quantBound + 1e-3 * (1 + Math.Abs(exact));
            Assert.True(Math.Abs(est - exact) <= tol, $"row {i}: estimate {est}, exact {exact}");
        }
    }

    [Fact]
    public void ReconstructionErrorFallsWithMoreSubQuantizers()
    {
        var e4 = ReconstructionError.Measure(CodecRegistry.Train(CompressionSpec.Parse("pq:3"), Sample, DistanceKind.L2), Sample);
        var e10 = ReconstructionError.Measure(CodecRegistry.Train(CompressionSpec.Parse("pq:10"), Sample, DistanceKind.L2), Sample);
        Assert.True(e10.MeanSquaredError < e4.MeanSquaredError * 0.8, $"pq:10 {e10.MeanSquaredError} vs pq:3 {e4.MeanSquaredError}");
        Assert.True(e10.RelativeError < 0.1, $"pq:10 relative error {e10.RelativeError}");
    }

    [Theory]
    [InlineData("pq:6")]
    [InlineData("pq:10x4")]
    [InlineData("opq+pq:6")]
    public void ParametersRoundTripByteForByte(string spec)
    {
        var codec = CodecRegistry.Train(CompressionSpec.Parse(spec), Sample, DistanceKind.L2);
        var first = Serialize(codec);
        var read = CodecRegistry.Read(new BinaryReader(new MemoryStream(first)));
        Assert.Equal(first, Serialize(read));
        Assert.Equal(codec.Spec, read.Spec);
        var a = new byte[codec.CodeSize];
        var b = new byte[codec.CodeSize];
        for (int i = 0; i < 50; i++)
        {
            codec.Encode(Sample.Row(i), a);
            read.Encode(Sample.Row(i), b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void SameSeedTrainsTheSameCodec()
    {
        var a = Serialize(CodecRegistry.Train(CompressionSpec.Parse("pq:5"), Sample, DistanceKind.L2, new TrainingContext { Seed = 3, Threads = 1 }));
        var b = Serialize(CodecRegistry.Train(CompressionSpec.Parse("pq:5"), Sample, DistanceKind.L2, new TrainingContext { Seed = 3, Threads = 2 }));
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData("pq:0")]
    [InlineData("pq:abc")]
    [InlineData("pq:7x4")]
    [InlineData("pq:6x3")]
    [InlineData("pq:31")]
    [InlineData("pq:")]
    [InlineData("opq+sq8")]
    [InlineData("opq:3+pq:6")]
    public void BadSpecsAreTypedErrors(string spec)
    {
        var e = Assert.ThrowsAny<InvalidArgumentException>(() => CodecRegistry.Train(CompressionSpec.Parse(spec), Sample, DistanceKind.L2));
        Assert.Contains(spec.Split('+')[^1].Split(':')[0], e.Message);
    }

    [Fact]
    public void TooFewTrainingVectorsIsATypedError()
    {
        var e = Assert.Throws<InvalidArgumentException>(() => CodecRegistry.Train(CompressionSpec.Parse("pq:6"), Sample.Slice(0, 100), DistanceKind.L2));
        Assert.Contains("256", e.Message);
    }

    [Theory]
    [InlineData("pq:10x4")]
    [InlineData("opq+pq:6x4")]
    [InlineData("pq:6")]
    public void FlatIndexScanMatchesPerCodeScoringAndSurvivesSnapshot(string spec)
    {
        var codec = CodecRegistry.Train(CompressionSpec.Parse(spec), Sample, DistanceKind.L2);
        var index = new FlatIndex(codec, DistanceKind.L2, 16);
        var slots = Enumerable.Range(0, 1000).ToArray();
        index.AddBatch(slots, Sample.Slice(0, 1000), 2);
        index.Add(1000, Sample.Row(1000)); // single adds go through the same layout
        index.Remove(5);
        var q = Sample.Row(2500);
        var heap = new TopK(20);
        index.Search(q, default, null, heap);
        var (gotSlots, gotDist) = Drain(heap, 20);

        // Reference: score every live code one by one.
        var scorer = codec.CreateScorer(DistanceKind.L2);
        scorer.SetQuery(q);
        var code = new byte[codec.CodeSize];
        var all = new List<(float D, int S)>();
        for (int s = 0; s <= 1000; s++)
        {
            if (s == 5) continue;
            codec.Encode(Sample.Row(s), code);
            all.Add((scorer.Distance(code), s));
        }
        var expected = all.OrderBy(t => t.D).ThenBy(t => t.S).Take(20).ToArray();
        // Identical distances; slots may differ only among codes tied at the same distance (equal codes).
        Assert.Equal(expected.Select(t => t.D), gotDist);
        var reference = all.ToDictionary(t => t.S, t => t.D);
        for (int i = 0; i < gotSlots.Length; i++) Assert.Equal(reference[gotSlots[i]], gotDist[i]);

        var ms = new MemoryStream();
        IndexRegistry.Write(index, new BinaryWriter(ms));
        var bytes = ms.ToArray();
        var reopened = IndexRegistry.Read(new BinaryReader(new MemoryStream(bytes)));
        var ms2 = new MemoryStream();
        IndexRegistry.Write(reopened, new BinaryWriter(ms2));
        Assert.Equal(bytes, ms2.ToArray());
        heap.Reset(20);
        reopened.Search(q, default, null, heap);
        Assert.Equal(gotSlots, Drain(heap, 20).Slots);
    }

    [Fact]
    public void CollectionWithFastScanAndRerankFindsExactNeighbours()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("pq", new CollectionOptions { Dimension = 30, Metric = Metric.L2, Compression = "pq:10x4", TrainingThreshold = 2000 });
        c.UpsertBatch(Enumerable.Range(0, 2900).Select(i => (ulong)i).ToArray(), Sample.Slice(0, 2900));
        Assert.Equal("pq:10x4", c.GetStats().Compression);
        var queries = Sample.Slice(2900, 100);
        var truth = GroundTruth.Compute(Sample.Slice(0, 2900), queries, 10, DistanceKind.L2);
        var found = c.SearchBatch(queries, new SearchOptions { K = 10, Rerank = 100 }).Select(h => h.Select(x => (long)x.Id).ToArray()).ToArray();
        Assert.True(Recall.AtK(found, truth, 10) >= 0.95);
    }

    private static (int[] Slots, float[] Dist) Drain(TopK heap, int k)
    {
        var s = new int[k];
        var d = new float[k];
        int n = heap.Drain(s, d);
        return (s[..n], d[..n]);
    }

    private static byte[] Serialize(VectorCodec codec)
    {
        var ms = new MemoryStream();
        CodecRegistry.Write(codec, new BinaryWriter(ms));
        return ms.ToArray();
    }
}

public class SearchTunerDepthTests
{
    [Fact]
    public void TunedDepthGrowsWithTheTargetAndReachesIt()
    {
        var data = SyntheticData.Clustered(4000, 32, seed: 21);
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("t", new CollectionOptions { Dimension = 32, Metric = Metric.L2, Compression = "pq:8x4", TrainingThreshold = 3000 });
        c.UpsertBatch(Enumerable.Range(0, 3900).Select(i => (ulong)i).ToArray(), data.Slice(0, 3900));
        int low = c.TuneRerank(0.5, 10, 100);
        int high = c.TuneRerank(0.99, 10, 100);
        Assert.InRange(low, 10, high);
        Assert.True(high > low, $"depth for 0.99 ({high}) should exceed depth for 0.5 ({low})");
        var queries = data.Slice(3900, 100);
        var truth = GroundTruth.Compute(data.Slice(0, 3900), queries, 10, DistanceKind.L2);
        double auto = Recall.AtK(c.SearchBatch(queries, new SearchOptions { TargetRecall = 0.95 }).Select(h => h.Select(x => (long)x.Id).ToArray()).ToArray(), truth, 10);
        Assert.True(auto >= 0.9, $"recall with automatic rerank {auto}");
        Assert.Throws<InvalidArgumentException>(() => c.Search(queries.Row(0), new SearchOptions { TargetRecall = 1.5 }));
        Assert.Throws<InvalidArgumentException>(() => c.TuneRerank(0));
    }

    /// <summary>Recall by prefix depth, kept incrementally, equals re-ranking each prefix from scratch (ties by slot included).</summary>
    [Fact]
    public void RecallByDepthEqualsReRankingEachPrefix()
    {
        var rng = new Random(3);
        for (int round = 0; round < 300; round++)
        {
            int k = rng.Next(1, 12), n = rng.Next(0, 120);
            var candidates = Enumerable.Range(0, n).Select(_ => rng.Next(0, 400)).Distinct().ToArray();
            // Few distinct distances, so ties are common.
            var distance = Enumerable.Range(0, 400).Select(_ => (float)rng.Next(0, 20)).ToArray();
            var truth = new HashSet<int>(Enumerable.Range(0, k).Select(_ => rng.Next(0, 400)));
            var depths = Enumerable.Range(0, rng.Next(1, 8)).Select(_ => rng.Next(1, 140)).Distinct().Order().ToArray();
            var got = SearchTuner.RecallByDepth(s => distance[s], candidates, depths, k, truth);
            for (int d = 0; d < depths.Length; d++)
            {
                var top = candidates.Take(depths[d]).OrderBy(s => distance[s]).ThenBy(s => s).Take(k);
                Assert.Equal(top.Count(truth.Contains) / (double)k, got[d]);
            }
        }
    }

    /// <summary>
    /// The targets searches asked of the live generation are tuned for the next one in the background, so the first
    /// search after a promotion or rollback finds its settings ready.
    /// </summary>
    [Fact]
    public async Task APromotionOrRollbackTunesTheAskedTargetsInTheBackground()
    {
        var data = SyntheticData.Clustered(3200, 32, seed: 9);
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("t", new CollectionOptions { Dimension = 32, Metric = Metric.L2, Compression = "pq:8x4", Index = "hnsw:8", TrainingThreshold = 2000 });
        c.UpsertBatch(Enumerable.Range(0, 3000).Select(i => (ulong)i).ToArray(), data.Slice(0, 3000));
        var queries = data.Slice(3000, 200);
        Assert.False(c.HasTunedSearch(0.9));
        c.Search(queries.Row(0), new SearchOptions { TargetRecall = 0.9 }); // tuned on the request path
        Assert.True(c.HasTunedSearch(0.9));

        int second = c.BuildGeneration("sq8", "hnsw:8");
        await c.WaitForGeneration(second);
        c.Promote(second);
        await WaitUntil(() => c.HasTunedSearch(0.9));
        // Tuned on these queries, and kept: a rollback tunes the first generation for 0.8 on them too.
        var onQueries = c.TuneSearchOnQueries(0.8, queries);
        Assert.True(c.HasTunedSearch(0.8));
        Assert.Equal(1, c.Rollback());
        await WaitUntil(() => c.HasTunedSearch(0.8));
        Assert.True(c.HasTunedSearch(0.9)); // its own from before, kept while it was retired
        Assert.InRange(onQueries.Rerank, 10, 999); // not the fallback (the deepest depth)
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the background tuning did not finish within 60 s");
            await Task.Delay(20);
        }
    }

    [Fact]
    public void SampleQueriesAreCheckedAndAnUntrainedCollectionNeedsNoDepth()
    {
        var data = SyntheticData.Clustered(2000, 16, seed: 5);
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("t", new CollectionOptions { Dimension = 16, Metric = Metric.Cosine, Compression = "pq:4x4", TrainingThreshold = 1500 });
        var ids = Enumerable.Range(0, 1000).Select(i => (ulong)i).ToArray();
        c.UpsertBatch(ids, data.Slice(0, 1000));
        Assert.Equal(new TunedSearchSettings(0, 0, 0), c.TuneSearchOnQueries(0.9, data.Slice(1900, 10))); // untrained: exact
        c.UpsertBatch(Enumerable.Range(1000, 900).Select(i => (ulong)i).ToArray(), data.Slice(1000, 900));
        var queries = data.Slice(1900, 100);
        Assert.Throws<InvalidVectorException>(() => c.TuneSearchOnQueries(0.9, new VectorMatrix(3, 8)));
        Assert.Throws<InvalidArgumentException>(() => c.TuneSearchOnQueries(0.9, new VectorMatrix(0, 16)));
        Assert.Throws<InvalidArgumentException>(() => c.TuneSearchOnQueries(0, queries));
        Assert.Throws<InvalidArgumentException>(() => c.TuneSearchOnQueries(0.9, queries, k: 0));
        Assert.Throws<InvalidArgumentException>(() => c.TuneSearchOnQueries(0.9, queries, ef: -1));
        var bad = new VectorMatrix((float[])queries.Data.Clone(), 16);
        bad[7][3] = float.NaN;
        var e = Assert.Throws<InvalidVectorException>(() => c.TuneSearchOnQueries(0.9, bad));
        Assert.Contains("query 7", e.Message);
        // Refused input tuned nothing: the store answers, and a valid sample tunes a depth for the flat index.
        Assert.Equal(10, c.Search(queries.Row(0)).Length);
        var tuned = c.TuneSearchOnQueries(0.9, queries);
        Assert.InRange(tuned.Rerank, 10, 999); // not the fallback (the deepest depth)
        Assert.Equal(0, tuned.Ef + tuned.NProbe);
    }
}
