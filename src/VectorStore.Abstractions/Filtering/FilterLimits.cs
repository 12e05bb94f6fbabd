namespace VectorStore.Filtering;

/// <summary>
/// Bounds on one filter expression, enforced by the parser, the builder's consumers and the wire decoder alike, so
/// a hostile expression costs bounded memory and stack.
/// </summary>
public static class FilterLimits
{
    /// <summary>Longest expression text, in characters.</summary>
    public const int MaxTextLength = 64 * 1024;

    /// <summary>
    /// Deepest nesting of and/or/not/parentheses. In a tree: the most and/or/not nodes on one path from the root
    /// (a lone comparison has depth 0), which is exactly the nesting of its <see cref="FilterExpression.ToString"/>.
    /// </summary>
    public const int MaxDepth = 32;

    /// <summary>Most nodes (comparisons, in-lists, connectives) in one tree.</summary>
    public const int MaxNodes = 4096;

    /// <summary>Most values in one <c>in</c> list.</summary>
    public const int MaxInValues = 4096;

    /// <summary>
    /// Checks the whole-tree bounds (<see cref="MaxDepth"/>, <see cref="MaxNodes"/>) of <paramref name="expression"/>
    /// and throws <see cref="InvalidArgumentException"/> naming the one exceeded. Iterative, so even a tree built far
    /// beyond the limits in code is refused without deep recursion; stops at the first excess.
    /// </summary>
    public static void Validate(FilterExpression expression)
    {
        if (expression is null) throw new InvalidArgumentException("the filter expression is null");
        var stack = new Stack<(FilterExpression Node, int Depth)>();
        stack.Push((expression, 0));
        int nodes = 0;
        while (stack.Count > 0)
        {
            var (node, depth) = stack.Pop();
            if (++nodes > MaxNodes) throw new InvalidArgumentException($"the filter has more than {MaxNodes} nodes");
            IReadOnlyList<FilterExpression>? children = node switch
            {
                AndFilter a => a.Operands,
                OrFilter o => o.Operands,
                NotFilter n => [n.Operand],
                _ => null,
            };
            if (children is null) continue;
            if (depth + 1 > MaxDepth) throw new InvalidArgumentException($"the filter nests deeper than {MaxDepth} levels of and/or/not");
            // Counted before pushing, so a million-operand 'and' is refused without a million-entry stack.
            if ((long)nodes + stack.Count + children.Count > MaxNodes) throw new InvalidArgumentException($"the filter has more than {MaxNodes} nodes");
            foreach (var child in children) stack.Push((child, depth + 1));
        }
    }
}
