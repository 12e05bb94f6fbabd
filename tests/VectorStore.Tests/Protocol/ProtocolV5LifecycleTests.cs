using System.Buffers.Binary;
using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Lifecycle;
using VectorStore.Protocol;
using VectorStore.Server;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// Protocol version 5 (data-format.md §5.8): every lifecycle message round-trips, hostile encodings are refused with a
/// typed error while the connection stays usable, the whole client → server → database path carries each call and its
/// answer, a database without generations (a cluster) is a clear NotSupported, and older peers keep working.
/// </summary>
public class ProtocolV5LifecycleTests
{
    private static readonly CanaryReport s_canary = FakeLifecycleClient.Canary;
    private static readonly GenerationInfo[] s_generations = FakeLifecycleClient.Generations;
    private static readonly DriftReport s_drift = FakeLifecycleClient.Drift;

    private static T RoundTrip<T>(IWireMessage message, Func<byte[], T> read)
    {
        var bytes = new byte[message.PayloadSize];
        var w = new WireWriter(bytes);
        message.Write(ref w);
        Assert.Equal(bytes.Length, w.Written);
        return read(bytes);
    }

    private static byte[] Encode(IWireMessage message)
    {
        var bytes = new byte[message.PayloadSize];
        var w = new WireWriter(bytes);
        message.Write(ref w);
        return bytes;
    }

    private static void AssertSame(CanaryReport expected, CanaryReport actual)
    {
        Assert.Equal(expected with { Segments = [] }, actual with { Segments = [] });
        Assert.Equal(expected.Segments, actual.Segments);
        Assert.Equal(expected.WorstSegment, actual.WorstSegment);
    }

