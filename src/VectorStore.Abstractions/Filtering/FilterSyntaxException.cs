namespace VectorStore.Filtering;

/// <summary>
/// Filter text that does not parse, or exceeds <see cref="FilterLimits"/>: the message names the position and what
/// was expected there. An <see cref="InvalidArgumentException"/>, so every interface reports it as a bad argument.
/// </summary>
public sealed class FilterSyntaxException : InvalidArgumentException
{
    /// <summary>Creates the exception; the message is prefixed with the position.</summary>
    public FilterSyntaxException(int position, string detail)
        : base($"filter syntax error at position {position}: {detail}")
    {
        Position = position;
        Detail = detail;
    }

    /// <summary>0-based character offset in the filter text where the error was found.</summary>
    public int Position { get; }

    /// <summary>The message without the position prefix.</summary>
    public string Detail { get; }
}
