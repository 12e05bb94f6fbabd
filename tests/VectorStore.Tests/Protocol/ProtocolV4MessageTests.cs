using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Protocol;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>The version-4 layouts (data-format.md §5.5, §5.7) next to version 3: round trips, refusals, hostile bytes.</summary>
public class ProtocolV4MessageTests
{
    private static readonly ProtocolLimits s_limits = new();

    private static readonly FieldDefinition[] s_defs = [new("kind", FieldType.Keyword), new("tags", FieldType.Tags), new("size", FieldType.Int)];

    private static readonly IReadOnlyDictionary<string, FieldValue>?[] s_fields =
    [
        new Dictionary<string, FieldValue> { ["kind"] = "lib", ["tags"] = FieldValue.Tags("python3-", "x"), ["size"] = 10L },
        null,
        new Dictionary<string, FieldValue>(),
    ];

    internal static byte[] Bytes(IWireMessage m)
    {
        var b = new byte[m.PayloadSize];
        var w = new WireWriter(b);
        m.Write(ref w);
        Assert.Equal(b.Length, w.Written);
        return b;
    }

    private static SearchOptions WhereOptions() => new()
    {
        K = 7,
        Filter = new SearchFilter { Ids = new HashSet<ulong> { 1, 2 }, Where = FilterParser.Parse("kind == 'lib' and not size > 3") },
        IncludeFields = true,
        IncludeVector = true,
    };

    [Fact]
    public void CollectionOptionsCarryFieldsFromVersion4()
    {
        var options = new CollectionOptions { Dimension = 8, Fields = s_defs };
        var back = CreateCollectionRequest.Read(Bytes(new CreateCollectionRequest("c", options, 4)), 4);
        Assert.Equal(s_defs, back.Options.Fields);
        Assert.Null(CreateCollectionRequest.Read(Bytes(new CreateCollectionRequest("c", options with { Fields = null }, 4)), 4).Options.Fields);

        var e = Assert.Throws<InvalidArgumentException>(() => new CreateCollectionRequest("c", options, 3).PayloadSize);
        Assert.Contains("protocol version 3, which cannot declare fields", e.Message, StringComparison.Ordinal);
        // Version 4 adds an empty field list (u16) and an empty refine spec (str16) to the version-3 layout.
        Assert.Equal(Bytes(new CreateCollectionRequest("c", options with { Fields = null }, 4)).Length - 4,
            Bytes(new CreateCollectionRequest("c", options with { Fields = null }, 3)).Length);
        var refined = CreateCollectionRequest.Read(Bytes(new CreateCollectionRequest("c", options with { Refine = "rq:4" }, 4)), 4).Options;
        Assert.Equal("rq:4", refined.Refine);
        Assert.Contains("cannot declare a refine stage", Assert.Throws<InvalidArgumentException>(() =>
            new CreateCollectionRequest("c", options with { Fields = null, Refine = "rq:4" }, 3).PayloadSize).Message, StringComparison.Ordinal);

        var stats = new CollectionStats { Count = 1, Dimension = 8, Compression = "none", Index = "flat" };
        Assert.Equal(s_defs, InfoResponse.Read(Bytes(new InfoResponse(options, stats, 0, 4)), 4).Options.Fields);
        // An older client cannot know fields: its Info layout leaves them out instead of failing.
        Assert.Null(InfoResponse.Read(Bytes(new InfoResponse(options, stats, 0, 3)), 3).Options.Fields);
    }

