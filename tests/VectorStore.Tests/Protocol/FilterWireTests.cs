using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Protocol;
using VectorStore.Tests.Filtering;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>Field values, field sets and filter trees on the wire (data-format.md §5.7): round trips and hostile bytes.</summary>
public class FilterWireTests
{
    /// <summary>Decodes, expecting success or a <see cref="ProtocolException"/>; anything else fails the test.</summary>
    private static FilterExpression? TryDecode(byte[] bytes)
    {
        try
        {
            return FilterCodec.Decode(bytes);
        }
        catch (ProtocolException)
        {
            return null;
        }
    }

    [Fact]
    public void GeneratedTreesRoundTrip()
    {
        for (int seed = 0; seed < 3000; seed++)
        {
            var tree = new FilterTreeGenerator(seed).Tree(seed % 10 == 0 ? FilterLimits.MaxDepth : 6);
            var bytes = FilterCodec.Encode(tree);
            Assert.Equal(FilterCodec.Size(tree), bytes.Length);
            Assert.Equal(FilterCodec.Format, bytes[0]);
            var decoded = FilterCodec.Decode(bytes);
            Assert.True(tree.Equals(decoded), $"seed {seed}: {tree} decoded as {decoded}");
        }
    }

    [Fact]
    public void ParsedTextSurvivesTheWire()
    {
        var f = FilterParser.Parse("kind == 'lib' and (size >= 10 or not exists(size)) and tags contains 'python3-' and n in (1, 2.5, true, 'x')");
        Assert.Equal(f, FilterCodec.Decode(FilterCodec.Encode(f)));
    }

    [Fact]
    public void EveryFieldValueTypeRoundTrips()
    {
        var values = new[]
        {
            FieldValue.Keyword(""), FieldValue.Keyword("ünï 'q'"), FieldValue.Tags("a", "b", "a"), FieldValue.Tags(), FieldValue.Int(long.MinValue),
            FieldValue.Int(42), FieldValue.Double(-0.0), FieldValue.Double(double.MaxValue), FieldValue.Double(double.Epsilon), FieldValue.Bool(true),
            FieldValue.Bool(false), FieldValue.TimestampMicros(long.MaxValue), FieldValue.Timestamp(DateTimeOffset.UnixEpoch),
        };
        foreach (var v in values)
        {
            var bytes = new byte[FieldCodec.ValueSize(v)];
            var w = new WireWriter(bytes);
            FieldCodec.WriteValue(ref w, v);
            Assert.Equal(bytes.Length, w.Written);
            var r = new WireReader(bytes);
            Assert.Equal(v, FieldCodec.ReadValue(ref r, "v"));
            r.End();
        }
        Assert.Throws<InvalidArgumentException>(() => FieldCodec.ValueSize(default));
    }

    [Fact]
    public void EveryTruncationAndByteFlipGivesOnlyTheTypedError()
    {
        var rng = new Random(7);
        for (int seed = 0; seed < 300; seed++)
        {
            var bytes = FilterCodec.Encode(new FilterTreeGenerator(seed).Tree(8));
            for (int len = 0; len < bytes.Length; len++)
                Assert.Null(TryDecode(bytes[..len]));
            for (int i = 0; i < 200; i++)
            {
                var copy = (byte[])bytes.Clone();
                int flips = 1 + rng.Next(3);
                for (int f = 0; f < flips; f++) copy[rng.Next(copy.Length)] ^= (byte)(1 + rng.Next(255));
                var decoded = TryDecode(copy);
                // A flip that still decodes must give a valid tree (it encodes and decodes to itself).
                if (decoded is not null) Assert.Equal(decoded, FilterCodec.Decode(FilterCodec.Encode(decoded)));
            }
            Assert.Null(TryDecode([.. bytes, 0]));
        }
    }

