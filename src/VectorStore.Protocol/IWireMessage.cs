using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>A message body that knows its exact encoded size, so frames are written in one pass.</summary>
public interface IWireMessage
{
    /// <summary>Payload bytes.</summary>
    int PayloadSize { get; }

    /// <summary>Writes exactly <see cref="PayloadSize"/> bytes.</summary>
    void Write(ref WireWriter w);
}
