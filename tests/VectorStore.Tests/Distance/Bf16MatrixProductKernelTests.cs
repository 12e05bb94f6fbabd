using VectorStore.Distance;
using VectorStore.Quantization;
using Xunit;
using static VectorStore.Tests.Distance.KernelInputs;

namespace VectorStore.Tests.Distance;

/// <summary>
/// The bfloat16 matrix-times-vector kernel behind a query's OPQ rotation. CI re-runs this class with AVX-512, AVX2 and
/// all hardware intrinsics disabled (and tools/arm64-tests.sh on Arm64), so every tile width, every output tail and the
/// scalar loop are compared with the double-precision reference over the same bfloat16 values.
/// </summary>
public class Bf16MatrixProductKernelTests
{
    public static IEnumerable<object[]> Shapes()
    {
        // Outputs around each tile (8, 16, 32, 64, 128 wide) and inputs from one to a few hundred.
        int[] outputs = [1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 160, 255, 256, 257, 384, 385];
        int[] inputs = [1, 2, 5, 16, 33, 128, 384];
        var shapes = new HashSet<(int Outputs, int Inputs)>();
        for (int i = 0; i < outputs.Length; i++) shapes.Add((outputs[i], inputs[i % inputs.Length]));
        foreach (int n in inputs) { shapes.Add((129, n)); shapes.Add((384, n)); }
        return shapes.Select(s => new object[] { s.Outputs, s.Inputs });
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EqualsTheScalarReferenceWithinRounding(int outputs, int inputs)
    {
        var rng = new Random(outputs * 7919 + inputs);
        for (int rep = 0; rep < 3; rep++)
        {
            var matrix = RandomFloats(rng, outputs * inputs, 3);
            var x = RandomFloats(rng, inputs, 2);
            var packed = Bf16MatrixProduct.Pack(matrix, outputs, inputs);
            var got = new float[outputs + 1];
            got[outputs] = 12345f;
            var reference = new float[outputs];
            Bf16MatrixProduct.Compute(x, packed, outputs, got);
            Bf16MatrixProduct.ComputeScalar(x, packed, outputs, reference);
            Assert.Equal(12345f, got[outputs]); // nothing written past the last output
            for (int i = 0; i < outputs; i++)
            {
                double mag = 0;
                for (int j = 0; j < inputs; j++) mag += Math.Abs(x[j] * Bf16MatrixProduct.FromBf16(packed[j * outputs + i]));
                Assert.True(Math.Abs(reference[i] - got[i]) <= 1e-5 * Math.Max(1, mag), $"output {i}: {got[i]:R} vs reference {reference[i]:R}");
            }
        }
    }

    [Fact]
    public void PackingTransposesAndRoundsToNearestEven()
    {
        // 2 × 3, row-major: A = [[1, 2, 3], [4, 5, 6]]; input-major packing is [1, 4, 2, 5, 3, 6].
        var packed = Bf16MatrixProduct.Pack([1, 2, 3, 4, 5, 6], 2, 3);
        Assert.Equal([1f, 4f, 2f, 5f, 3f, 6f], packed.Select(Bf16MatrixProduct.FromBf16).ToArray());
        // 1 + 2⁻⁸ lies halfway between two bfloat16 values (1 and 1 + 2⁻⁷): ties go to the even one, 1.
        Assert.Equal(1f, Bf16MatrixProduct.FromBf16(Bf16MatrixProduct.ToBf16(1f + MathF.Pow(2, -8))));
        // Just above halfway rounds up; 1 + 3·2⁻⁸ (halfway, odd below) rounds up to the even 1 + 2·2⁻⁷.
        Assert.Equal(1f + MathF.Pow(2, -7), Bf16MatrixProduct.FromBf16(Bf16MatrixProduct.ToBf16(1f + MathF.Pow(2, -8) + MathF.Pow(2, -20))));
        Assert.Equal(1f + 2 * MathF.Pow(2, -7), Bf16MatrixProduct.FromBf16(Bf16MatrixProduct.ToBf16(1f + 3 * MathF.Pow(2, -8))));
        Assert.True(float.IsNaN(Bf16MatrixProduct.FromBf16(Bf16MatrixProduct.ToBf16(float.NaN))));
        Assert.Equal(float.NegativeInfinity, Bf16MatrixProduct.FromBf16(Bf16MatrixProduct.ToBf16(float.NegativeInfinity)));
        // Every entry within 2⁻⁸ relative of its float32 value.
        var rng = new Random(3);
        foreach (var v in RandomFloats(rng, 10_000, 100))
            Assert.True(Math.Abs(Bf16MatrixProduct.FromBf16(Bf16MatrixProduct.ToBf16(v)) - v) <= Math.Abs(v) * Math.Pow(2, -8), $"{v:R}");
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        Assert.Throws<ArgumentException>(() => Bf16MatrixProduct.Pack(new float[5], 2, 3));
        var packed = Bf16MatrixProduct.Pack(new float[6], 2, 3);
        Assert.Throws<ArgumentException>(() => Bf16MatrixProduct.Compute(new float[2], packed, 2, new float[2]));
        Assert.Throws<ArgumentException>(() => Bf16MatrixProduct.Compute(new float[3], packed, 2, new float[1]));
        Assert.Throws<ArgumentException>(() => Bf16MatrixProduct.Compute(new float[3], packed, 3, new float[3]));
    }

    [Fact]
    public void AQueryRotationStaysWithinTheBfloat16BoundOfTheExactOne()
    {
        // An orthogonal rotation of unit vectors, as opq+pq trains: the query path's outputs differ from the float32
        // rotation by at most 2⁻⁸ of Σ|x_j·R_ij| (each entry's relative rounding), and stored vectors keep the exact one.
        const int d = 96;
        var rotation = BinaryQuantizer.RandomRotation(d, seed: 11);
        var opq = new OpqTransform(d, rotation);
        var rng = new Random(5);
        for (int rep = 0; rep < 20; rep++)
        {
            var x = RandomFloats(rng, d, 1);
            float norm = MathF.Sqrt(x.Sum(v => v * v));
            for (int j = 0; j < d; j++) x[j] /= norm;
            var exact = new float[d];
            var query = new float[d];
            opq.Apply(x, exact);
            opq.ApplyToQuery(x, query);
            for (int i = 0; i < d; i++)
            {
                Assert.Equal(DotProduct.Compute(rotation.AsSpan(i * d, d), x), exact[i]); // stored vectors: unchanged kernel
                double bound = 0;
                for (int j = 0; j < d; j++) bound += Math.Abs(x[j] * rotation[i * d + j]);
                Assert.True(Math.Abs(query[i] - exact[i]) <= bound * Math.Pow(2, -8) + 1e-6, $"output {i}: {query[i]:R} vs {exact[i]:R}");
            }
        }
    }
}
