using VectorStore.Filtering;

namespace VectorStore.Tests.Filtering;

/// <summary>
/// Random filter trees within <see cref="FilterLimits"/>: every node kind, field names that look like keywords,
/// strings with quotes and non-ASCII text, extreme numbers, timestamps, nesting up to the depth limit.
/// </summary>
internal sealed class FilterTreeGenerator(int seed)
{
    private static readonly string[] s_names =
    [
        "kind", "package", "tags", "size", "_x", "a.b-c_9", "and", "or", "not", "in", "contains", "exists", "true",
        "false", "timestamp", "NOT", "Exists", new string('f', FieldDefinition.MaxNameLength),
    ];

    private static readonly string[] s_strings = ["", "lib", "it's", "''", "a b", "ünïcødé ✓", "𝄞 clef", "x\ny\tz", "and", "(", "==", "'", "\\"];

    private readonly Random _rng = new(seed);

    public FilterExpression Tree(int maxDepth = FilterLimits.MaxDepth) => Node(Math.Min(maxDepth, FilterLimits.MaxDepth), 0);

    private FilterExpression Node(int maxDepth, int depth)
    {
        // Connectives get rarer with depth so trees stay small; a thin chain still reaches the depth limit sometimes.
        bool connective = depth < maxDepth && _rng.NextDouble() < (depth < 3 ? 0.6 : 0.3);
        if (!connective) return Leaf();
        switch (_rng.Next(3))
        {
            case 0: return new NotFilter(Node(maxDepth, depth + 1));
            default:
            {
                int n = 2 + _rng.Next(_rng.Next(4) == 0 ? 6 : 2);
                var ops = new FilterExpression[n];
                for (int i = 0; i < n; i++) ops[i] = Node(maxDepth, depth + 1);
                return _rng.Next(2) == 0 ? new AndFilter(ops) : new OrFilter(ops);
            }
        }
    }

    public FilterExpression Leaf()
    {
        string field = Name();
        return _rng.Next(4) switch
        {
            0 => new ComparisonFilter(field, (ComparisonOperator)(1 + _rng.Next(6)), Literal()),
            1 => new InFilter(field, Enumerable.Range(0, 1 + _rng.Next(5)).Select(_ => Literal()).ToArray()),
            2 => new ContainsFilter(field, Str()),
            _ => new ExistsFilter(field),
        };
    }

    public string Name() => s_names[_rng.Next(s_names.Length)];

    private string Str() => s_strings[_rng.Next(s_strings.Length)];

    public FieldValue Literal() => _rng.Next(9) switch
    {
        0 => FieldValue.Keyword(Str()),
        1 => FieldValue.Int(_rng.Next(3) switch { 0 => long.MinValue, 1 => long.MaxValue, _ => _rng.NextInt64(-1000, 1000) }),
        2 => FieldValue.Int(_rng.NextInt64()),
        3 => FieldValue.Double(_rng.Next(4) switch { 0 => double.MaxValue, 1 => -double.Epsilon, 2 => Math.Round(_rng.NextDouble() * 100, 2), _ => RandomFiniteDouble() }),
        4 => FieldValue.Double(_rng.NextDouble() * 1e-300),
        5 => FieldValue.Bool(_rng.Next(2) == 0),
        6 => FieldValue.TimestampMicros(_rng.NextInt64(-62135596800_000000L, 253402300799_999999L)),
        7 => FieldValue.TimestampMicros(_rng.Next(2) == 0 ? long.MinValue : long.MaxValue),
        _ => FieldValue.Keyword(new string('q', _rng.Next(50))),
    };

    private double RandomFiniteDouble()
    {
        while (true)
        {
            double d = BitConverter.Int64BitsToDouble(_rng.NextInt64());
            if (double.IsFinite(d)) return d;
        }
    }
}
