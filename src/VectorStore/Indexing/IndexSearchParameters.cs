using VectorStore.Quantization;

namespace VectorStore.Indexing;

/// <summary>Per-query knobs an index may honour; unset values take the index's defaults.</summary>
public readonly record struct IndexSearchParameters
{
    /// <summary>HNSW beam width (ignored by other indexes). 0 = index default.</summary>
    public int Ef { get; init; }

    /// <summary>IVF lists probed (ignored by other indexes). 0 = index default.</summary>
    public int NProbe { get; init; }
}
