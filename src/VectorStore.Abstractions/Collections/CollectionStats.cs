
namespace VectorStore.Collections;

/// <summary>Sizes and state of a collection.</summary>
public sealed record CollectionStats
{
    /// <summary>Live vectors.</summary>
    public int Count { get; init; }

    /// <summary>Dimension.</summary>
    public int Dimension { get; init; }

    /// <summary>Whether the codec and index have been trained.</summary>
    public bool Trained { get; init; }

    /// <summary>Bytes per code.</summary>
    public int CodeSize { get; init; }

    /// <summary>Resident bytes of codes and index structures.</summary>
    public long IndexBytes { get; init; }

    /// <summary>Bytes of full-precision vectors kept for re-ranking.</summary>
    public long RerankBytes { get; init; }

    /// <summary>The trained codec's spec, or the configured one when untrained.</summary>
    public string Compression { get; init; } = "";

    /// <summary>The index spec.</summary>
    public string Index { get; init; } = "";
}
