using VectorStore.Quantization;

namespace VectorStore.Indexing;

/// <summary>Per-query knobs an index may honour; unset values take the index's defaults.</summary>
public readonly record struct IndexSearchParameters
{
    /// <summary>HNSW beam width (ignored by other indexes). 0 = index default.</summary>
    public int Ef { get; init; }

    /// <summary>IVF lists probed (ignored by other indexes). 0 = index default.</summary>
    public int NProbe { get; init; }

    /// <summary>
    /// IVF: when the <see cref="NProbe"/> nearest lists yield fewer candidates than this, further lists are scanned,
    /// nearest first, until they do or every list is scanned (ignored by other indexes, whose searches are not bounded
    /// by a list count). The search pipeline sets it to k, so a collection with at least k vectors never answers with
    /// fewer hits (most of it deleted, or a few vectors over many lists). 0 = never.
    /// </summary>
    public int MinResults { get; init; }
}
