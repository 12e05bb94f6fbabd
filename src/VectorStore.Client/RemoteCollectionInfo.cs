using VectorStore.Collections;
using VectorStore.Protocol;

namespace VectorStore.Client;

/// <summary>A collection's options and statistics as reported by the server.</summary>
/// <param name="Options">Options chosen at creation.</param>
/// <param name="Stats">Current sizes and state.</param>
/// <param name="BytesOnDisk">
/// Bytes of the collection's files on the server (0 when it serves an in-memory database); null when the server
/// speaks protocol version 1, which does not report it.
/// </param>
public sealed record RemoteCollectionInfo(CollectionOptions Options, CollectionStats Stats, long? BytesOnDisk = null);