    [Fact]
    public void UpsertBatchCarriesFieldValuesFromVersion4()
    {
        var vectors = new VectorMatrix(new float[3 * 2], 2);
        var request = new UpsertBatchRequest("c", [1, 2, 3], vectors, null, s_fields, 4);
        var back = UpsertBatchRequest.Read(Bytes(request), s_limits, 4);
        Assert.NotNull(back.Fields);
        Assert.Equal(s_fields[0]!.OrderBy(p => p.Key), back.Fields![0]!.OrderBy(p => p.Key));
        Assert.Empty(back.Fields[1]!);
        Assert.Empty(back.Fields[2]!);
        Assert.True(back.HasFieldValues);

        Assert.Null(UpsertBatchRequest.Read(Bytes(new UpsertBatchRequest("c", [1, 2, 3], vectors, null, null, 4)), s_limits, 4).Fields);
        var e = Assert.Throws<InvalidArgumentException>(() => new UpsertBatchRequest("c", [1, 2, 3], vectors, null, s_fields, 3).PayloadSize);
        Assert.Contains("cannot carry field values", e.Message, StringComparison.Ordinal);
        // No values at all travel over version 3 in the version-3 layout (one byte shorter: no hasFields).
        var v3 = Bytes(new UpsertBatchRequest("c", [1, 2, 3], vectors, null, [null, null, null], 3));
        Assert.Equal(Bytes(new UpsertBatchRequest("c", [1, 2, 3], vectors, null, null, 4)).Length - 1, v3.Length);
        Assert.Null(UpsertBatchRequest.Read(v3, s_limits, 3).Fields);
        Assert.Throws<ProtocolException>(() => UpsertBatchRequest.Read(v3, s_limits, 4));
    }

