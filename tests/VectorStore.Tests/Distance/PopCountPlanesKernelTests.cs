using VectorStore.Distance;
using Xunit;

namespace VectorStore.Tests.Distance;

/// <summary>
/// The bit-plane popcount kernel of <c>bin</c> codes: every path equals the scalar reference and the bit-by-bit
/// definition exactly, at word counts that exercise the two-word NEON step, its odd tail and its overflow flush.
/// </summary>
public class PopCountPlanesKernelTests
{
    /// <summary>Σ over set bits of the 4-bit level spelled by the planes, one bit at a time.</summary>
    private static (int Weighted, int Ones) Definition(ulong[] bits, ulong[] planes)
    {
        int words = bits.Length, weighted = 0, ones = 0;
        for (int i = 0; i < words * 64; i++)
        {
            if ((bits[i >> 6] >> (i & 63) & 1) == 0) continue;
            ones++;
            for (int j = 0; j < PopCountPlanes.Planes; j++)
                if ((planes[j * words + (i >> 6)] >> (i & 63) & 1) != 0) weighted += 1 << j;
        }
        return (weighted, ones);
    }

    private static ulong[] Random(Random rng, int words, double density)
    {
        var a = new ulong[words];
        for (int w = 0; w < words; w++)
            for (int b = 0; b < 64; b++)
                if (rng.NextDouble() < density) a[w] |= 1UL << b;
        return a;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(513)]
    [InlineData(1100)]
    public void EqualsScalarReferenceAndDefinition(int words)
    {
        var rng = new Random(words + 5);
        foreach (double density in new[] { 0.0, 0.1, 0.5, 1.0 })
        {
            var bits = Random(rng, words, density);
            var planes = Random(rng, PopCountPlanes.Planes * words, density == 0 ? 0.5 : density);
            var (weighted, ones) = Definition(bits, planes);
            Assert.Equal(weighted, PopCountPlanes.ComputeScalar(bits, planes, out int scalarOnes));
            Assert.Equal(ones, scalarOnes);
            Assert.Equal(weighted, PopCountPlanes.Compute(bits, planes, out int simdOnes));
            Assert.Equal(ones, simdOnes);
        }
    }

    [Fact]
    public void AllOnesAtLengthsPastTheFlushDoNotOverflow()
    {
        // Every byte count at its maximum (8 bits, level 15): the uint16 lanes of the NEON path see the largest steps.
        foreach (int words in new[] { 510, 512, 514, 1024, 1025 })
        {
            var bits = Enumerable.Repeat(ulong.MaxValue, words).ToArray();
            var planes = Enumerable.Repeat(ulong.MaxValue, PopCountPlanes.Planes * words).ToArray();
            Assert.Equal(15 * 64 * words, PopCountPlanes.Compute(bits, planes, out int ones));
            Assert.Equal(64 * words, ones);
        }
    }

    [Fact]
    public void ShortPlanesAreRejected() =>
        Assert.Throws<ArgumentException>(() => PopCountPlanes.Compute(new ulong[3], new ulong[11], out _));
}
