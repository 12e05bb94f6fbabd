using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>
/// Limits a server enforces and announces in its Hello response. Requests beyond them get a
/// <see cref="ErrorCode.LimitExceeded"/> error frame. Immutable, so thread-safe.
/// </summary>
public sealed record ProtocolLimits
{
    /// <summary>Largest frame length prefix accepted (bytes after the prefix). Default 64 MiB.</summary>
    public int MaxFrameBytes { get; init; } = 64 << 20;

    /// <summary>Most vectors, queries or ids in one request. Default 65,536.</summary>
    public int MaxBatch { get; init; } = 65_536;

    /// <summary>Largest k and rerank depth. Default <see cref="SearchOptions.MaxK"/>.</summary>
    public int MaxK { get; init; } = SearchOptions.MaxK;

    /// <summary>Largest vector dimension. Default 65,536.</summary>
    public int MaxDimension { get; init; } = 65_536;

    /// <summary>Requests one connection may have executing at once; further frames wait unread. Default 32.</summary>
    public int MaxInFlight { get; init; } = 32;

    /// <summary>Largest response payload the server will build (a search batch with huge k is refused up front). Default 256 MiB.</summary>
    public int MaxResponseBytes { get; init; } = 256 << 20;

    /// <summary>Size of the limits in a Hello response payload (after the version field).</summary>
    internal const int WireSize = 6 * 4;

    internal void Write(ref WireWriter w)
    {
        w.I32(MaxFrameBytes);
        w.I32(MaxBatch);
        w.I32(MaxK);
        w.I32(MaxDimension);
        w.I32(MaxInFlight);
        w.I32(MaxResponseBytes);
    }

    internal static ProtocolLimits Read(ref WireReader r) => new()
    {
        MaxFrameBytes = Positive(r.I32("maxFrameBytes"), "maxFrameBytes"),
        MaxBatch = Positive(r.I32("maxBatch"), "maxBatch"),
        MaxK = Positive(r.I32("maxK"), "maxK"),
        MaxDimension = Positive(r.I32("maxDimension"), "maxDimension"),
        MaxInFlight = Positive(r.I32("maxInFlight"), "maxInFlight"),
        MaxResponseBytes = Positive(r.I32("maxResponseBytes"), "maxResponseBytes"),
    };

    private static int Positive(int v, string field) =>
        v > 0 ? v : throw new ProtocolException(ErrorCode.BadPayload, $"{field} must be positive, got {v}");
}
