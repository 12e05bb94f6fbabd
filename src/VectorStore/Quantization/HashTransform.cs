using System.Globalization;

namespace VectorStore.Quantization;

/// <summary>
/// Feature hashing of dense vectors (<c>hash:D</c>, <c>hash:D,N</c>): input dimension i is the feature "i", added with
/// a seeded sign to output slot h(i) — the same signed hash <see cref="FeatureHasher"/> applies to sparse keys, so
/// inner products are preserved in expectation. With N, the N dimensions of largest second moment keep dedicated
/// exact slots (the hybrid). Only the seed and the exact-dimension list are stored; the slot tables are rebuilt.
/// Immutable and thread-safe.
/// </summary>
public sealed class HashTransform : VectorTransform, ITransformDiagnostics
{
    private readonly int[] _slots;
    private readonly float[] _signs;
    private readonly int[] _exact;

    internal HashTransform(int inputDimension, int outputDimension, ulong seed, int[] exactDimensions)
    {
        if (outputDimension <= exactDimensions.Length || exactDimensions.Any(e => (uint)e >= (uint)inputDimension))
            throw new InvalidDataException("hash: bad exact-dimension list");
        InputDimension = inputDimension;
        OutputDimension = outputDimension;
        Seed = seed;
        _exact = exactDimensions;
        (_slots, _signs) = FeatureHasher.DenseTables(inputDimension, outputDimension, seed, exactDimensions);
    }

    /// <summary>Seed of the hash.</summary>
    public ulong Seed { get; }

    /// <inheritdoc />
    public override string Kind => "hash";

    /// <inheritdoc />
    public override string Spec => _exact.Length == 0 ? $"hash:{OutputDimension}" : $"hash:{OutputDimension},{_exact.Length}";

    /// <inheritdoc />
    public override int InputDimension { get; }

    /// <inheritdoc />
    public override int OutputDimension { get; }

    /// <inheritdoc />
    public override long ParameterBytes => (long)InputDimension * (sizeof(int) + sizeof(float)) + _exact.Length * sizeof(int);

    /// <summary>Fraction of input dimensions that share their output slot with another input dimension.</summary>
    public double CollisionRate => (double)_slots.GroupBy(s => s).Where(g => g.Count() > 1).Sum(g => g.Count()) / InputDimension;

    /// <inheritdoc />
    public string Diagnostics => string.Create(CultureInfo.InvariantCulture, $"colliding inputs {CollisionRate:F3}");

    /// <inheritdoc />
    public override void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length != InputDimension) throw new InvalidVectorException($"expected dimension {InputDimension}, got {input.Length}");
        output[..OutputDimension].Clear();
        for (int i = 0; i < input.Length; i++) output[_slots[i]] += _signs[i] * input[i];
    }

    /// <inheritdoc />
    public override void Invert(ReadOnlySpan<float> output, Span<float> input)
    {
        // The adjoint: every input reads its slot back (colliding inputs share the slot's value).
        for (int i = 0; i < InputDimension; i++) input[i] = _signs[i] * output[_slots[i]];
    }

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer)
    {
        writer.Write(InputDimension);
        writer.Write(OutputDimension);
        writer.Write(Seed);
        writer.Write(_exact.Length);
        foreach (var e in _exact) writer.Write(e);
    }

    internal static HashTransform ReadParameters(BinaryReader reader)
    {
        int n = reader.ReadInt32();
        int d = reader.ReadInt32();
        ulong seed = reader.ReadUInt64();
        int e = reader.ReadInt32();
        if (n is <= 0 or > 1 << 20 || d is <= 0 or > 1 << 20 || e < 0 || e >= d || e > n) throw new InvalidDataException($"hash: bad header {n} -> {d}, {e} exact");
        var exact = new int[e];
        for (int j = 0; j < e; j++) exact[j] = reader.ReadInt32();
        return new HashTransform(n, d, seed, exact);
    }
}
