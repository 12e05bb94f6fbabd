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
        return (c, i);
    }
}
