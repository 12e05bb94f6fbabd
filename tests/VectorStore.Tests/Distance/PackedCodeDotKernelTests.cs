using System.Runtime.Intrinsics;
using VectorStore.Distance;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Tests.Distance;

/// <summary>
/// The packed-code integer dot product (rq's kernel) against its scalar reference, bit-exact, for every code width and
/// lengths that leave every register width a tail. CI reruns this class with AVX-512, AVX2 and all intrinsics off.
/// </summary>
public class PackedCodeDotKernelTests(ITestOutputHelper output)
{
    public static IEnumerable<object[]> Cases() =>
        from bits in new[] { 1, 2, 4, 8 }
        from n in new[] { 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 384, 513, 768, 1000, 1536 }
        select new object[] { bits, n };

    [Fact]
    public void ReportsWhichPathsAreActive() =>
        output.WriteLine($"V512={Vector512.IsHardwareAccelerated} V256={Vector256.IsHardwareAccelerated} V128={Vector128.IsHardwareAccelerated}");

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesScalarReferenceExactly(int bits, int n)
    {
        var rng = new Random(bits * 10_000 + n);
        var values = new byte[n];
        var query = new sbyte[n];
        var packed = new byte[PackedCodeDot.PackedBytes(n, bits)];
        var split = new sbyte[PackedCodeDot.SplitLength(n, bits)];
        for (int rep = 0; rep < 10; rep++)
        {
            bool extremes = rep % 3 == 0;   // all-max codes against ±127/−128 queries: the saturation cases
            for (int i = 0; i < n; i++)
            {
                values[i] = (byte)(extremes ? (1 << bits) - 1 : rng.Next(1 << bits));
                query[i] = extremes ? (rng.Next(2) == 0 ? sbyte.MinValue : sbyte.MaxValue) : (sbyte)rng.Next(-128, 128);
            }
            PackedCodeDot.Pack(values, bits, packed);
            PackedCodeDot.SplitQuery(query, bits, split);
            int expected = 0;
            for (int i = 0; i < n; i++) expected += values[i] * query[i];
            Assert.Equal(expected, PackedCodeDot.ComputeScalar(packed, split, bits));
            Assert.Equal(expected, PackedCodeDot.Compute(packed, split, bits));
        }
    }

    [Theory]
    [InlineData(1, 300)]
    [InlineData(2, 77)]
    [InlineData(4, 384)]
    [InlineData(8, 33)]
    public void PackThenUnpackGivesTheValuesBack(int bits, int n)
    {
        var rng = new Random(n);
        var values = Enumerable.Range(0, n).Select(_ => (byte)rng.Next(1 << bits)).ToArray();
        var packed = new byte[PackedCodeDot.PackedBytes(n, bits)];
        PackedCodeDot.Pack(values, bits, packed);
        var back = new byte[n];
        PackedCodeDot.Unpack(packed, bits, back);
        Assert.Equal(values, back);
    }

    [Fact]
    public void RejectsBadShapes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PackedCodeDot.PackedBytes(10, 3));
        Assert.Throws<ArgumentException>(() => PackedCodeDot.Compute(new byte[17], new sbyte[34], 4));
        Assert.Throws<ArgumentException>(() => PackedCodeDot.Compute(new byte[16], new sbyte[16], 4));
    }
}
