using VectorStore.Filtering;

namespace VectorStore.Protocol;

/// <summary>
/// The wire form of a <see cref="FilterExpression"/> (data-format.md §5.7): <c>u8 format</c> (1), then the tree in
/// pre-order, one tag byte per node. The decoder enforces <see cref="FilterLimits"/> (depth before descending, node and
/// in-list counts against the limits and the bytes left before allocating) and throws only
/// <see cref="ProtocolException"/>, so hostile bytes cost bounded stack and memory. Stateless, thread-safe.
/// </summary>
public static class FilterCodec
{
    /// <summary>The encoding's format byte.</summary>
    public const byte Format = 1;

    private const byte TagComparison = 1, TagIn = 2, TagContains = 3, TagExists = 4, TagAnd = 5, TagOr = 6, TagNot = 7;

    /// <summary>The smallest node: tag, then a one-byte field name (u16 length + 1).</summary>
    private const int MinNodeBytes = 4;

    /// <summary>The smallest literal: a bool (type + 1).</summary>
    private const int MinValueBytes = 2;

    /// <summary>Encoded size; checks <see cref="FilterLimits.Validate"/> first (throws <see cref="InvalidArgumentException"/>).</summary>
    public static int Size(FilterExpression expression)
    {
        FilterLimits.Validate(expression);
        long size = 1 + NodeSize(expression);
        return size <= int.MaxValue ? (int)size : throw new InvalidArgumentException($"the filter encodes to {size} bytes, too large for one frame");
    }

    private static long NodeSize(FilterExpression e) => 1 + e switch
    {
        ComparisonFilter c => 1 + WireWriter.StrSize(c.Field) + FieldCodec.ValueSize(c.Value),
        InFilter i => WireWriter.StrSize(i.Field) + 2 + i.Values.Sum(v => (long)FieldCodec.ValueSize(v)),
        ContainsFilter c => WireWriter.StrSize(c.Field) + WireWriter.StrSize(c.Tag),
        ExistsFilter x => WireWriter.StrSize(x.Field),
        AndFilter a => 2 + a.Operands.Sum(NodeSize),
        OrFilter o => 2 + o.Operands.Sum(NodeSize),
        NotFilter n => NodeSize(n.Operand),
        _ => throw new InvalidArgumentException($"unknown filter node {e.GetType().Name}"),
    };

    /// <summary>Writes the encoding (call <see cref="Size"/> first: it validates and sizes the buffer).</summary>
    public static void Write(ref WireWriter w, FilterExpression expression)
    {
        w.U8(Format);
        WriteNode(ref w, expression);
    }

    /// <summary>The encoding as a new array.</summary>
    public static byte[] Encode(FilterExpression expression)
    {
        var bytes = new byte[Size(expression)];
        var w = new WireWriter(bytes);
        Write(ref w, expression);
        return bytes;
    }

    private static void WriteNode(ref WireWriter w, FilterExpression e)
    {
        switch (e)
        {
            case ComparisonFilter c:
                w.U8(TagComparison);
                w.U8((byte)c.Operator);
                w.Str(c.Field);
                FieldCodec.WriteValue(ref w, c.Value);
                break;
            case InFilter i:
                w.U8(TagIn);
                w.Str(i.Field);
                w.U16((ushort)i.Values.Count);
                foreach (var v in i.Values) FieldCodec.WriteValue(ref w, v);
                break;
            case ContainsFilter c:
                w.U8(TagContains);
                w.Str(c.Field);
                w.Str(c.Tag);
                break;
            case ExistsFilter x:
                w.U8(TagExists);
                w.Str(x.Field);
                break;
            case AndFilter a:
                w.U8(TagAnd);
                WriteOperands(ref w, a.Operands);
                break;
            case OrFilter o:
                w.U8(TagOr);
                WriteOperands(ref w, o.Operands);
                break;
            case NotFilter n:
                w.U8(TagNot);
                WriteNode(ref w, n.Operand);
                break;
            default:
                throw new InvalidArgumentException($"unknown filter node {e.GetType().Name}");
        }
    }

    private static void WriteOperands(ref WireWriter w, IReadOnlyList<FilterExpression> operands)
    {
        w.U16((ushort)operands.Count);
        foreach (var o in operands) WriteNode(ref w, o);
    }

