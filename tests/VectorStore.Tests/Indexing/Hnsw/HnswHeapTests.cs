using VectorStore.Indexing.Hnsw;
using Xunit;

namespace VectorStore.Tests.Indexing.Hnsw;

/// <summary>
/// The beam's bounded max-heap: <see cref="HnswMaxHeap.PushBounded"/> (one sift when full) keeps the distances a push
/// followed by a pop of the farthest keeps, under the beam's own admission rule (the same entries when no two are
/// equally far), and pops farthest first.
/// </summary>
public sealed class HnswHeapTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(16)]
    [InlineData(64)]
    public void PushBoundedKeepsWhatAPushAndAPopKeep(int bound)
    {
        var rng = new Random(bound);
        for (int rep = 0; rep < 200; rep++)
        {
            var bounded = new HnswMaxHeap(4);
            var reference = new HnswMaxHeap(4);
            int pushes = rng.Next(1, 400);
            for (int i = 0; i < pushes; i++)
            {
                // A coarse grid: many equal distances.
                float d = rep % 2 == 0 ? rng.Next(0, 20) : (float)rng.NextDouble();
                // The beam's rule: while full, only an entry nearer than the farthest is offered.
                if (reference.Count >= bound && d >= reference.MaxDistance) continue;
                reference.Push(i, d);
                if (reference.Count > bound) reference.Pop();
                bounded.PushBounded(i, d, bound);
                Assert.Equal(reference.Count, bounded.Count);
                Assert.Equal(reference.MaxDistance, bounded.MaxDistance);
            }
            // The same distances; the same entries when no two distances are equal (among equally far entries,
            // which one leaves is arbitrary either way).
            Assert.Equal(reference.Distances.ToArray().Order(), bounded.Distances.ToArray().Order());
            if (rep % 2 == 1) Assert.Equal(Entries(reference), Entries(bounded));
            // Still a heap: pops come farthest first.
            float last = float.PositiveInfinity;
            while (bounded.Count > 0)
            {
                Assert.True(bounded.MaxDistance <= last);
                last = bounded.MaxDistance;
                bounded.Pop();
            }
        }
    }

    private static (int, float)[] Entries(HnswMaxHeap heap)
    {
        var nodes = heap.Nodes.ToArray();
        var dists = heap.Distances.ToArray();
        return nodes.Zip(dists).OrderBy(e => e.First).ToArray();
    }
}
