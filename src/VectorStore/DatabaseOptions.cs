using VectorStore.Collections;
using VectorStore.Storage;

namespace VectorStore;

/// <summary>Settings of a database, with documented defaults.</summary>
public sealed record DatabaseOptions
{
    /// <summary>Worker threads for batch operations; 0 = all cores. Default 0.</summary>
    public int Threads { get; init; }
}
