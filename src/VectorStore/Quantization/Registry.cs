using System.Reflection;

namespace VectorStore.Quantization;

/// <summary>
/// Trains and reads one kind of quantizer (the last stage of a spec). Implementations are discovered by
/// <see cref="CodecRegistry"/> through reflection, so a new kind is a new file: a public parameterless class.
/// </summary>
public interface IQuantizerFactory
{
    /// <summary>Registry names this factory answers to (e.g. <c>pq</c>).</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>Trains a codec for <paramref name="stage"/> on <paramref name="sample"/>.</summary>
    VectorCodec Train(CompressionStage stage, VectorMatrix sample, DistanceKind kind, TrainingContext context);

    /// <summary>Reads parameters written by <see cref="VectorCodec.WriteParameters"/>.</summary>
    VectorCodec Read(string name, BinaryReader reader);

    /// <summary>
    /// Checks <paramref name="stage"/> against the dimension it will see, without data, so a collection whose spec
    /// can never train (<c>pq:129</c> on 128 dimensions) is refused when it is created rather than at its first
    /// training. Throws <see cref="InvalidArgumentException"/>; the default accepts everything.
    /// </summary>
    void CheckShape(CompressionStage stage, int dimension) { }
}

/// <summary>
/// Fits and reads one kind of transform (a non-final stage such as <c>pca:128</c>). Discovered by reflection like
/// <see cref="IQuantizerFactory"/>.
/// </summary>
public interface ITransformFactory
{
    /// <summary>Registry names this factory answers to (e.g. <c>pca</c>).</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>
    /// Fits the transform for <paramref name="stage"/>; <paramref name="rest"/> is the remainder of the spec, for
    /// transforms trained jointly with what follows (OPQ).
    /// </summary>
    VectorTransform Fit(CompressionStage stage, CompressionSpec rest, VectorMatrix sample, DistanceKind kind, TrainingContext context);

    /// <summary>Reads parameters written by <see cref="VectorTransform.WriteParameters"/>.</summary>
    VectorTransform Read(string name, BinaryReader reader);

    /// <summary>
    /// Checks <paramref name="stage"/> against its input dimension without data and returns its output dimension.
    /// Throws <see cref="InvalidArgumentException"/>; the default keeps the dimension.
    /// </summary>
    int CheckShape(CompressionStage stage, int inputDimension) => inputDimension;

    /// <summary>
    /// The shape rule of projections written <c>name:D[,option]</c>: D is a positive integer no larger than the input
    /// (unless <paramref name="mayGrow"/>), and it is the output dimension.
    /// </summary>
    static int ProjectedDimension(CompressionStage stage, int inputDimension, bool mayGrow = false)
    {
        int d = new CompressionStage(stage.Name, stage.Argument.Split(',')[0]).IntArgument("the output dimension");
        if (!mayGrow && d > inputDimension)
            throw new InvalidArgumentException($"compression stage '{stage}': D={d} exceeds the input dimension {inputDimension}");
        return d;
    }
}

/// <summary>Seed, threads and progress reporting shared by every training step.</summary>
public sealed class TrainingContext
{
    /// <summary>Seed of every random choice; the same seed and data give the same codec. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Worker threads; 0 = all cores. Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>Receives (stage, fraction done) while training; may be null.</summary>
    public IProgress<(string Stage, double Fraction)>? Progress { get; init; }

    /// <summary>Receives warnings such as "too few training points per centroid"; may be null.</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>Parallel options honouring <see cref="Threads"/>.</summary>
    public ParallelOptions ParallelOptions => new() { MaxDegreeOfParallelism = Threads > 0 ? Threads : Environment.ProcessorCount };

    /// <summary>Defaults.</summary>
    public static TrainingContext Default { get; } = new();
}

/// <summary>
/// Finds quantizer and transform factories, trains a full spec, and reads/writes trained codecs with a kind tag.
/// Thread-safe.
/// </summary>
public static class CodecRegistry
{
    private static readonly Lazy<(Dictionary<string, IQuantizerFactory> Q, Dictionary<string, ITransformFactory> T)> s_factories = new(Discover);

