using VectorStore.Quantization;

namespace VectorStore.Storage;

/// <summary>
/// Read access to full-precision vectors by slot, wherever they live (in memory or in memory-mapped segments).
/// Thread-safety: reads may run concurrently with each other; callers exclude writers (the collection's locks).
/// </summary>
internal interface IVectorReader : IExactVectors
{
    /// <summary>Values per vector.</summary>
    int Dimension { get; }

    /// <summary>The vector of a stored slot (valid until the next write to the store).</summary>
    ReadOnlySpan<float> Get(int slot);
}
