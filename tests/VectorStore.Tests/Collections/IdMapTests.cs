using VectorStore.Collections;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>The compact id map agrees with a <see cref="Dictionary{TKey,TValue}"/> through random adds and removes (growth, shrink, backward-shift deletion).</summary>
public class IdMapTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void AgreesWithADictionaryUnderRandomChurn(int seed)
    {
        var rng = new Random(seed);
        var map = new IdMap();
        var reference = new Dictionary<ulong, int>();
        var free = new Stack<int>();
        int highWater = 0;
        for (int step = 0; step < 60_000; step++)
        {
            // Small id range so removes and re-adds of the same ids (and long probe runs) are common.
            ulong id = (ulong)rng.Next(5_000) * (step % 3 == 0 ? 1UL : 0x1_0000_0001UL);
            if (rng.Next(3) > 0 || step > 40_000 && rng.Next(2) == 0)
            {
                if (reference.ContainsKey(id)) { Assert.False(map.TryAdd(id, 0)); continue; }
                int slot = free.Count > 0 ? free.Pop() : highWater++;
                map.EnsureSlots(slot + 1);
                Assert.True(map.TryAdd(id, slot));
                reference.Add(id, slot);
            }
            else
            {
                Assert.Equal(reference.Remove(id, out int expected), map.Remove(id, out int got));
                if (got >= 0) { Assert.Equal(expected, got); free.Push(got); }
            }
            if (step % 997 == 0)
                foreach (var (k, v) in reference)
                {
                    Assert.True(map.TryGetValue(k, out int s));
                    Assert.Equal(v, s);
                }
            Assert.Equal(reference.Count, map.Count);
        }
        foreach (var k in reference.Keys.ToArray()) Assert.True(map.Remove(k, out _));
        Assert.Equal(0, map.Count);
        Assert.False(map.ContainsKey(0));
    }
}
