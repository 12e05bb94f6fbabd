using System.Runtime.Intrinsics;
using VectorStore.Distance;
using Xunit;
using Xunit.Abstractions;
using static VectorStore.Tests.Distance.KernelInputs;

namespace VectorStore.Tests.Distance;

/// <summary>
/// Every vectorized kernel against its scalar reference, on lengths that exercise each vector width and every tail.
/// CI runs this class again with AVX-512, AVX2 and all hardware intrinsics disabled, so each fallback path is checked.
/// </summary>
public class DistanceKernelTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Lengths() =>
        new[] { 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 384, 768, 1000, 1536 }.Select(n => new object[] { n });

    [Fact]
    public void ReportsWhichPathsAreActive() =>
        output.WriteLine($"V512={Vector512.IsHardwareAccelerated} V256={Vector256.IsHardwareAccelerated} V128={Vector128.IsHardwareAccelerated}");

    private static sbyte[] RandomSBytes(Random rng, int n, bool extremes = false)
    {
        var a = new sbyte[n];
        for (int i = 0; i < n; i++) a[i] = extremes ? (rng.Next(2) == 0 ? sbyte.MinValue : sbyte.MaxValue) : (sbyte)rng.Next(-128, 128);
        return a;
    }

    private static void AssertClose(float expected, float actual, float magnitude)
    {
        // Float paths sum in a different order than the double-precision reference: allow a relative error of 1e-5
        // of the sum of absolute terms, which bounds any reordering error at these lengths.
        float tol = 1e-5f * Math.Max(1f, magnitude);
        Assert.True(Math.Abs(expected - actual) <= tol, $"expected {expected}, got {actual} (tol {tol})");
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void DotMatchesScalar(int n)
    {
        var rng = new Random(n);
        for (int rep = 0; rep < 20; rep++)
        {
            var a = RandomFloats(rng, n, 3);
            var b = RandomFloats(rng, n, 3);
            float mag = 0;
            for (int i = 0; i < n; i++) mag += Math.Abs(a[i] * b[i]);
            AssertClose(DotProduct.ComputeScalar(a, b), DotProduct.Compute(a, b), mag);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SquaredL2MatchesScalar(int n)
    {
        var rng = new Random(n + 1000);
        for (int rep = 0; rep < 20; rep++)
        {
            var a = RandomFloats(rng, n, 5);
            var b = RandomFloats(rng, n, 5);
            float expected = SquaredL2.ComputeScalar(a, b);
            AssertClose(expected, SquaredL2.Compute(a, b), expected);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void AsymmetricInt8DotMatchesScalar(int n)
    {
        var rng = new Random(n + 2000);
        for (int rep = 0; rep < 20; rep++)
        {
            var q = RandomFloats(rng, n, 2);
            var c = RandomSBytes(rng, n, extremes: rep % 5 == 0);
            float mag = 0;
            for (int i = 0; i < n; i++) mag += Math.Abs(q[i] * c[i]);
            AssertClose(DotProductF32I8.ComputeScalar(q, c), DotProductF32I8.Compute(q, c), mag);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SymmetricInt8KernelsAreExact(int n)
    {
        var rng = new Random(n + 3000);
        for (int rep = 0; rep < 20; rep++)
        {
            bool extremes = rep % 4 == 0;
            var a = RandomSBytes(rng, n, extremes);
            var b = RandomSBytes(rng, n, extremes);
            Assert.Equal(DotProductI8.ComputeScalar(a, b), DotProductI8.Compute(a, b));
            Assert.Equal(SquaredL2I8.ComputeScalar(a, b), SquaredL2I8.Compute(a, b));
        }
    }

    [Fact]
    public void Int8DotDoesNotOverflowAtWorstCase()
    {
        // -128·-128 summed over 4096 dims = 67,108,864: overflows any 8- or 16-bit accumulator.
        var a = Enumerable.Repeat(sbyte.MinValue, 4096).ToArray();
        Assert.Equal(4096 * 128 * 128, DotProductI8.Compute(a, a));
        var b = Enumerable.Repeat(sbyte.MaxValue, 4096).ToArray();
        Assert.Equal(4096 * 255 * 255, SquaredL2I8.Compute(a, b));
    }

    [Fact]
    public void MismatchedLengthsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => DotProduct.Compute(new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => SquaredL2I8.Compute(new sbyte[3], new sbyte[4]));
    }
}
