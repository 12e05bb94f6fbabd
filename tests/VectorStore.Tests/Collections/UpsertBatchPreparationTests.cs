using VectorStore.Collections;
using VectorStore.Distance;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>
/// The checks every upsert batch gets: a non-finite value is named by id, row and dimension whichever way the
/// vectorized sum of squares found it, huge and tiny finite values are accepted (and normalized for cosine), a zero
/// vector is refused for cosine, and preparing into a reused buffer gives exactly what a fresh copy gives without
/// touching the caller's vectors.
/// </summary>
public sealed class UpsertBatchPreparationTests
{
    private static VectorMatrix Batch(int n, int dim, int seed)
    {
        var rng = new Random(seed);
        var m = new VectorMatrix(n, dim);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        return m;
    }

    [Theory]
    [InlineData(float.NaN, 0)]
    [InlineData(float.PositiveInfinity, 17)]
    [InlineData(float.NegativeInfinity, 99)]
    public void ANonFiniteValueIsNamedByIdRowAndDimension(float bad, int dimension)
    {
        var m = Batch(3, 100, 1);
        m[2][dimension] = bad;
        var e = Assert.Throws<InvalidVectorException>(() => UpsertBatchPreparation.Prepare([10, 11, 12], m, null, Metric.Cosine));
        Assert.Equal($"vector for id 12 (batch row 2) has a non-finite value at dimension {dimension}", e.Message);
    }

    [Fact]
    public void HugeFiniteValuesAreAcceptedAndNormalizedForCosine()
    {
        // Their squares overflow, so the quick check looks closer and finds nothing wrong; cosine still gets a unit
        // vector (it used to keep the huge one, whose scores overflowed).
        var m = new VectorMatrix([3e30f, -4e30f, 1f, 0f], 4);
        AssertNear([0.6f, -0.8f, 0f, 0f], UpsertBatchPreparation.Prepare([1], m, null, Metric.Cosine)[0]);
        Assert.Equal(m.Data, UpsertBatchPreparation.Prepare([1], m, null, Metric.L2).Data);
    }

    [Fact]
    public void TinyValuesAreNormalizedForCosineNotTakenForZero()
    {
        // Squares below float's smallest normal (or 0 outright): the direction is still there.
        var m = new VectorMatrix([3e-30f, 4e-30f, 0f, 0f, 0f, -1e-45f, 0f, 0f], 4);
        var prepared = UpsertBatchPreparation.Prepare([1, 2], m, null, Metric.Cosine);
        AssertNear([0.6f, 0.8f, 0f, 0f], prepared[0]);
        AssertNear([0f, -1f, 0f, 0f], prepared[1]);
    }

    private static void AssertNear(float[] expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int d = 0; d < expected.Length; d++) Assert.Equal(expected[d], actual[d], 1e-6f);
    }

    [Fact]
    public void AZeroVectorIsRefusedForCosineNamingItsIdAndRow()
    {
        var m = Batch(3, 16, 5);
        m[1].Clear();
        var e = Assert.Throws<InvalidVectorException>(() => UpsertBatchPreparation.Prepare([10, 11, 12], m, null, Metric.Cosine));
        Assert.Equal("vector for id 11 (batch row 1) is a zero vector, for which cosine similarity is undefined", e.Message);
        // Negative zeros are zero too.
        var negative = new VectorMatrix([-0f, -0f, -0f, -0f], 4);
        Assert.Throws<InvalidVectorException>(() => UpsertBatchPreparation.Prepare([1], negative, null, Metric.Cosine));
        // L2 and inner product have an answer for it.
        Assert.Equal(m.Data, UpsertBatchPreparation.Prepare([10, 11, 12], m, null, Metric.L2).Data);
        Assert.Equal(m.Data, UpsertBatchPreparation.Prepare([10, 11, 12], m, null, Metric.InnerProduct).Data);
    }

    [Theory]
    [InlineData(Metric.Cosine)]
    [InlineData(Metric.L2)]
    [InlineData(Metric.InnerProduct)]
    public void PreparingIntoAReusedBufferEqualsAFreshCopy(Metric metric)
    {
        var m = Batch(50, 37, 2);
        var original = (float[])m.Data.Clone();
        var ids = Enumerable.Range(0, 50).Select(i => (ulong)i).ToArray();
        var fresh = UpsertBatchPreparation.Prepare(ids, m, null, metric);
        var buffer = Enumerable.Repeat(float.NaN, m.Data.Length).ToArray();
        var reused = UpsertBatchPreparation.Prepare(ids, m, null, metric, buffer);
        Assert.Same(buffer, reused.Data);
        Assert.Equal(fresh.Data, reused.Data);
        Assert.Equal(original, m.Data);
        // A buffer of another length is not used.
        Assert.NotSame(buffer, UpsertBatchPreparation.Prepare(ids[..49], m.Slice(0, 49), null, metric, buffer).Data);
        if (metric == Metric.Cosine)
            for (int i = 0; i < 50; i++) Assert.Equal(1.0, Math.Sqrt(DotProduct.Compute(fresh[i], fresh[i])), 5);
    }

    [Fact]
    public void RepeatedIdsAndMismatchedCountsAreRefused()
    {
        var m = Batch(2, 4, 3);
        Assert.Equal("id 7 appears twice in one batch", Assert.Throws<InvalidArgumentException>(() => UpsertBatchPreparation.Prepare([7, 7], m, null, Metric.L2)).Message);
        Assert.Throws<InvalidArgumentException>(() => UpsertBatchPreparation.Prepare([7], m, null, Metric.L2));
        Assert.Throws<InvalidArgumentException>(() => UpsertBatchPreparation.Prepare([7, 8], m, [null], Metric.L2));
    }

    [Fact]
    public void ScalingMatchesTheScalarLoopBitForBit()
    {
        var rng = new Random(4);
        for (int length = 0; length <= 70; length++)
        {
            var v = Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 200 - 100)).ToArray();
            float factor = (float)rng.NextDouble() * 3;
            var expected = v.Select(x => x * factor).ToArray();
            Distances.Scale(v, factor);
            Assert.Equal(expected, v);
        }
    }
}
