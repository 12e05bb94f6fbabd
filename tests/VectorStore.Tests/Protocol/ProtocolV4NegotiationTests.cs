using System.Net;
using System.Net.Sockets;
using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Protocol;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// Version 4 next to version 3 (data-format.md §5.5): a version-3 server keeps working for everything it can carry,
/// and what it cannot (fields, Where, hit parts) is refused on the client before a byte is sent, never dropped.
/// </summary>
public class ProtocolV4NegotiationTests
{
    [Fact]
    public async Task AgainstAVersion3ServerTheClientFallsBackAndRefusesWhatVersion3CannotCarry()
    {
        await using var server = new OldVersionServer(3);
        await using var client = await VectorStoreClient.ConnectAsync("127.0.0.1", server.Port);
        Assert.Equal([(ushort)10, (ushort)9, (ushort)8, (ushort)7, (ushort)6, (ushort)5, (ushort)4, (ushort)3], server.Hellos);

        // What version 3 carries still works, in the version-3 layout.
        var hits = await client.SearchAsync("c", new float[] { 0.25f, 1f }, new SearchOptions { K = 3 });
        Assert.Equal(42ul, Assert.Single(hits).Id);
        await client.UpsertBatchAsync("c", [1], new VectorMatrix([1f, 2f], 2), null, [null]);
        int sent = server.Requests.Count;

        var where = new SearchOptions { Filter = new SearchFilter { Where = FilterParser.Parse("kind == 'lib'") } };
        var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.SearchAsync("c", new float[] { 1f, 2f }, where));
        Assert.Contains("protocol version 3, which cannot carry a field filter", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidArgumentException>(() => client.SearchBatchAsync("c", new VectorMatrix([1f, 2f], 2), new SearchOptions { IncludeFields = true }));
        e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.UpsertBatchAsync("c", [1], new VectorMatrix([1f, 2f], 2), null,
            [new Dictionary<string, FieldValue> { ["kind"] = "lib" }]));
        Assert.Contains("cannot carry field values", e.Message, StringComparison.Ordinal);
        // Through the interface it is the client's own overload (not the interface's refusing default) that answers.
        IVectorDatabaseClient viaInterface = client;
        e = await Assert.ThrowsAsync<InvalidArgumentException>(() => viaInterface.UpsertBatchAsync("c", [1], new VectorMatrix([1f, 2f], 2), null,
            [new Dictionary<string, FieldValue> { ["kind"] = "lib" }]));
        Assert.Contains("protocol version 3", e.Message, StringComparison.Ordinal);
        e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.CreateCollectionAsync("d",
            new CollectionOptions { Dimension = 2, Fields = [new FieldDefinition("kind", FieldType.Keyword)] }));
        Assert.Contains("cannot declare fields", e.Message, StringComparison.Ordinal);

        // Refused before sending: the server saw nothing more, and the connection is still usable.
        Assert.Equal(sent, server.Requests.Count);
        Assert.Single(await client.SearchAsync("c", new float[] { 1f, 2f }));
    }

    [Fact]
    public async Task ARealServerAnswersAVersion3ConnectionInTheVersion3Layouts()
    {
        await using var live = LiveServer.Start();
        var c = LiveServer.Populate(live.Database, "c", 200, 8, compression: "none");
        var q = c.Get(4)!.Vector;
        using var raw = await RawConnection.OpenAsync(live.Port);
        await raw.SendAsync(Opcode.Hello, 0, new HelloRequest(3, System.Text.Encoding.UTF8.GetBytes(LiveServer.Token)));
        var (helloOp, _, hello) = await raw.ReadFrameAsync();
        Assert.Equal((byte)Opcode.Hello | ProtocolConstants.ResponseBit, helloOp);
        Assert.Equal((ushort)3, HelloResponse.Read(hello).Version);

        await raw.SendAsync(Opcode.Search, 1, new SearchRequest("c", new SearchOptions { K = 5 }, new VectorMatrix(q, 8), 3));
        var (_, _, search) = await raw.ReadFrameAsync();
        var hits = SearchResponse.Read(search, 3).Results[0];
        Assert.Equal(c.Search(q, new SearchOptions { K = 5 }).Select(h => h.Id), hits.Select(h => h.Id));

        await raw.SendAsync(Opcode.UpsertBatch, 2, new UpsertBatchRequest("c", [1000], new VectorMatrix(q, 8), [[7]], null, 3));
        var (upOp, _, _) = await raw.ReadFrameAsync();
        Assert.Equal((byte)Opcode.UpsertBatch | ProtocolConstants.ResponseBit, upOp);

        await raw.SendAsync(Opcode.Get, 3, new IdBatchRequest("c", [1000]));
        var (_, _, get) = await raw.ReadFrameAsync();
        Assert.Equal([(byte)7], GetResponse.Read(get, [1000ul], 3).Records[0]!.Payload);

        // A version-4 search layout on a version-3 connection is trailing garbage to it: BadPayload, connection kept.
        await raw.SendAsync(Opcode.Search, 4, new SearchRequest("c", new SearchOptions { K = 5 }, new VectorMatrix(q, 8), 4));
        Assert.Equal(ErrorCode.BadPayload, (await raw.ReadErrorAsync()).Code);
    }

    [Fact]
    public async Task AVersion4ClientGetsVersion4()
    {
        await using var live = LiveServer.Start();
        using var raw = await RawConnection.OpenAsync(live.Port);
        await raw.SendAsync(Opcode.Hello, 0, new HelloRequest(4, System.Text.Encoding.UTF8.GetBytes(LiveServer.Token)));
        var (_, _, hello) = await raw.ReadFrameAsync();
        Assert.Equal((ushort)4, HelloResponse.Read(hello).Version);
    }
}
