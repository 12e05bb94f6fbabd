namespace VectorStore.Collections;

/// <summary>What <see cref="IVectorDatabaseClient.GetInfoAsync"/> reports about a collection.</summary>
/// <param name="Options">Options chosen at creation.</param>
/// <param name="Stats">Current sizes and state.</param>
/// <param name="BytesOnDisk">
/// Bytes of the collection's files (0 for an in-memory database); null when a server speaking protocol version 1
/// answered, which does not report it.
/// </param>
public sealed record CollectionInfo(CollectionOptions Options, CollectionStats Stats, long? BytesOnDisk = null);