    private static (Dictionary<string, IQuantizerFactory>, Dictionary<string, ITransformFactory>) Discover()
    {
        var q = new Dictionary<string, IQuantizerFactory>(StringComparer.Ordinal);
        var t = new Dictionary<string, ITransformFactory>(StringComparer.Ordinal);
        foreach (var type in typeof(CodecRegistry).Assembly.GetTypes())
        {
            if (type.IsAbstract || type.IsInterface || type.GetConstructor(Type.EmptyTypes) is null) continue;
            if (typeof(IQuantizerFactory).IsAssignableFrom(type))
            {
                var f = (IQuantizerFactory)Activator.CreateInstance(type)!;
                foreach (var n in f.Names) q.Add(n, f);
            }
            else if (typeof(ITransformFactory).IsAssignableFrom(type))
            {
                var f = (ITransformFactory)Activator.CreateInstance(type)!;
                foreach (var n in f.Names) t.Add(n, f);
            }
        }
        return (q, t);
    }

    /// <summary>Names of every known quantizer.</summary>
    public static IEnumerable<string> QuantizerNames => s_factories.Value.Q.Keys;

    /// <summary>Names of every known transform.</summary>
    public static IEnumerable<string> TransformNames => s_factories.Value.T.Keys;

    /// <summary>Checks that every stage of <paramref name="spec"/> names a known kind in the right position.</summary>
    public static void Validate(CompressionSpec spec)
    {
        var (q, t) = s_factories.Value;
        for (int i = 0; i < spec.Stages.Count - 1; i++)
        {
            if (!t.ContainsKey(spec.Stages[i].Name))
                throw new InvalidArgumentException(
                    $"unknown transform '{spec.Stages[i]}' in compression '{spec}' (known: {string.Join(", ", t.Keys.Order())})");
        }
        if (!q.ContainsKey(spec.Quantizer.Name))
            throw new InvalidArgumentException(
                $"unknown compression '{spec.Quantizer}' in '{spec}' (known: {string.Join(", ", q.Keys.Order())})");
    }

    /// <summary>
    /// Checks that every stage of <paramref name="spec"/> is known and fits the dimension it will see, starting from
    /// <paramref name="dimension"/> (the collection's), so impossible specs fail before any data is written.
    /// </summary>
    public static void Validate(CompressionSpec spec, int dimension)
    {
        Validate(spec);
        var (q, t) = s_factories.Value;
        int d = dimension;
        for (int i = 0; i < spec.Stages.Count - 1; i++) d = t[spec.Stages[i].Name].CheckShape(spec.Stages[i], d);
        q[spec.Quantizer.Name].CheckShape(spec.Quantizer, d);
    }

    /// <summary>Trains every stage of <paramref name="spec"/> on <paramref name="sample"/>.</summary>
    public static VectorCodec Train(CompressionSpec spec, VectorMatrix sample, DistanceKind kind, TrainingContext? context = null)
    {
        context ??= TrainingContext.Default;
        Validate(spec);
        if (spec.Stages.Count == 1)
            return s_factories.Value.Q[spec.Quantizer.Name].Train(spec.Quantizer, sample, kind, context);
        var stage = spec.Stages[0];
        var transform = s_factories.Value.T[stage.Name].Fit(stage, spec.Rest, sample, kind, context);
        var projected = transform.ApplyBatch(sample);
        var inner = Train(spec.Rest, projected, kind, context);
        return new TransformedCodec(transform, inner);
    }

    /// <summary>Writes <paramref name="codec"/> with its kind tag so <see cref="Read"/> can restore it.</summary>
    public static void Write(VectorCodec codec, BinaryWriter writer)
    {
        if (codec is TransformedCodec tc)
        {
            writer.Write("+");
            writer.Write(tc.Transform.Kind);
            tc.Transform.WriteParameters(writer);
            Write(tc.Inner, writer);
            return;
        }
        writer.Write(codec.Kind);
        codec.WriteParameters(writer);
    }

    /// <summary>Reads a codec written by <see cref="Write"/>.</summary>
    public static VectorCodec Read(BinaryReader reader)
    {
        var (q, t) = s_factories.Value;
        string kind = reader.ReadString();
        if (kind == "+")
        {
            string tk = reader.ReadString();
            if (!t.TryGetValue(tk, out var tf)) throw new InvalidDataException($"unknown transform kind '{tk}'");
            var transform = tf.Read(tk, reader);
            return new TransformedCodec(transform, Read(reader));
        }
        if (!q.TryGetValue(kind, out var qf)) throw new InvalidDataException($"unknown codec kind '{kind}'");
        return qf.Read(kind, reader);
    }
}
