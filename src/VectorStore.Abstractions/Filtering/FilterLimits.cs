namespace VectorStore.Filtering;

/// <summary>
/// Bounds on one filter expression, enforced by the parser, the builder's consumers and the wire decoder alike, so
/// a hostile expression costs bounded memory and stack.
/// </summary>
public static class FilterLimits
{
    /// <summary>Longest expression text, in characters.</summary>
    public const int MaxTextLength = 64 * 1024;

    /// <summary>Deepest nesting of and/or/not/parentheses.</summary>
    public const int MaxDepth = 32;

    /// <summary>Most nodes (comparisons, in-lists, connectives) in one tree.</summary>
    public const int MaxNodes = 4096;

    /// <summary>Most values in one <c>in</c> list.</summary>
    public const int MaxInValues = 4096;
}
