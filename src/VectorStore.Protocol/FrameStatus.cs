using System.Buffers;
using System.Buffers.Binary;

namespace VectorStore.Protocol;

/// <summary>What <see cref="FrameParser.TryRead"/> found at the start of a buffer.</summary>
public enum FrameStatus
{
    /// <summary>A whole frame is available.</summary>
    Complete,

    /// <summary>More bytes are needed (nothing was consumed).</summary>
    Incomplete,
}
