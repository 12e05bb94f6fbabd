namespace VectorStore;

/// <summary>A vector has the wrong dimension or holds NaN/Infinity. (CLI exit code 1.)</summary>
public sealed class InvalidVectorException : InvalidArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidVectorException(string message) : base(message) { }
}
