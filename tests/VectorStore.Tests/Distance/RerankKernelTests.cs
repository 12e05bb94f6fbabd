using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Storage;
using Xunit;

namespace VectorStore.Tests.Distance;

/// <summary>
/// <see cref="RawVectorStore.ComputeDistances"/> (prefetching re-rank scoring) against the plain per-slot loop it
/// replaced. In this class so CI also runs it with hardware intrinsics disabled, where the prefetch is skipped.
/// </summary>
public class RerankKernelTests
{
    [Theory]
    [InlineData(384, DistanceKind.NegativeDot)]
    [InlineData(384, DistanceKind.L2)]
    [InlineData(17, DistanceKind.L2)]
    [InlineData(1, DistanceKind.NegativeDot)]
    [InlineData(20_000, DistanceKind.NegativeDot)]
    public void DistancesAreBitIdenticalToThePerSlotLoop(int dim, DistanceKind kind)
    {
        var rng = new Random(dim);
        var store = new RawVectorStore(dim);
        // More than one 4,096-vector chunk, so slots span chunks (except at the huge dimension that checks the minimum distance).
        int count = dim > 1000 ? 40 : 9_000;
        var v = new float[dim];
        for (int s = 0; s < count; s++)
        {
            for (int d = 0; d < dim; d++) v[d] = (float)(rng.NextDouble() * 2 - 1);
            store.Set(s, v);
        }
        var q = new float[dim];
        for (int d = 0; d < dim; d++) q[d] = (float)(rng.NextDouble() * 2 - 1);
        // Lengths below, at and above the prefetch distance; repeated slots are allowed.
        int ahead = RawVectorStore.PrefetchDistance(dim);
        foreach (int n in new[] { 0, 1, ahead - 1, ahead, ahead + 1, 100, 3 * ahead + 5 })
        {
            var slots = Enumerable.Range(0, n).Select(_ => rng.Next(count)).ToArray();
            var got = new float[n + 1];
            got[n] = 99f;
            store.ComputeDistances(kind, q, slots, got);
            Assert.Equal(99f, got[n]);
            for (int i = 0; i < n; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits(Distances.Compute(kind, q, store.Get(slots[i]))), BitConverter.SingleToInt32Bits(got[i]));
        }
    }

    [Fact]
    public void ShortOutputIsRejected()
    {
        var store = new RawVectorStore(4);
        store.Set(0, new float[4]);
        Assert.Throws<ArgumentException>(() => store.ComputeDistances(DistanceKind.L2, new float[4], new[] { 0, 0 }, new float[1]));
    }
}
