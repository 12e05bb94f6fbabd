namespace VectorStore.Cluster.Hosting;

/// <summary>The JSON envelope of one metadata file: format version, ETag counter, the grain's state.</summary>
internal sealed class StateFile<T>
{
    public int Format { get; set; }
    public long ETag { get; set; }
    public T? State { get; set; }
}
