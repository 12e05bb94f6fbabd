
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

    /// <summary>Resident bytes of codes and index structures, with the refine stage's codes when there is one.</summary>
    public long IndexBytes { get; init; }

    /// <summary>Bytes of full-precision vectors kept for re-ranking (wherever they live).</summary>
    public long RerankBytes { get; init; }

    /// <summary>
    /// Bytes the collection holds in the process's memory, computed from what is allocated (codes and index, the id
    /// map, per-slot locations and flags, payloads, resident or buffered full-precision vectors); excludes the page
    /// cache the operating system keeps for memory-mapped segments. Not a measurement: it leaves out the write-ahead
    /// log's page buffer (up to 8 MiB while writes arrive, little once the collection is quiet) and the runtime's own
    /// overhead, so for a collection with its vectors on disk a process measures 4–8 MB more per collection than this
    /// says (a user pass, 2026-12-07). What a process holds is its anonymous RSS (<c>eval</c>'s
    /// <c>resident_bytes_per_vector</c> measures it).
    /// </summary>
    public long ResidentBytes { get; init; }

    /// <summary>Bytes of the collection's files (segments, snapshot, log); 0 in memory.</summary>
    public long DiskBytes { get; init; }

    /// <summary>Where the full-precision vectors live.</summary>
    public RawVectorResidency RawVectors { get; init; } = RawVectorResidency.Ram;

    /// <summary>The trained codec's spec, or the configured one when untrained.</summary>
    public string Compression { get; init; } = "";

    /// <summary>The index spec.</summary>
    public string Index { get; init; } = "";

    /// <summary>The live compression generation (1 = the one the collection was created with).</summary>
    public int Generation { get; init; } = 1;

    /// <summary>
    /// Why training the live generation's codec and index failed (the collection then answers with exact scans and
    /// retries once it has doubled), or null when it is trained or has not reached its training threshold yet.
    /// </summary>
    public string? TrainingError { get; init; }
}
