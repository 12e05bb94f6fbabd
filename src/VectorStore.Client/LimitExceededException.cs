using VectorStore.Protocol;

namespace VectorStore.Client;

/// <summary>A request exceeded a server limit (frame size, batch size, k, dimension, response size). (CLI exit code 1.)</summary>
public sealed class LimitExceededException : InvalidArgumentException
{
    /// <summary>Creates the exception.</summary>
    public LimitExceededException(string message) : base(message) { }
}
