using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Protocol;
using VectorStore.Tests.Filtering;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// Protocol version 6 (data-format.md §5.5): ListIds carries a field filter. The layout round-trips in both versions,
/// a filter cannot be written in version 5 (refused before sending, never dropped), a hostile filter is a typed error
/// on a connection that survives, the client pages through exactly the engine's matches, and an older server keeps
/// serving unfiltered listings.
/// </summary>
public class ProtocolV6FilteredListTests
{
    private static readonly FilterExpression s_where = Filter.And(Filter.Eq("kind", "lib"), Filter.Gt("size", 3L));

    private static byte[] Encode(IWireMessage message) => ProtocolV4MessageTests.Bytes(message);

    [Fact]
    public void ListIdsRoundTripsInBothVersionsAndAFilterNeedsVersion6()
    {
        var limits = new ProtocolLimits();
        var filtered = ListIdsRequest.Read(Encode(new ListIdsRequest("c", 41, 100, s_where)), limits);
        Assert.Equal(("c", (ulong?)41, 100), (filtered.Name, filtered.After, filtered.Limit));
        Assert.True(Equals(s_where, filtered.Where), $"decoded {filtered.Where}");
        Assert.Null(ListIdsRequest.Read(Encode(new ListIdsRequest("c", null, 5)), limits).Where);

        // Version 5 is the old layout exactly: name, hasAfter, after, limit.
        var v5 = Encode(new ListIdsRequest("c", 41, 100, null, 5));
        Assert.Equal(2 + 1 + 1 + 8 + 4, v5.Length);
        Assert.Equal(new ListIdsRequest("c", 41, 100, null, 5), ListIdsRequest.Read(v5, limits, 5));
        Assert.Throws<ProtocolException>(() => ListIdsRequest.Read(v5, limits, 6)); // no where length: truncated
        var e = Assert.Throws<InvalidArgumentException>(() => new ListIdsRequest("c", null, 5, s_where, 5).PayloadSize);
        Assert.Contains("protocol version 5, which cannot list ids by a field filter (version 6 can)", e.Message, StringComparison.Ordinal);
    }

    private static Collection PopulateWithFields(VectorDatabase db, int count, int seed)
    {
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = 2, Compression = "none", Fields = FieldStoreTests.Schema });
        var rng = new Random(seed);
        for (int i = 1; i <= count; i++)
            c.Upsert((ulong)i * 7, [rng.NextSingle(), rng.NextSingle()], default, FilterEvaluationTests.RandomRecord(rng));
        return c;
    }

    [Fact]
    public async Task TheClientPagesThroughExactlyTheEnginesMatches()
    {
        await using var live = LiveServer.Start();
        var c = PopulateWithFields(live.Database, 600, seed: 3);
        await using var client = await live.ConnectAsync();
        var rng = new Random(5);
        for (int e = 0; e < 40; e++)
        {
            var where = FilterEvaluationTests.RandomExpression(rng, 3);
            var got = new List<ulong>();
            ulong? after = null;
            while (true)
            {
                var page = await client.ListMatchingIdsAsync("c", where, after, 50);
                got.AddRange(page.Ids);
                if (!page.More) break;
                after = page.Ids[^1];
            }
            Assert.True(c.Ids(where).SequenceEqual(got), $"{where}");
        }
        Assert.Equal(c.Ids(), (await client.ListMatchingIdsAsync("c", null, null, 10_000)).Ids);
        var bad = await Assert.ThrowsAnyAsync<VectorStoreException>(() => client.ListMatchingIdsAsync("c", Filter.Eq("nope", 1L), null, 10));
        Assert.Contains("nope", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AHostileFilterIsATypedErrorAndTheConnectionSurvives()
    {
        await using var live = LiveServer.Start();
        PopulateWithFields(live.Database, 20, seed: 1);
        using var raw = await RawConnection.OpenAsync(live.Port, handshake: true);
        var good = Encode(new ListIdsRequest("c", null, 10, s_where));
        byte[] garbage = [.. good[..(2 + 1 + 1 + 8 + 4)], 3, 0, 0, 0, 0xEE, 0xEE, 0xEE];
        byte[] longer = [.. good[..(2 + 1 + 1 + 8 + 4)], 0xFF, 0xFF, 0, 0, 1];
        uint id = 1;
        foreach (var payload in new[] { garbage, longer, good[..^1], [.. good, 0] })
        {
            await raw.SendAsync(Opcode.ListIds, id++, new RawPayload(payload));
            Assert.Equal(ErrorCode.BadPayload, (await raw.ReadErrorAsync()).Code);
        }
        await raw.SendAsync(Opcode.ListIds, id, new RawPayload(good));
        var (op, _, ok) = await raw.ReadFrameAsync();
        Assert.Equal((byte)Opcode.ListIds | ProtocolConstants.ResponseBit, op);
        Assert.Equal(live.Database.GetCollection("c").Ids(s_where), IdsResponse.Read(ok).Ids);
    }

    [Fact]
    public async Task AVersion5ConnectionListsInTheOldLayout()
    {
        await using var live = LiveServer.Start();
        var c = PopulateWithFields(live.Database, 30, seed: 2);
        using var raw = await RawConnection.OpenAsync(live.Port);
        await raw.SendAsync(Opcode.Hello, 0, new HelloRequest(5, System.Text.Encoding.UTF8.GetBytes(LiveServer.Token)));
        Assert.Equal((ushort)5, HelloResponse.Read((await raw.ReadFrameAsync()).Payload).Version);
        await raw.SendAsync(Opcode.ListIds, 1, new ListIdsRequest("c", null, 1000, null, 5));
        Assert.Equal(c.Ids(), IdsResponse.Read((await raw.ReadFrameAsync()).Payload).Ids);
    }

    [Fact]
    public async Task AgainstAVersion5ServerUnfilteredListsWorkAndFilteredOnesAreRefusedBeforeSending()
    {
        await using var server = new OldVersionServer(5);
        await using var client = await VectorStoreClient.ConnectAsync("127.0.0.1", server.Port);
        Assert.Equal([(ushort)10, (ushort)9, (ushort)8, (ushort)7, (ushort)6, (ushort)5], server.Hellos);
        Assert.Equal([3ul, 5, 8], (await client.ListIdsAsync("c", null, 10)).Ids);
        Assert.Equal([5ul, 8], (await client.ListMatchingIdsAsync("c", null, 3, 10)).Ids);
        int sent = server.Requests.Count;
        var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.ListMatchingIdsAsync("c", s_where, null, 10));
        Assert.Contains("upgrade the server", e.Message, StringComparison.Ordinal);
        Assert.Equal(sent, server.Requests.Count);
    }
}