    [Fact]
    public void HostileEncodingsAreRefusedBeforeTheyCostStackOrMemory()
    {
        // 100k nested 'not': refused at depth 33, long before the stack.
        var deep = new byte[100_001];
        deep[0] = FilterCodec.Format;
        deep.AsSpan(1).Fill(7);
        var e = Assert.Throws<ProtocolException>(() => FilterCodec.Decode(deep));
        Assert.Equal(ErrorCode.LimitExceeded, e.Code);
        Assert.Contains("deeper than 32", e.Message, StringComparison.Ordinal);

        // An 'and' announcing 4000 operands in 10 bytes: refused before allocating them.
        e = Assert.Throws<ProtocolException>(() => FilterCodec.Decode([FilterCodec.Format, 5, 0xA0, 0x0F, 4, 1, 0, (byte)'a', 4, 1]));
        Assert.Equal(ErrorCode.BadPayload, e.Code);
        Assert.Contains("4000 operands announced", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<ProtocolException>(() => FilterCodec.Decode([FilterCodec.Format, 5, 0xFF, 0xFF, 4, 1, 0, (byte)'a']));
        Assert.Equal(ErrorCode.LimitExceeded, e.Code);

        // An 'in' list over the limit, and one announcing more values than bytes.
        e = Assert.Throws<ProtocolException>(() => FilterCodec.Decode([FilterCodec.Format, 2, 1, 0, (byte)'a', 0x01, 0x10]));
        Assert.Equal(ErrorCode.LimitExceeded, e.Code);
        e = Assert.Throws<ProtocolException>(() => FilterCodec.Decode([FilterCodec.Format, 2, 1, 0, (byte)'a', 0x00, 0x10, 5, 1]));
        Assert.Contains("announces 4096 values", e.Message, StringComparison.Ordinal);

        // Semantics the parser would refuse are refused here too.
        foreach (var bad in new byte[][]
        {
            [2, 4, 1, 0, (byte)'a'],                               // unknown format
            [FilterCodec.Format, 9],                               // unknown tag
            [FilterCodec.Format, 4, 1, 0, (byte)'1'],              // invalid field name
            [FilterCodec.Format, 1, 0, 1, 0, (byte)'a', 5, 1],     // operator 0
            [FilterCodec.Format, 1, 1, 1, 0, (byte)'a', 9, 1],     // unknown value type
            [FilterCodec.Format, 1, 1, 1, 0, (byte)'a', 5, 2],     // bool 2
            [FilterCodec.Format, 1, 1, 1, 0, (byte)'a', 2, 0, 0],  // tag-set literal
            [FilterCodec.Format, 1, 1, 1, 0, (byte)'a', 4, 0, 0, 0, 0, 0, 0, 0xF8, 0x7F], // NaN
            [FilterCodec.Format, 2, 1, 0, (byte)'a', 0, 0],        // empty in-list
            [FilterCodec.Format, 5, 1, 0, 4, 1, 0, (byte)'a'],     // one-operand and
            [FilterCodec.Format, 3, 1, 0, (byte)'a', 1, 0, 0xFF],  // invalid UTF-8 tag
        })
            Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => FilterCodec.Decode(bad)).Code);

        // A keyword literal over 1024 bytes.
        var longKeyword = new byte[] { FilterCodec.Format, 1, 1, 1, 0, (byte)'a', 1, 0x01, 0x04 }.Concat(new byte[1025]).ToArray();
        Assert.Equal(ErrorCode.LimitExceeded, Assert.Throws<ProtocolException>(() => FilterCodec.Decode(longKeyword)).Code);
    }

    [Fact]
    public void TheEncoderRefusesTreesBeyondTheLimits()
    {
        FilterExpression deep = Filter.Exists("a");
        for (int i = 0; i <= FilterLimits.MaxDepth; i++) deep = new NotFilter(deep);
        Assert.Throws<InvalidArgumentException>(() => FilterCodec.Encode(deep));
    }

    [Fact]
    public void FieldSetsAndDeclarationsRoundTripAndRefuseDuplicates()
    {
        var set = new Dictionary<string, FieldValue> { ["kind"] = "lib", ["tags"] = FieldValue.Tags("x", "y"), ["n"] = 3L, ["ok"] = true };
        var bytes = new byte[FieldCodec.FieldSetSize(set)];
        var w = new WireWriter(bytes);
        FieldCodec.WriteFieldSet(ref w, set);
        var r = new WireReader(bytes);
        Assert.Equal(set.OrderBy(p => p.Key), FieldCodec.ReadFieldSet(ref r).OrderBy(p => p.Key));

        byte[] dup = [2, 0, 1, 0, (byte)'a', 3, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, (byte)'a', 5, 1];
        Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => { var rr = new WireReader(dup); FieldCodec.ReadFieldSet(ref rr); }).Code);

        FieldDefinition[] defs = [new("kind", FieldType.Keyword), new("ts", FieldType.Timestamp)];
        bytes = new byte[FieldCodec.DefinitionsSize(defs)];
        w = new WireWriter(bytes);
        FieldCodec.WriteDefinitions(ref w, defs);
        r = new WireReader(bytes);
        Assert.Equal(defs, FieldCodec.ReadDefinitions(ref r));
        byte[] badType = [1, 0, 1, 0, (byte)'a', 7];
        Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => { var rr = new WireReader(badType); FieldCodec.ReadDefinitions(ref rr); }).Code);
    }
}
