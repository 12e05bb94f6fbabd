using VectorStore.Clustering;

namespace VectorStore.Quantization;

/// <summary>
/// Finds quantizer and transform factories, trains a full spec, and reads/writes trained codecs with a kind tag.
/// Thread-safe.
/// </summary>
public static class CodecRegistry
{
    /// <summary>
    /// Every quantizer kind, listed explicitly (not discovered by reflection) so trimming and NativeAOT keep them. A
    /// new kind is a new factory class plus one line here.
    /// </summary>
    private static readonly IQuantizerFactory[] s_quantizers =
    [
        new Float32CodecFactory(),
        new ScalarQuantizerFactory(),
        new PqFactory(),
        new BinaryQuantizerFactory(),
        new RotationQuantizerFactory(),
        new HashQuantizerFactory(),
    ];

    /// <summary>Every transform kind (a non-final stage), listed explicitly like <see cref="s_quantizers"/>.</summary>
    private static readonly ITransformFactory[] s_transforms =
    [
        new PcaTransformFactory(),
        new OpqFactory(),
        new PruneTransformFactory(),
        new DistillTransformFactory(),
        new HashTransformFactory(),
    ];

    private static readonly Lazy<(Dictionary<string, IQuantizerFactory> Q, Dictionary<string, ITransformFactory> T)> s_factories = new(Index);

    private static (Dictionary<string, IQuantizerFactory>, Dictionary<string, ITransformFactory>) Index()
    {
        var q = new Dictionary<string, IQuantizerFactory>(StringComparer.Ordinal);
        var t = new Dictionary<string, ITransformFactory>(StringComparer.Ordinal);
        foreach (var f in s_quantizers)
            foreach (var n in f.Names) q.Add(n, f);
        foreach (var f in s_transforms)
            foreach (var n in f.Names) t.Add(n, f);
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
        // A transform named alone lands here too (it parses as the last stage), so the message names both lists.
        if (!q.ContainsKey(spec.Quantizer.Name))
            throw new InvalidArgumentException(
                $"unknown compression '{spec.Quantizer}' in '{spec}' (known: {string.Join(", ", q.Keys.Order())}; " +
                $"transforms that go before one of them with '+': {string.Join(", ", t.Keys.Order())})");
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
        for (var rest = spec; rest.Stages.Count > 1;)
        {
            var stage = rest.Stages[0];
            rest = rest.Rest;
            t[stage.Name].CheckFollower(stage, rest);
            d = t[stage.Name].CheckShape(stage, d);
        }
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
