namespace VectorStore.Collections;

/// <summary>Where a collection keeps its full-precision vectors (used by re-ranking, <c>get</c> and <c>export</c>).</summary>
public enum RawVectorResidency
{
    /// <summary>
    /// In sealed segment files read through memory mapping: only codes, the index, the id map and one location per
    /// vector stay in the process's memory, and the operating system's page cache decides what else is cached.
    /// Vectors written since the last checkpoint wait in a bounded in-memory buffer. The default for a database
    /// directory; not available in memory.
    /// </summary>
    Disk = 1,

    /// <summary>Every vector is also held in the process's memory (the fastest re-ranking; the in-memory default).</summary>
    Ram = 2,
}