    /// <summary>Decodes exactly <paramref name="data"/> (trailing bytes are an error); throws <see cref="ProtocolException"/>.</summary>
    public static FilterExpression Decode(ReadOnlySpan<byte> data)
    {
        var r = new WireReader(data);
        byte format = r.U8("filter format");
        if (format != Format) throw new ProtocolException(ErrorCode.BadPayload, $"unknown filter encoding format {format} (this build reads {Format})");
        int nodes = 0;
        FilterExpression e;
        try
        {
            e = ReadNode(ref r, 0, ref nodes);
        }
        catch (InvalidArgumentException ex)
        {
            // Every part is checked before a node is built; this only keeps a missed check from escaping untyped.
            throw new ProtocolException(ErrorCode.BadPayload, $"invalid filter: {ex.Message}");
        }
        r.End();
        return e;
    }

    private static FilterExpression ReadNode(ref WireReader r, int depth, ref int nodes)
    {
        if (++nodes > FilterLimits.MaxNodes)
            throw new ProtocolException(ErrorCode.LimitExceeded, $"the filter has more than {FilterLimits.MaxNodes} nodes");
        byte tag = r.U8("filter node tag");
        switch (tag)
        {
            case TagComparison:
            {
                byte op = r.U8("comparison operator");
                if (op is < (byte)ComparisonOperator.Equal or > (byte)ComparisonOperator.GreaterOrEqual)
                    throw new ProtocolException(ErrorCode.BadPayload, $"unknown comparison operator {op}");
                var field = FieldCodec.ReadName(ref r);
                return new ComparisonFilter(field, (ComparisonOperator)op, Literal(ref r));
            }
            case TagIn:
            {
                var field = FieldCodec.ReadName(ref r);
                int n = r.U16("in-list length");
                if (n == 0) throw new ProtocolException(ErrorCode.BadPayload, "an 'in' list is empty");
                if (n > FilterLimits.MaxInValues)
                    throw new ProtocolException(ErrorCode.LimitExceeded, $"an 'in' list of {n} values exceeds the limit {FilterLimits.MaxInValues}");
                if (n > r.Remaining / MinValueBytes)
                    throw new ProtocolException(ErrorCode.BadPayload, $"payload truncated: an 'in' list announces {n} values, {r.Remaining} bytes left");
                var values = new FieldValue[n];
                for (int i = 0; i < n; i++) values[i] = Literal(ref r);
                return new InFilter(field, values);
            }
            case TagContains:
            {
                var field = FieldCodec.ReadName(ref r);
                return new ContainsFilter(field, r.Str("tag", FieldValue.MaxStringBytes));
            }
            case TagExists:
                return new ExistsFilter(FieldCodec.ReadName(ref r));
            case TagAnd or TagOr:
            {
                RequireDepth(depth);
                int n = r.U16("operand count");
                if (n < 2) throw new ProtocolException(ErrorCode.BadPayload, $"'{(tag == TagAnd ? "and" : "or")}' needs at least two operands, got {n}");
                if (n > FilterLimits.MaxNodes - nodes)
                    throw new ProtocolException(ErrorCode.LimitExceeded, $"the filter has more than {FilterLimits.MaxNodes} nodes");
                if (n > r.Remaining / MinNodeBytes)
                    throw new ProtocolException(ErrorCode.BadPayload, $"payload truncated: {n} operands announced, {r.Remaining} bytes left");
                var operands = new FilterExpression[n];
                for (int i = 0; i < n; i++) operands[i] = ReadNode(ref r, depth + 1, ref nodes);
                return tag == TagAnd ? new AndFilter(operands) : new OrFilter(operands);
            }
            case TagNot:
                RequireDepth(depth);
                return new NotFilter(ReadNode(ref r, depth + 1, ref nodes));
            default:
                throw new ProtocolException(ErrorCode.BadPayload, $"unknown filter node tag {tag}");
        }
    }

    private static void RequireDepth(int depth)
    {
        if (depth + 1 > FilterLimits.MaxDepth)
            throw new ProtocolException(ErrorCode.LimitExceeded, $"the filter nests deeper than {FilterLimits.MaxDepth} levels of and/or/not");
    }

    private static FieldValue Literal(ref WireReader r)
    {
        var v = FieldCodec.ReadValue(ref r, "literal");
        return v.Type != FieldType.Tags ? v : throw new ProtocolException(ErrorCode.BadPayload, "a filter literal cannot be a tag set");
    }
}
