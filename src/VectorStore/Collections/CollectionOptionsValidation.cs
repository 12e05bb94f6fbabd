using VectorStore.Indexing;
using VectorStore.Quantization;

namespace VectorStore.Collections;

/// <summary>
/// The engine's half of <see cref="CollectionOptions"/> validation: the plain fields are checked by the options
/// themselves, the compression and index specs here, against the registries that will build them. Thread-safe.
/// </summary>
public static class CollectionOptionsValidation
{
    /// <summary>Validates the options and returns the parsed specs; throws <see cref="InvalidArgumentException"/>.</summary>
    public static (CompressionSpec Compression, IndexSpec Index) Validate(this CollectionOptions options)
    {
        options.ValidateShape();
        var c = CompressionSpec.Parse(options.Compression);
        CodecRegistry.Validate(c, options.Dimension);
        var i = IndexSpec.Parse(options.Index);
        IndexRegistry.Get(i).Validate(i);
        if (options.Refine is { } refine)
        {
            var r = CompressionSpec.Parse(refine);
            if (r.Stages.Count != 1 || r.Quantizer.Name is not ("rq" or "sq8"))
                throw new InvalidArgumentException($"refine '{refine}' must be a rotation code rq:B (B = 1..8) or sq8: the second stage needs its per-candidate error bound");
            CodecRegistry.Validate(r, options.Dimension);
        }
        return (c, i);
    }
}
