namespace VectorStore.Cluster.Shards;

/// <summary>Where a primary is in copying itself to one learner.</summary>
internal sealed class CopyCursor(long session, bool samplePhase, ulong[] ids)
{
    public long Session { get; } = session;
    public bool SamplePhase { get; set; } = samplePhase;
    public ulong[] Ids { get; set; } = ids;
    public int Position { get; set; }
}
