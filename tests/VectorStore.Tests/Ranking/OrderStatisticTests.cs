using VectorStore.Ranking;
using Xunit;

namespace VectorStore.Tests.Ranking;

/// <summary>Selection must return exactly what a sort puts at each index, and leave the partition property behind.</summary>
public class OrderStatisticTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(7, 1)]
    [InlineData(64, 2)]
    [InlineData(257, 3)]
    [InlineData(1000, 4)]
    public void EveryIndexMatchesASort(int n, int seed)
    {
        var rng = new Random(seed);
        foreach (int distinct in new[] { 1, 3, n })
        {
            var values = new float[n];
            for (int i = 0; i < n; i++) values[i] = rng.Next(distinct) - distinct / 2 + (float)(distinct == n ? rng.NextDouble() : 0);
            var sorted = (float[])values.Clone();
            Array.Sort(sorted);
            for (int k = 0; k < n; k++)
            {
                var work = (float[])values.Clone();
                float got = OrderStatistic.Select(work, k);
                Assert.Equal(sorted[k], got);
                Assert.Equal(sorted[k], work[k]);
                for (int i = 0; i < k; i++) Assert.True(work[i] <= got);
                for (int i = k + 1; i < n; i++) Assert.True(work[i] >= got);
                Array.Sort(work);
                Assert.Equal(sorted, work); // a permutation: nothing lost or duplicated
            }
        }
    }

    [Fact]
    public void AdversarialOrdersStayCorrect()
    {
        const int n = 5000;
        var ascending = Enumerable.Range(0, n).Select(i => (float)i).ToArray();
        var descending = ascending.Reverse().ToArray();
        var organPipe = ascending.Take(n / 2).Concat(ascending.Take(n - n / 2).Reverse()).ToArray();
        foreach (var source in new[] { ascending, descending, organPipe })
        {
            var sorted = (float[])source.Clone();
            Array.Sort(sorted);
            foreach (int k in new[] { 0, 1, n / 3, n / 2, n - 2, n - 1 })
                Assert.Equal(sorted[k], OrderStatistic.Select((float[])source.Clone(), k));
        }
    }

    [Fact]
    public void KOutsideTheValuesIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => OrderStatistic.Select(new float[3], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => OrderStatistic.Select(Span<float>.Empty, 0));
    }
}
