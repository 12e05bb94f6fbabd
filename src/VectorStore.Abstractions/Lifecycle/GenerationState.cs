namespace VectorStore.Lifecycle;

/// <summary>Where a compression generation stands.</summary>
public enum GenerationState
{
    /// <summary>Being built, or built and waiting: answers only canary and exposed queries.</summary>
    Candidate = 0,

    /// <summary>Answers the collection's queries. Exactly one generation of a collection is live.</summary>
    Live = 1,

    /// <summary>A former live generation kept (and kept current with writes) so a rollback needs no retraining.</summary>
    Retired = 2,
}
