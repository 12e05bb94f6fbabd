namespace VectorStore.Indexing;

/// <summary>A repaired index structure waiting to be swapped in; immutable.</summary>
public abstract class IndexRebalancePlan
{
    /// <summary>A one-line account of what the plan changes (for logs and the CLI).</summary>
    public abstract string Summary { get; }
}
