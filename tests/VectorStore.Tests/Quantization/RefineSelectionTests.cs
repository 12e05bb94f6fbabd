using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>
/// The refine stage's decision rule (<see cref="RefineSelection"/>) against a straightforward implementation of it
/// (re-sort every end before each read, the stage's first version): on random intervals, with ties and with exact
/// distances that sometimes fall outside their interval, both must read the same candidates in the same order and
/// keep the same candidates with the same distances. No batch slack is needed: the fast version issues exactly the
/// reference's reads (it only prefetches ahead of them).
/// </summary>
public sealed class RefineSelectionTests
{
    private sealed record Outcome(int[] ReadOrder, (int Index, float Distance)[] Kept);

    /// <summary>The rule as first written: sort all upper ends for U, drop, sort all lower ends, pick, read, repeat.</summary>
    private static Outcome Reference(float[] estimate, float[] bound, float[] exact, int k)
    {
        int count = estimate.Length;
        var est = (float[])estimate.Clone();
        var lo = new float[count];
        var hi = new float[count];
        for (int i = 0; i < count; i++) { lo[i] = est[i] - bound[i]; hi[i] = est[i] + bound[i]; }
        var active = Enumerable.Range(0, count).ToList();
        int kk = Math.Min(k, count);
        var reads = new List<int>();
        while (true)
        {
            float u = active.Select(i => hi[i]).OrderBy(v => v).ElementAt(kk - 1);
            active = active.Where(i => lo[i] <= u).ToList();
            var sortedLo = active.Select(i => lo[i]).OrderBy(v => v).ToArray();
            int pick = -1;
            foreach (int i in active)
            {
                if (lo[i] == hi[i]) continue;
                int couldBeat = sortedLo.Count(v => v < hi[i]) - 1;
                if (couldBeat >= kk && (pick < 0 || est[i] < est[pick])) pick = i;
            }
            if (pick < 0) break;
            est[pick] = lo[pick] = hi[pick] = exact[pick];
            reads.Add(pick);
        }
        return new Outcome(reads.ToArray(), active.Select(i => (i, est[i])).ToArray());
    }

    private static Outcome Fast(RefineSelection sel, float[] estimate, float[] bound, float[] exact, int k)
    {
        sel.Reset(estimate.Length);
        for (int i = 0; i < estimate.Length; i++) sel.Set(i, estimate[i], bound[i]);
        sel.Start(k);
        var undecided = sel.Undecided.ToArray();
        var reads = new List<int>();
        for (int pick; (pick = sel.Next()) >= 0;)
        {
            Assert.True(reads.Count > 0 || undecided.Contains(pick), "the first read is one the prefetch hint named");
            sel.Resolve(pick, exact[pick]);
            reads.Add(pick);
        }
        return new Outcome(reads.ToArray(), sel.Survivors.ToArray().Select(i => (i, sel.Distance(i))).ToArray());
    }

    /// <summary>
    /// Random candidates: estimates on a coarse grid (ties), bounds that are sometimes zero, exact distances inside
    /// the interval or, with probability <paramref name="outside"/>, beyond it.
    /// </summary>
    private static (float[] Est, float[] Bound, float[] Exact) Candidates(Random rng, int count, double outside)
    {
        var est = new float[count];
        var bound = new float[count];
        var exact = new float[count];
        for (int i = 0; i < count; i++)
        {
            est[i] = rng.Next(0, 4 * count) / 8f;
            bound[i] = rng.Next(4) == 0 ? 0 : rng.Next(1, 24) / 8f;
            double t = rng.NextDouble() * 2 - 1;
            if (rng.NextDouble() < outside) t *= 3;
            exact[i] = bound[i] == 0 ? est[i] : est[i] + (float)(t * bound[i]);
        }
        return (est, bound, exact);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.2)]
    public void ReadsAndKeepsWhatTheSortEverythingReferenceDoes(double outside)
    {
        var rng = new Random(1234);
        var sel = new RefineSelection(); // reused across cases, as a search thread reuses it
        int[] counts = [1, 2, 7, 30, 100, 257];
        int[] ks = [1, 3, 10, 50, 400];
        int cases = 0, reads = 0;
        for (int round = 0; round < 40; round++)
            foreach (int count in counts)
                foreach (int k in ks)
                {
                    var (est, bound, exact) = Candidates(rng, count, outside);
                    var expected = Reference(est, bound, exact, k);
                    var actual = Fast(sel, est, bound, exact, k);
                    Assert.Equal(expected.ReadOrder, actual.ReadOrder);
                    Assert.Equal(expected.Kept, actual.Kept);
                    cases++;
                    reads += expected.ReadOrder.Length;
                }
        Assert.True(reads > cases, $"the cases must exercise reads: {reads} reads over {cases} cases");
    }

    [Fact]
    public void WithExactDistancesInsideTheirIntervalsTheKeptBestKAreTheTrueBestK()
    {
        var rng = new Random(77);
        var sel = new RefineSelection();
        for (int round = 0; round < 300; round++)
        {
            int count = rng.Next(1, 150), k = rng.Next(1, 20);
            var est = new float[count];
            var bound = new float[count];
            var exact = new float[count];
            for (int i = 0; i < count; i++)
            {
                exact[i] = i + (float)rng.NextDouble() * 0.5f; // distinct, so the true best k are unambiguous
                bound[i] = (float)rng.NextDouble() * 20;
                est[i] = exact[i] + (float)(rng.NextDouble() * 2 - 1) * bound[i];
            }
            var kept = Fast(sel, est, bound, exact, k).Kept;
            var best = kept.OrderBy(c => c.Distance).Take(k).Select(c => c.Index).Order();
            Assert.Equal(Enumerable.Range(0, Math.Min(k, count)), best);
        }
    }
}