    [Fact]
    public void SearchRequestCarriesWhereAndIncludeFlagsFromVersion4()
    {
        var q = new VectorMatrix([1f, 2f], 2);
        var options = WhereOptions();
        var back = SearchRequest.Read(Bytes(new SearchRequest("c", options, q, 4)), s_limits, 4);
        Assert.Equal(options.Filter!.Where, back.Options.Filter!.Where);
        Assert.Equal(options.Filter.Ids, back.Options.Filter.Ids);
        Assert.True(back.Options.IncludeFields);
        Assert.False(back.Options.IncludePayload);
        Assert.True(back.Options.IncludeVector);
        var single = SearchRequest.ReadSingle(Bytes(new SearchRequest("c", options, q, 4)), s_limits, out _, out var singleOptions, 4);
        Assert.Equal(2, single.Length);
        Assert.Equal(options.Filter.Where, singleOptions.Filter!.Where);

        var whereOnly = new SearchOptions { Filter = new SearchFilter { Where = Filter.Exists("kind") } };
        var w = SearchRequest.Read(Bytes(new SearchRequest("c", whereOnly, q, 4)), s_limits, 4).Options.Filter!;
        Assert.Null(w.Ids);
        Assert.Equal(Filter.Exists("kind"), w.Where);

        Assert.Contains("cannot carry a field filter", Assert.Throws<InvalidArgumentException>(() => new SearchRequest("c", whereOnly, q, 3).PayloadSize).Message, StringComparison.Ordinal);
        Assert.Contains("cannot return fields", Assert.Throws<InvalidArgumentException>(() => new SearchRequest("c", new SearchOptions { IncludePayload = true }, q, 3).PayloadSize).Message, StringComparison.Ordinal);
        var plain = new SearchRequest("c", new SearchOptions(), q, 3);
        Assert.Equal(Bytes(new SearchRequest("c", new SearchOptions(), q, 4)).Length - 5, Bytes(plain).Length);

        var bad = Bytes(new SearchRequest("c", new SearchOptions(), q, 4));
        int includeAt = bad.Length - 8 - 8 - 1;
        bad[includeAt] = 8;
        Assert.Contains("unknown include bits", Assert.Throws<ProtocolException>(() => SearchRequest.Read(bad, s_limits, 4)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SearchResponseCarriesHitPartsFromVersion4()
    {
        var withParts = new SearchHit(5, 0.5f) { Fields = s_fields[0], Payload = [1, 2, 3], Vector = [1f, -1f] };
        var bare = new SearchHit(6, 0.75f);
        var fieldsOnly = new SearchHit(7, 1f) { Fields = VectorRecord.EmptyFields };
        SearchHit[][] results = [[withParts, bare], [], [fieldsOnly]];
        var back = SearchResponse.Read(Bytes(new SearchResponse(results, 4)), 4).Results;
        Assert.Equal(s_fields[0]!.OrderBy(p => p.Key), back[0][0].Fields!.OrderBy(p => p.Key));
        Assert.Equal(withParts.Payload, back[0][0].Payload);
        Assert.Equal(withParts.Vector, back[0][0].Vector);
        Assert.Equal(bare, back[0][1]);
        Assert.Empty(back[1]);
        Assert.Empty(back[2][0].Fields!);
        Assert.Null(back[2][0].Payload);

        // Without parts a version-4 response is the version-3 one plus a zero byte; version 3 never writes parts.
        SearchHit[][] plain = [[bare]];
        Assert.Equal(Bytes(new SearchResponse(plain, 3)).Length + 1, Bytes(new SearchResponse(plain, 4)).Length);
        var v3 = SearchResponse.Read(Bytes(new SearchResponse(results, 3)), 3).Results;
        Assert.Null(v3[0][0].Fields);
        Assert.Equal(5ul, v3[0][0].Id);
        Assert.Equal(SearchResponse.SizeOf(results, 4), Bytes(new SearchResponse(results, 4)).Length);
    }

    [Fact]
    public void GetResponseCarriesFieldValuesFromVersion4()
    {
        var records = new VectorRecord?[] { new(1, [1f, 2f], [9]) { Fields = s_fields[0]! }, null, new(3, [3f, 4f], []) };
        var back = GetResponse.Read(Bytes(new GetResponse(2, records, 4)), [1, 2, 3], 4).Records;
        Assert.Equal(s_fields[0]!.OrderBy(p => p.Key), back[0]!.Fields.OrderBy(p => p.Key));
        Assert.Null(back[1]);
        Assert.Empty(back[2]!.Fields);
        var v3 = GetResponse.Read(Bytes(new GetResponse(2, records, 3)), [1, 2, 3], 3).Records;
        Assert.Empty(v3[0]!.Fields);
        Assert.Equal(records[0]!.Payload, v3[0]!.Payload);
    }

    /// <summary>Every v4 request and response the fuzzer also gets: every truncation and random flips decode or throw ProtocolException only.</summary>
    [Fact]
    public void TruncatedAndFlippedVersion4FramesGiveOnlyTheTypedError()
    {
        var q = new VectorMatrix([1f, 2f], 2);
        var records = new VectorRecord?[] { new(1, [1f, 2f], [9]) { Fields = s_fields[0]! }, null };
        var cases = new (byte[] Bytes, Action<byte[]> Decode)[]
        {
            (Bytes(new CreateCollectionRequest("c", new CollectionOptions { Dimension = 2, Fields = s_defs }, 4)), b => CreateCollectionRequest.Read(b, 4)),
            (Bytes(new UpsertBatchRequest("c", [1, 2, 3], new VectorMatrix(new float[6], 2), [null, [1], null], s_fields, 4)), b => UpsertBatchRequest.Read(b, s_limits, 4)),
            (Bytes(new SearchRequest("c", WhereOptions(), q, 4)), b => SearchRequest.Read(b, s_limits, 4)),
            (Bytes(new SearchResponse([[new SearchHit(5, 0.5f) { Fields = s_fields[0], Payload = [1], Vector = [1f] }]], 4)), b => SearchResponse.Read(b, 4)),
            (Bytes(new GetResponse(2, records, 4)), b => GetResponse.Read(b, [1, 2], 4)),
            (Bytes(new InfoResponse(new CollectionOptions { Dimension = 2, Fields = s_defs }, new CollectionStats { Compression = "none", Index = "flat" }, 0, 4)), b => InfoResponse.Read(b, 4)),
        };
        var rng = new Random(11);
        foreach (var (bytes, decode) in cases)
        {
            decode(bytes);
            for (int len = 0; len < bytes.Length; len++)
                Assert.Throws<ProtocolException>(() => decode(bytes[..len]));
            for (int i = 0; i < 2000; i++)
            {
                var copy = (byte[])bytes.Clone();
                copy[rng.Next(copy.Length)] ^= (byte)(1 + rng.Next(255));
                try
                {
                    decode(copy);
                }
                catch (ProtocolException)
                {
                }
            }
        }
    }
}
