using VectorStore.Distance;
using VectorStore.Indexing;
using VectorStore.Quantization;

namespace VectorStore.Drift;

/// <summary>Per-thread buffers of one vector's probe: the codec's input, its code and the reconstruction.</summary>
internal sealed class ProbeBuffers(int dimension, int codeSize)
{
    public float[] Input { get; } = new float[dimension];
    public byte[] Code { get; } = new byte[codeSize];
    public float[] Decoded { get; } = new float[dimension];
}

/// <summary>What the probe measured for a run of vectors, one entry per vector (sub-codes M per vector).</summary>
internal sealed class ProbeResults(int capacity, int subQuantizers)
{
    public int Capacity { get; } = capacity;
    public int[] Rows { get; } = new int[capacity];
    public double[] Errors { get; } = new double[capacity];
    public int[] Saturated { get; } = new int[capacity];
    public byte[] SubCodes { get; } = new byte[(long)capacity * subQuantizers];
    public int[] Lists { get; } = new int[capacity];
    public float[] Distances { get; } = new float[capacity];

    public long Bytes => Capacity * (4L + 8 + 4 + 4 + 4) + SubCodes.LongLength;
}

/// <summary>
/// Routes and encodes a vector the way the index does (through <see cref="IPartitionedIndex"/> and the codec's
/// optional features, never the codec's bytes) and records what the sensors read from it. Immutable; thread-safe
/// with one <see cref="ProbeBuffers"/> per thread.
/// </summary>
internal sealed class CodeProbe
{
    public CodeProbe(VectorIndex index)
    {
        Codec = index.Codec;
        Dimension = Codec.Dimension;
        Partitioned = index as IPartitionedIndex;
        Saturation = CodecFeatures.Saturation(Codec);
        SubCodebooks = CodecFeatures.SubCodebooks(Codec);
        // An exact codec (none) has no reconstruction error to drift.
        Reconstructs = !Codec.EstimatesAreExact;
    }

    public VectorCodec Codec { get; }
    public int Dimension { get; }
    public IPartitionedIndex? Partitioned { get; }
    public ISaturatingCodec? Saturation { get; }
    public ISubCodebookCodec? SubCodebooks { get; }
    public bool Reconstructs { get; }
    public int SubQuantizers => SubCodebooks?.SubQuantizers ?? 0;
    public int Lists => Partitioned?.Lists ?? 0;
    private bool Encodes => Reconstructs || Saturation is not null || SubCodebooks is not null;

    public ProbeBuffers NewBuffers() => new(Dimension, Codec.CodeSize);

    /// <summary>Measures <paramref name="x"/> into entry <paramref name="slot"/> of <paramref name="results"/>.</summary>
    public void Measure(ReadOnlySpan<float> x, ProbeBuffers buffers, ProbeResults results, int slot)
    {
        ReadOnlySpan<float> input = x;
        if (Partitioned is not null)
        {
            results.Lists[slot] = Partitioned.Route(x, buffers.Input, out float d2);
            results.Distances[slot] = MathF.Sqrt(d2);
            input = buffers.Input;
        }
        if (!Encodes) return;
        Codec.Encode(input, buffers.Code);
        if (Reconstructs)
        {
            Codec.Decode(buffers.Code, buffers.Decoded);
            // Relative to the vector, not to the residual: a residual's own norm shrinks as lists fit better. The
            // norm, not its square: a few clipped coordinates then move the mean less than they move the MSE.
            float norm = DotProduct.Compute(x, x);
            results.Errors[slot] = norm > 0 ? Math.Sqrt(SquaredL2.Compute(input, buffers.Decoded) / (double)norm) : 0;
        }
        if (Saturation is not null) results.Saturated[slot] = Saturation.CountSaturated(buffers.Code);
        if (SubCodebooks is not null)
            SubCodebooks.GetEntries(buffers.Code, results.SubCodes.AsSpan(slot * SubQuantizers, SubQuantizers));
    }
}
