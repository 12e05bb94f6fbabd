using VectorStore.Threading;
namespace VectorStore.Quantization;

/// <summary>
/// A fitted linear or hashing map applied before quantization (PCA, pruning, OPQ rotation, distillation).
/// Immutable after fitting, so thread-safe.
/// </summary>
public abstract class VectorTransform
{
    /// <summary>
    /// Reads the <c>i32 input, i32 output</c> dimensions that open a projecting transform's parameters, refusing
    /// sizes no build writes (input 1..65536, output 1..input) as <see cref="InvalidDataException"/>.
    /// </summary>
    private protected static (int Input, int Output) ReadDimensions(BinaryReader reader, string kind)
    {
        int n = reader.ReadInt32();
        int d = reader.ReadInt32();
        if (n is <= 0 or > 1 << 16 || d <= 0 || d > n) throw new InvalidDataException($"{kind}: bad dimensions {n} -> {d}");
        return (n, d);
    }

    /// <summary>Registry name (<c>pca</c>, <c>prune</c>, <c>opq</c>, …).</summary>
    public abstract string Kind { get; }

    /// <summary>The stage as it appears in a spec, e.g. <c>pca:128</c>.</summary>
    public abstract string Spec { get; }

    /// <summary>Input dimension.</summary>
    public abstract int InputDimension { get; }

    /// <summary>Output dimension.</summary>
    public abstract int OutputDimension { get; }

    /// <summary>Bytes the fitted parameters occupy in memory.</summary>
    public abstract long ParameterBytes { get; }

    /// <summary>Maps one vector.</summary>
    public abstract void Apply(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>
    /// Maps a query whose result feeds approximate code scores only: a transform may trade a little precision for
    /// speed here (<see cref="OpqTransform"/> does). Encoding and anything compared exactly go through
    /// <see cref="Apply"/>; every code scorer's query goes through this one, including the stored vector an HNSW
    /// insertion searches with (its graph is built from code scores either way).
    /// </summary>
    internal virtual void ApplyToQuery(ReadOnlySpan<float> input, Span<float> output) => Apply(input, output);

    /// <summary>Best-effort inverse (e.g. the transpose for PCA); used by Decode.</summary>
    public abstract void Invert(ReadOnlySpan<float> output, Span<float> input);

    /// <summary>Writes the fitted parameters.</summary>
    public abstract void WriteParameters(BinaryWriter writer);

    /// <summary>Maps every row, in parallel.</summary>
    public VectorMatrix ApplyBatch(VectorMatrix input)
    {
        var output = new VectorMatrix(input.Count, OutputDimension);
        Parallel.For(0, input.Count, EngineParallel.Options(), i => Apply(input.Row(i), output[i]));
        return output;
    }
}