    private static void AssertSame(IReadOnlyList<GenerationInfo> expected, IReadOnlyList<GenerationInfo> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i] with { Canary = null }, actual[i] with { Canary = null });
            Assert.Equal(expected[i].Canary is null, actual[i].Canary is null);
            if (expected[i].Canary is { } c) AssertSame(c, actual[i].Canary!);
        }
    }

    private static void AssertSame(DriftReport expected, DriftReport actual)
    {
        Assert.Equal(expected.Generation, actual.Generation);
        Assert.Equal(expected.Observed, actual.Observed);
        Assert.Equal(expected.Signals, actual.Signals);
        Assert.Equal(expected.Actions, actual.Actions);
        Assert.Equal(expected.Drifted, actual.Drifted);
    }

    [Fact]
    public void EveryLifecycleRequestRoundTrips()
    {
        var limits = new ProtocolLimits();
        Assert.Equal(new BuildGenerationRequest("c", "pq:48", "ivf:256", true), RoundTrip(new BuildGenerationRequest("c", "pq:48", "ivf:256", true), b => BuildGenerationRequest.Read(b)));
        Assert.Equal(new BuildGenerationRequest("ç", "none", "flat", false), RoundTrip(new BuildGenerationRequest("ç", "none", "flat", false), b => BuildGenerationRequest.Read(b)));

        var queries = new VectorMatrix([1, 2, 3, 4, 5, 6], 3);
        var options = new SearchOptions { K = 7, Rerank = 30, Ef = 0, NProbe = 16 };
        var canary = RoundTrip(new RunCanaryRequest(3, new SearchRequest("c", options, queries)), b => RunCanaryRequest.Read(b, limits));
        Assert.Equal(3, canary.Generation);
        Assert.Equal("c", canary.Search.Name);
        Assert.Equal(options, canary.Search.Options);
        Assert.Equal(queries.Data, canary.Search.Queries.Data);
        Assert.Equal(3, canary.Search.Queries.Dimension);

        var settings = new CanarySettings { Generation = 3, SampleRate = 0.01, ExactFraction = 0.5, CpuBudget = 0.25, SegmentField = "package", QueueCapacity = 64, Seed = -9 };
        Assert.Equal(new StartCanaryRequest("c", settings), RoundTrip(new StartCanaryRequest("c", settings), b => StartCanaryRequest.Read(b)));
        var noSegment = settings with { SegmentField = null };
        Assert.Equal(new StartCanaryRequest("c", noSegment), RoundTrip(new StartCanaryRequest("c", noSegment), b => StartCanaryRequest.Read(b)));

        Assert.Equal(new SetExposureRequest("c", 3, 12.5), RoundTrip(new SetExposureRequest("c", 3, 12.5), b => SetExposureRequest.Read(b)));
        Assert.Equal(new SetExposureRequest("c", 3, 0), RoundTrip(new SetExposureRequest("c", 3, 0), b => SetExposureRequest.Read(b)));

        var gate = new PromotionGate { MinExactQueries = 50, MaxRecallLoss = 0.02, MaxP99Factor = 2.5 };
        Assert.Equal(new PromoteRequest("c", 3, gate), RoundTrip(new PromoteRequest("c", 3, gate), b => PromoteRequest.Read(b)));
        Assert.Equal(new PromoteRequest("c", 3, null), RoundTrip(new PromoteRequest("c", 3, null), b => PromoteRequest.Read(b)));

        var policy = new LifecyclePolicy
        {
            RetainRetired = 3, RebalanceOnDrift = true, BuildCandidateOnDrift = true, PromoteWhenGatePasses = true, CanaryRate = 0.02, Gate = gate,
            RollbackRecallFloor = 0.75, BuildVectorsPerSecond = 5000,
        };
        Assert.Equal(new LifecyclePolicyRequest("c", policy), RoundTrip(new LifecyclePolicyRequest("c", policy), b => LifecyclePolicyRequest.Read(b)));
        var plain = new LifecyclePolicy();
        Assert.Equal(new LifecyclePolicyRequest("c", plain), RoundTrip(new LifecyclePolicyRequest("c", plain), b => LifecyclePolicyRequest.Read(b)));
    }

    [Fact]
    public void EveryLifecycleResponseRoundTrips()
    {
        AssertSame(s_generations, RoundTrip(new GenerationsResponse(s_generations), b => GenerationsResponse.Read(b)).Generations);
        Assert.Empty(RoundTrip(new GenerationsResponse([]), b => GenerationsResponse.Read(b)).Generations);
        AssertSame(s_canary, RoundTrip(new CanaryResponse(s_canary), b => CanaryResponse.Read(b)).Report);
        Assert.Equal("lib", RoundTrip(new CanaryResponse(s_canary), b => CanaryResponse.Read(b)).Report.WorstSegment!.Segment);
        AssertSame(s_drift, RoundTrip(new DriftResponse(s_drift), b => DriftResponse.Read(b)).Report);
        Assert.True(RoundTrip(new DriftResponse(s_drift), b => DriftResponse.Read(b)).Report.Drifted);
        Assert.Equal(17, RoundTrip(new Int32Response(17), b => Int32Response.Read(b)).Value);
    }

    [Fact]
    public void OversizedReportsAreCutToTheProtocolLimitsKeepingWhatMatters()
    {
        // 70,000 segments: the worst 65,536 (the report's first) travel. A 10 kB message is clipped to the string limit.
        var many = s_canary with { Segments = Enumerable.Range(0, 70_000).Select(i => new SegmentRecall($"s{i}", 1, 1, i / 70_000.0)).ToArray() };
        var back = RoundTrip(new CanaryResponse(many), b => CanaryResponse.Read(b)).Report;
        Assert.Equal(65_536, back.Segments.Count);
        Assert.Equal(many.Segments[0], back.WorstSegment);

        var longError = new string('é', 5000);
        var g = RoundTrip(new GenerationsResponse([s_generations[3] with { Error = longError }]), b => GenerationsResponse.Read(b)).Generations[0];
        Assert.Equal(2048, g.Error!.Length);
        Assert.StartsWith(g.Error, longError, StringComparison.Ordinal);

        var actions = Enumerable.Range(0, 5000).Select(i => $"action {i}").ToArray();
        var drift = RoundTrip(new DriftResponse(s_drift with { Actions = actions }), b => DriftResponse.Read(b)).Report;
        Assert.Equal(4096, drift.Actions.Count);
        Assert.Equal("action 4999", drift.Actions[^1]);
    }

    [Fact]
    public void SearchCarriesExposureKeyAndSegmentAndItsResponseTheServingGeneration()
    {
        var limits = new ProtocolLimits();
        var options = new SearchOptions { K = 3, ExposureKey = "user-17", Segment = "tenant-a" };
        var back = RoundTrip(new SearchRequest("c", options, new VectorMatrix([1, 2], 2)), b => SearchRequest.Read(b, limits));
        Assert.Equal("user-17", back.Options.ExposureKey);
        Assert.Equal("tenant-a", back.Options.Segment);
        var none = RoundTrip(new SearchRequest("c", new SearchOptions { K = 3 }, new VectorMatrix([1, 2], 2)), b => SearchRequest.Read(b, limits));
        Assert.Null(none.Options.ExposureKey);
        Assert.Null(none.Options.Segment);

        // Version 4 cannot carry them: refused before anything is written, never dropped.
        var e = Assert.Throws<InvalidArgumentException>(() => new SearchRequest("c", options, new VectorMatrix([1, 2], 2), 4).PayloadSize);
        Assert.Contains("protocol version 4, which cannot carry an exposure key", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidArgumentException>(() => new SearchRequest("c", new SearchOptions { ExposureKey = "" }, new VectorMatrix([1, 2], 2)).PayloadSize);
        Assert.Throws<InvalidArgumentException>(() => new SearchRequest("c", new SearchOptions { Segment = new string('x', 1025) }, new VectorMatrix([1, 2], 2)).PayloadSize);

        SearchHit[][] results = [[new SearchHit(1, 0.5f) { Generation = 3 }, new SearchHit(2, 0.7f) { Generation = 3 }], [], [new SearchHit(9, 1f) { Generation = 2 }]];
        var response = RoundTrip(new SearchResponse(results), b => SearchResponse.Read(b));
        Assert.Equal([3, 3], response.Results[0].Select(h => h.Generation));
        Assert.Empty(response.Results[1]);
        Assert.Equal(2, response.Results[2][0].Generation);
        Assert.Equal(SearchResponse.SizeOf(results), Encode(new SearchResponse(results)).Length);
        // An older connection's layout has no generation: the hit reports 0 (not reported).
        Assert.Equal(0, RoundTrip(new SearchResponse(results, 4), b => SearchResponse.Read(b, 4)).Results[0][0].Generation);
        Assert.Equal(results[0][0] with { Generation = 0 }, RoundTrip(new SearchResponse(results, 4), b => SearchResponse.Read(b, 4)).Results[0][0]);
    }

    [Fact]
    public void InfoCarriesTheLiveGenerationAndTrainingError()
    {
        var options = new CollectionOptions { Dimension = 8, Compression = "pq:4", Index = "hnsw:16" };
        var stats = new CollectionStats { Count = 5, Dimension = 8, Compression = "pq:4", Index = "hnsw:16", Generation = 3, TrainingError = "pq training needs 256 vectors, got 5" };
        var back = RoundTrip(new InfoResponse(options, stats, 10, 5), b => InfoResponse.Read(b, 5));
        Assert.Equal(3, back.Stats.Generation);
        Assert.Equal(stats.TrainingError, back.Stats.TrainingError);
        var clean = RoundTrip(new InfoResponse(options, stats with { TrainingError = null }, 10, 5), b => InfoResponse.Read(b, 5));
        Assert.Null(clean.Stats.TrainingError);
        var clipped = RoundTrip(new InfoResponse(options, stats with { TrainingError = new string('x', 9000) }, 10, 5), b => InfoResponse.Read(b, 5));
        Assert.Equal(ProtocolConstants.MaxStringBytes, clipped.Stats.TrainingError!.Length);
        // Version 4: neither travels; such a server has only the generation it created the collection with.
        var v4 = RoundTrip(new InfoResponse(options, stats, 10, 4), b => InfoResponse.Read(b, 4));
        Assert.Equal(1, v4.Stats.Generation);
        Assert.Null(v4.Stats.TrainingError);
        // Each version's reader refuses the other's layout rather than misreading it.
        Assert.Throws<ProtocolException>(() => InfoResponse.Read(Encode(new InfoResponse(options, stats, 10, 5)), 4));
        Assert.Throws<ProtocolException>(() => InfoResponse.Read(Encode(new InfoResponse(options, stats, 10, 4)), 5));
    }

    public static TheoryData<string, byte[], ErrorCode> HostileRequests()
    {
        var data = new TheoryData<string, byte[], ErrorCode>();
        var policy = Encode(new LifecyclePolicyRequest("c", new LifecyclePolicy()));
        var badLadder = (byte[])policy.Clone();
        badLadder[3 + 4] = 0x10;
        data.Add("ladder bits", badLadder, ErrorCode.BadPayload);
        var exposure = Encode(new SetExposureRequest("c", 2, 10));
        data.Add("exposure NaN", [.. exposure[..^8], .. BitConverter.GetBytes(double.NaN)], ErrorCode.InvalidArgument);
        data.Add("exposure 101 %", [.. exposure[..^8], .. BitConverter.GetBytes(101.0)], ErrorCode.InvalidArgument);
        var zeroGeneration = (byte[])exposure.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(zeroGeneration.AsSpan(3), 0);
        data.Add("generation 0", zeroGeneration, ErrorCode.InvalidArgument);
        data.Add("trailing byte", [.. exposure, 0], ErrorCode.BadPayload);
        data.Add("truncated", exposure[..^1], ErrorCode.BadPayload);
        var promote = Encode(new PromoteRequest("c", 2, new PromotionGate()));
        var badBool = (byte[])promote.Clone();
        badBool[3 + 4] = 2;
        data.Add("gate flag 2", badBool, ErrorCode.BadPayload);
        var canary = Encode(new RunCanaryRequest(2, new SearchRequest("c", new SearchOptions { K = 3 }, new VectorMatrix([1, 2], 2))));
        var hugeBatch = (byte[])canary.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(hugeBatch.AsSpan(4 + 3 + 30), 10_000_000);
        data.Add("canary batch beyond maxBatch", hugeBatch, ErrorCode.LimitExceeded);
        var hugeK = (byte[])canary.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(hugeK.AsSpan(4 + 3), 1_000_000_000);
        data.Add("canary k beyond maxK", hugeK, ErrorCode.LimitExceeded);
        return data;
    }

    private static readonly Dictionary<string, Opcode> s_hostileOpcodes = new()
    {
        ["ladder bits"] = Opcode.SetLifecyclePolicy, ["exposure NaN"] = Opcode.SetExposure, ["exposure 101 %"] = Opcode.SetExposure,
        ["generation 0"] = Opcode.SetExposure, ["trailing byte"] = Opcode.SetExposure, ["truncated"] = Opcode.SetExposure,
        ["gate flag 2"] = Opcode.Promote, ["canary batch beyond maxBatch"] = Opcode.RunCanary, ["canary k beyond maxK"] = Opcode.RunCanary,
    };

    [Theory]
    [MemberData(nameof(HostileRequests))]
    public async Task AHostileLifecycleRequestGetsATypedErrorAndTheConnectionSurvives(string name, byte[] payload, ErrorCode expected)
    {
        // Decoded before the database is asked, so the answer does not depend on the engine having generations.
        await using var live = LiveServer.Start();
        LiveServer.Populate(live.Database, "c", 50, 2, compression: "none");
        using var raw = await RawConnection.OpenAsync(live.Port, handshake: true);
        await raw.SendAsync(s_hostileOpcodes[name], 7, new RawPayload(payload));
        Assert.Equal(expected, (await raw.ReadErrorAsync()).Code);
        await raw.SendAsync(Opcode.Ping, 8, EmptyResponse.Instance);
        var (op, id, _) = await raw.ReadFrameAsync();
        Assert.Equal((byte)Opcode.Ping | ProtocolConstants.ResponseBit, op);
        Assert.Equal(8u, id);
    }

    [Fact]
    public void HostileResponsesAreRefusedWithTypedErrors()
    {
        var list = Encode(new GenerationsResponse(s_generations));
        var lie = (byte[])list.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(lie, 1_000);
        Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => GenerationsResponse.Read(lie)).Code);
        BinaryPrimitives.WriteUInt32LittleEndian(lie, uint.MaxValue);
        Assert.Equal(ErrorCode.LimitExceeded, Assert.Throws<ProtocolException>(() => GenerationsResponse.Read(lie)).Code);
        var state = (byte[])list.Clone();
        state[4 + 4] = 3;
        Assert.Contains("unknown generation state 3", Assert.Throws<ProtocolException>(() => GenerationsResponse.Read(state)).Message, StringComparison.Ordinal);

        var canary = Encode(new CanaryResponse(s_canary));
        var segments = (byte[])canary.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(segments.AsSpan(92), 65_537);
        Assert.Equal(ErrorCode.LimitExceeded, Assert.Throws<ProtocolException>(() => CanaryResponse.Read(segments)).Code);
        var negative = (byte[])canary.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(negative.AsSpan(8), -1);
        Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => CanaryResponse.Read(negative)).Code);

        var drift = Encode(new DriftResponse(s_drift));
        var signals = (byte[])drift.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(signals.AsSpan(12), 1000);
        Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => DriftResponse.Read(signals)).Code);
        Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => Int32Response.Read(BitConverter.GetBytes(-1))).Code);

        var search = Encode(new SearchResponse([[new SearchHit(1, 1f) { Generation = 2 }]]));
        BinaryPrimitives.WriteInt32LittleEndian(search.AsSpan(5), -3);
        Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => SearchResponse.Read(search)).Code);
    }

    [Fact]
    public void BadSettingsAreRefusedBeforeSending()
    {
        Assert.Throws<InvalidArgumentException>(() => Encode(new StartCanaryRequest("c", new CanarySettings { Generation = 2, SampleRate = 0 })));
        Assert.Throws<InvalidArgumentException>(() => Encode(new LifecyclePolicyRequest("c", new LifecyclePolicy { RetainRetired = 17 })));
        // Read validates the same way (a hand-written peer): an invalid gate is InvalidArgument, not accepted.
        var promote = Encode(new PromoteRequest("c", 2, new PromotionGate()));
        BinaryPrimitives.WriteDoubleLittleEndian(promote.AsSpan(3 + 4 + 1 + 4 + 8), 0.5);
        Assert.Contains("p99 factor", Assert.Throws<InvalidArgumentException>(() => PromoteRequest.Read(promote)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryLifecycleCallTravelsClientToServerToDatabaseAndBack()
    {
        await using var inner = new InProcessDatabaseClient(VectorDatabase.CreateInMemory(), ownsDatabase: true);
        await inner.CreateCollectionAsync("c", new CollectionOptions { Dimension = 2, Compression = "none" });
        await inner.UpsertBatchAsync("c", [1, 2, 3], new VectorMatrix([1, 0, 1, 1, 5, 5], 2));
        var fake = new FakeLifecycleClient(inner);
        await using var server = new VectorStoreServer(fake, new ServerOptions());
        server.Start();
        await using var client = await VectorStoreClient.ConnectAsync("127.0.0.1", server.LocalEndPoint!.Port);

        Assert.Equal(3, await client.BuildGenerationAsync("c", "pq:1", "ivf:2", wait: false));
        Assert.Equal("build c pq:1 ivf:2 False", fake.Calls[^1]);
        AssertSame(s_generations, await client.ListGenerationsAsync("c"));
        var queries = new VectorMatrix([1, 0, 5, 5], 2);
        AssertSame(s_canary, await client.RunCanaryAsync("c", 3, queries, new SearchOptions { K = 2, Rerank = 4 }));
        Assert.Equal("canary c 3 2x2 k=2 rerank=4", fake.Calls[^1]);
        var settings = new CanarySettings { Generation = 3, SampleRate = 0.25, SegmentField = "kind" };
        await client.StartCanaryAsync("c", settings);
        Assert.Equal(settings, fake.Settings);
        await client.StopCanaryAsync("c");
        Assert.Equal("stop c", fake.Calls[^1]);
        await client.SetExposureAsync("c", 3, 12.5);
        Assert.Equal("exposure c 3 12.5", fake.Calls[^1]);
        var gate = new PromotionGate { MaxRecallLoss = 0.03 };
        await client.PromoteAsync("c", 3, gate);
        Assert.Equal(gate, fake.Gate);
        await client.PromoteAsync("c", 3);
        Assert.Null(fake.Gate);
        Assert.Equal(2, await client.RollbackAsync("c"));
        Assert.Equal(1, await client.CollectGenerationsAsync("c"));
        var policy = new LifecyclePolicy { RebalanceOnDrift = true, RollbackRecallFloor = 0.5 };
        await client.SetLifecyclePolicyAsync("c", policy);
        Assert.Equal(policy, fake.Policy);
        Assert.Equal(policy, await client.GetLifecyclePolicyAsync("c"));
        AssertSame(s_drift, await client.GetDriftAsync("c"));

        // Search: the exposure key and segment reach the database; each hit says which generation served it.
        var hits = await client.SearchAsync("c", new float[] { 1, 1 }, new SearchOptions { K = 2, ExposureKey = "user-1", Segment = "lib" });
        Assert.Equal("search key=user-1 segment=lib", fake.Calls[^1]);
        Assert.All(hits, h => Assert.Equal(3, h.Generation));
        Assert.Equal(2, (await client.SearchBatchAsync("c", queries, new SearchOptions { K = 1 }))[1][0].Generation);

        // Engine errors come back typed and the connection stays usable.
        var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.PromoteAsync("c", 99));
        Assert.Contains("generation 99 is not a ready candidate", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, (await client.GetInfoAsync("c")).Stats.Count);
    }

    [Fact]
    public async Task ADatabaseWithoutGenerationsIsNotSupportedWithAClearMessage()
    {
        // As a cluster gateway: an IVectorDatabaseClient that is not an ICompressionLifecycleClient.
        await using var inner = new InProcessDatabaseClient(VectorDatabase.CreateInMemory(), ownsDatabase: true);
        await using var server = new VectorStoreServer(new DelegatingClient(inner), new ServerOptions());
        server.Start();
        await using var client = await VectorStoreClient.ConnectAsync("127.0.0.1", server.LocalEndPoint!.Port);
        Func<Task>[] calls =
        [
            () => client.BuildGenerationAsync("c", "sq8", "flat"), () => client.ListGenerationsAsync("c"),
            () => client.RunCanaryAsync("c", 2, new VectorMatrix([1, 2], 2)), () => client.StartCanaryAsync("c", new CanarySettings { Generation = 2 }),
            () => client.StopCanaryAsync("c"), () => client.SetExposureAsync("c", 2, 5), () => client.PromoteAsync("c", 2), () => client.RollbackAsync("c"),
            () => client.CollectGenerationsAsync("c"), () => client.SetLifecyclePolicyAsync("c", new LifecyclePolicy()), () => client.GetDriftAsync("c"),
            () => client.GetLifecyclePolicyAsync("c"),
        ];
        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<RemoteErrorException>(call);
            Assert.Equal(ErrorCode.NotSupported, e.Code);
            Assert.Contains("does not support compression generations", e.Message, StringComparison.Ordinal);
        }
        Assert.Empty(await client.CollectionNamesAsync());
    }

    [Fact]
    public async Task AVersion4ConnectionGetsUnknownOpcodeForLifecycleRequestsAndTheOldLayouts()
    {
        await using var live = LiveServer.Start();
        var c = LiveServer.Populate(live.Database, "c", 100, 4, compression: "none");
        using var raw = await RawConnection.OpenAsync(live.Port);
        await raw.SendAsync(Opcode.Hello, 0, new HelloRequest(4, System.Text.Encoding.UTF8.GetBytes(LiveServer.Token)));
        var (_, _, hello) = await raw.ReadFrameAsync();
        Assert.Equal((ushort)4, HelloResponse.Read(hello).Version);
        await raw.SendAsync(Opcode.ListGenerations, 1, new NameRequest("c"));
        var error = await raw.ReadErrorAsync();
        Assert.Equal(ErrorCode.UnknownOpcode, error.Code);
        await raw.SendAsync(Opcode.Info, 2, new NameRequest("c"));
        var (_, _, info) = await raw.ReadFrameAsync();
        Assert.Equal(100, InfoResponse.Read(info, 4).Stats.Count);
        var q = c.Get(4)!.Vector;
        await raw.SendAsync(Opcode.Search, 3, new SearchRequest("c", new SearchOptions { K = 3 }, new VectorMatrix(q, 4), 4));
        var (_, _, search) = await raw.ReadFrameAsync();
        Assert.Equal(c.Search(q, new SearchOptions { K = 3 }).Select(h => h.Id), SearchResponse.Read(search, 4).Results[0].Select(h => h.Id));
    }

    [Fact]
    public async Task ACurrentClientGetsTheLifecycleFields()
    {
        Assert.True(ProtocolConstants.Version >= ProtocolConstants.LifecycleVersion);
        await using var live = LiveServer.Start();
        LiveServer.Populate(live.Database, "c", 100, 4, compression: "none");
        await using var client = await live.ConnectAsync();
        var info = await client.GetInfoAsync("c");
        Assert.Equal(1, info.Stats.Generation);
        Assert.Null(info.Stats.TrainingError);
    }

    [Fact]
    public async Task AgainstAVersion4ServerTheClientFallsBackAndRefusesLifecycleCallsBeforeSending()
    {
        await using var server = new OldVersionServer(4);
        await using var client = await VectorStoreClient.ConnectAsync("127.0.0.1", server.Port);
        Assert.Equal([(ushort)10, (ushort)9, (ushort)8, (ushort)7, (ushort)6, (ushort)5, (ushort)4], server.Hellos);
        var hits = await client.SearchAsync("c", new float[] { 0.25f, 1f }, new SearchOptions { K = 3 });
        Assert.Equal(42ul, Assert.Single(hits).Id);
        Assert.Equal(0, hits[0].Generation);
        int sent = server.Requests.Count;

        var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.ListGenerationsAsync("c"));
        Assert.Contains("protocol version 4, which has no compression generations (version 5 has)", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidArgumentException>(() => client.BuildGenerationAsync("c", "sq8", "flat"));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => client.RunCanaryAsync("c", 2, new VectorMatrix([1, 2], 2)));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => client.PromoteAsync("c", 2));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => client.GetDriftAsync("c"));
        e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.SearchAsync("c", new float[] { 1f, 2f }, new SearchOptions { ExposureKey = "u" }));
        Assert.Contains("cannot carry an exposure key", e.Message, StringComparison.Ordinal);
        Assert.Equal(sent, server.Requests.Count);
        Assert.Single(await client.SearchAsync("c", new float[] { 1f, 2f }));
    }
}
