using System.Buffers;
using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Lifecycle;
using VectorStore.Protocol;

namespace VectorStore.Fuzz;

/// <summary>Valid frames for every opcode, produced by the real encoders: the starting points for mutation.</summary>
public static class SeedCorpus
{
    /// <summary>One input per request kind (each prefixed with the segmentation byte, see <see cref="FuzzTarget"/>).</summary>
    public static IEnumerable<byte[]> Create()
    {
        var q = new VectorMatrix([1, 2, 3, 4], 4);
        var two = new VectorMatrix([1, 2, 3, 4, 0, 0, 1, 1], 4);
        (Opcode, IWireMessage)[] frames =
        [
            (Opcode.Hello, new HelloRequest(ProtocolConstants.Version, "token"u8.ToArray())),
            (Opcode.Ping, EmptyResponse.Instance),
            (Opcode.CreateCollection, new CreateCollectionRequest("d", new CollectionOptions { Dimension = 3, Compression = "none", Index = "flat" })),
            (Opcode.DropCollection, new NameRequest("c")),
            (Opcode.ListCollections, EmptyResponse.Instance),
            (Opcode.Info, new NameRequest("c")),
            (Opcode.UpsertBatch, new UpsertBatchRequest("c", [7, 8], two, [[1, 2], null])),
            (Opcode.Delete, new IdBatchRequest("c", [1, 99])),
            (Opcode.Get, new IdBatchRequest("c", [0, 2, 99])),
            (Opcode.ListIds, new ListIdsRequest("c", 1, 3)),
            (Opcode.Search, new SearchRequest("c", new SearchOptions { K = 3, Rerank = 4 }, q)),
            (Opcode.SearchBatch, new SearchRequest("c", new SearchOptions { K = 2, Filter = new SearchFilter { Ids = new HashSet<ulong> { 1, 2 } } }, two)),
            (Opcode.BuildIndex, new NameRequest("c")),
            (Opcode.Flush, EmptyResponse.Instance),
            (Opcode.Snapshot, EmptyResponse.Instance),
            // Version 4: declared fields, field values, Where filters and hit parts.
            (Opcode.CreateCollection, new CreateCollectionRequest("e", new CollectionOptions { Dimension = 2, Fields = FuzzTarget.s_fields })),
            (Opcode.UpsertBatch, new UpsertBatchRequest("c", [7, 8], two, null, [new Dictionary<string, FieldValue> { ["kind"] = "lib", ["tags"] = FieldValue.Tags("a", "b"), ["size"] = 3L }, null])),
            (Opcode.Search, new SearchRequest("c", new SearchOptions { K = 3, IncludeFields = true, IncludePayload = true, IncludeVector = true }, q)),
            // Version 5: exposure key and segment tag, and the compression-lifecycle requests.
            (Opcode.SearchBatch, new SearchRequest("c", new SearchOptions { K = 2, ExposureKey = "user-17", Segment = "lib" }, two)),
            (Opcode.BuildGeneration, new BuildGenerationRequest("c", "sq8", "flat", Wait: false)),
            (Opcode.ListGenerations, new NameRequest("c")),
            (Opcode.RunCanary, new RunCanaryRequest(1, new SearchRequest("c", new SearchOptions { K = 2, Rerank = 3 }, two))),
            (Opcode.StartCanary, new StartCanaryRequest("c", new CanarySettings { Generation = 1, SampleRate = 0.5, ExactFraction = 0.25, SegmentField = "kind", QueueCapacity = 8, Seed = 3 })),
            (Opcode.StopCanary, new NameRequest("c")),
            (Opcode.SetExposure, new SetExposureRequest("c", 1, 12.5)),
            (Opcode.Promote, new PromoteRequest("c", 1, new PromotionGate { MinExactQueries = 5, MaxRecallLoss = 0.02, MaxP99Factor = 2 })),
            (Opcode.Promote, new PromoteRequest("c", 1, null)),
            (Opcode.Rollback, new NameRequest("c")),
            (Opcode.CollectGenerations, new NameRequest("c")),
            (Opcode.SetLifecyclePolicy, new LifecyclePolicyRequest("c", new LifecyclePolicy
            {
                RetainRetired = 2, RebalanceOnDrift = true, BuildCandidateOnDrift = true, PromoteWhenGatePasses = true, CanaryRate = 0.05,
                RollbackRecallFloor = 0.8, BuildVectorsPerSecond = 1000,
            })),
            (Opcode.GetDrift, new NameRequest("c")),
            // Version 8/9: backups (the fuzzed server has no backup directory: NotSupported after decoding).
            (Opcode.Backup, new BackupRequest("nightly", null)),
            (Opcode.Backup, new BackupRequest("tuesday", "monday")),
        ];
        if (EngineHasFields)
        {
            frames =
            [
                .. frames,
                (Opcode.Search, new SearchRequest("c", new SearchOptions { K = 3, Filter = new SearchFilter { Where = s_where }, IncludeFields = true, IncludePayload = true, IncludeVector = true }, q)),
                (Opcode.SearchBatch, new SearchRequest("c", new SearchOptions { K = 2, Filter = new SearchFilter { Ids = new HashSet<ulong> { 1, 2 }, Where = FilterParser.Parse("not exists(size) or size in (1, 2, 3)") } }, two)),
            ];
        }
        foreach (var (op, msg) in frames)
        {
            yield return [16, .. Encode(op, msg)];
            yield return [2, .. Encode(op, msg), .. Encode(Opcode.Ping, EmptyResponse.Instance)];
        }
        // Lifecycle responses, in a frame of an opcode no server knows, for the response decoders to start from.
        foreach (var response in s_lifecycleResponses)
            yield return [16, .. Encode(FilterOnly, response)];
        // Filter encodings alone, in a frame of an opcode no server knows: the response decoders include the filter decoder.
        foreach (var text in s_filterSeeds)
            yield return [16, .. Encode(FilterOnly, new RawPayload(FilterCodec.Encode(FilterParser.Parse(text))))];
        // A whole session on a fresh collection, so mutations can reach state-dependent paths (training, deletes).
        var d = new VectorMatrix([1, 0, 0, 0, 1, 0, 0, 0, 1], 3);
        yield return
        [
            16,
            .. Encode(Opcode.CreateCollection, new CreateCollectionRequest("d", new CollectionOptions { Dimension = 3, TrainingThreshold = 2, MaxTrainingSample = 2 })),
            .. Encode(Opcode.UpsertBatch, new UpsertBatchRequest("d", [1, 2, 3], d, null)),
            .. Encode(Opcode.BuildIndex, new NameRequest("d")),
            .. Encode(Opcode.Delete, new IdBatchRequest("d", [2])),
            .. Encode(Opcode.SearchBatch, new SearchRequest("d", new SearchOptions { K = 2, Rerank = 3 }, d)),
            .. Encode(Opcode.ListIds, new ListIdsRequest("d", null, 10)),
            .. Encode(Opcode.Info, new NameRequest("d")),
        ];
    }

    /// <summary>
    /// Whether the engine stores field values and evaluates Where filters (issue 15's engine side): until then a Where
    /// reaching <c>Collection</c> is not yet handled there, so the seeds that carry one are left out (the filter decoder
    /// is still fuzzed through the bare filter frames). The engine's <c>InProcessDatabaseClient</c> overriding the
    /// field-carrying upsert marks that work as merged.
    /// </summary>
    public static bool EngineHasFields { get; } = DetectEngineFields();

    private static bool DetectEngineFields()
    {
        var map = typeof(InProcessDatabaseClient).GetInterfaceMap(typeof(IVectorDatabaseClient));
        int i = Array.FindIndex(map.InterfaceMethods, m => m.Name == nameof(IVectorDatabaseClient.UpsertBatchAsync) && m.GetParameters().Length == 6);
        return i >= 0 && map.TargetMethods[i].DeclaringType != typeof(IVectorDatabaseClient);
    }

    /// <summary>An opcode no server knows, carrying a bare payload for the decoders.</summary>
    private const Opcode FilterOnly = (Opcode)0x50;

    private static readonly CanaryReport s_canary = new()
    {
        Generation = 2, LiveGeneration = 1, Queries = 40, ExactQueries = 20, K = 10, RecallLive = 0.91, RecallCandidate = 0.88, Overlap = 0.8,
        LiveP50Ms = 0.2, LiveP99Ms = 0.9, CandidateP50Ms = 0.1, CandidateP99Ms = 0.5, CandidateIndexBytes = 1000, LiveIndexBytes = 4000,
        Segments = [new SegmentRecall("lib", 7, 0.9, 0.7), new SegmentRecall("python3-", 3, 0.95, 0.93)],
    };

    private static readonly IWireMessage[] s_lifecycleResponses =
    [
        new GenerationsResponse(
        [
            new GenerationInfo { Generation = 1, State = GenerationState.Live, Compression = "sq8", Index = "flat", Ready = true, Progress = 1, CodeSize = 4, IndexBytes = 20 },
            new GenerationInfo { Generation = 2, State = GenerationState.Candidate, Compression = "pq:2", Index = "ivf:2", Progress = 0.5, ExposurePercent = 5, Canary = s_canary },
            new GenerationInfo { Generation = 3, State = GenerationState.Retired, Compression = "none", Index = "flat", Error = "training failed" },
        ]),
        new CanaryResponse(s_canary),
        new DriftResponse(new DriftReport
        {
            Generation = 1, Observed = 500, Signals = [new DriftSignal("reconstruction_error", 0.3, 0.2, 0.1), new DriftSignal("mmd", 0.01, 0.05, double.NaN)],
            Actions = ["rebalance", "build generation 2"],
        }),
        new Int32Response(3),
    ];

    private static readonly FilterExpression s_where = FilterParser.Parse("kind == 'lib' and (size >= 2 or tags contains 'a') and not size == 5");

    private static readonly string[] s_filterSeeds =
    [
        "kind == 'lib'", "size in (1, 2.5, true, 'x', timestamp('2024-01-01'))", "not (a == 1 or b != -2) and exists(c)",
        "tags contains 'python3-' or size < -9223372036854775808 or size >= 1e300",
    ];

    private sealed class RawPayload(byte[] bytes) : IWireMessage
    {
        public int PayloadSize => bytes.Length;

        public void Write(ref WireWriter w) => w.Bytes(bytes);
    }

    /// <summary>Hand-made hostile inputs (kept as regression files): each must be refused with a typed error.</summary>
    public static IEnumerable<(string Name, byte[] Input)> Adversarial()
    {
        var ping = Encode(Opcode.Ping, EmptyResponse.Instance);
        byte[] Patch(byte[] f, int at, uint v)
        {
            var c = (byte[])f.Clone();
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(at), v);
            return c;
        }
        yield return ("length-2gb", [16, .. Patch(ping, 0, 0x8000_0000)]);
        yield return ("length-max", [16, .. Patch(ping, 0, uint.MaxValue)]);
        yield return ("length-below-header", [16, .. Patch(ping, 0, 7)]);
        yield return ("flags-set", [16, .. ping[..5], 1, .. ping[6..]]);
        var search = Encode(Opcode.Search, new SearchRequest("c", new SearchOptions { K = 3 }, new VectorMatrix([1, 2, 3, 4], 4)));
        int opts = ProtocolConstants.HeaderSize + 3;
        yield return ("k-1e9", [16, .. Patch(search, opts, 1_000_000_000)]);
        yield return ("k-0", [16, .. Patch(search, opts, 0)]);
        yield return ("ef-max", [16, .. Patch(search, opts + 8, uint.MaxValue)]);
        // Version 4 puts u32 whereLength and u8 include between the allowed ids and the query count.
        // Version 5 adds two str16 (exposure key, segment tag; empty here) after the include byte.
        yield return ("search-two-queries-announced", [16, .. Patch(search, opts + 30, 2)]);
        yield return ("search-dim-huge", [16, .. Patch(search, opts + 34, 0x4000_0000)]);
        var upsert = Encode(Opcode.UpsertBatch, new UpsertBatchRequest("c", [1], new VectorMatrix([1, 2, 3, 4], 4), [[7]]));
        yield return ("upsert-count-lie", [16, .. Patch(upsert, ProtocolConstants.HeaderSize + 3, 1000)]);
        yield return ("upsert-payload-length-lie", [16, .. Patch(upsert, upsert.Length - 5, 0xFFFF_FFF0)]);
        yield return ("upsert-nan", [16, .. Patch(upsert, ProtocolConstants.HeaderSize + 3 + 9 + 8, 0x7FC0_0000)]);
        yield return ("create-negative-training-sample", [16, .. Encode(Opcode.CreateCollection,
            new CreateCollectionRequest("n", new CollectionOptions { Dimension = 2, TrainingThreshold = 1, MaxTrainingSample = -5 })),
            .. Encode(Opcode.UpsertBatch, new UpsertBatchRequest("n", [1], new VectorMatrix([1, 2], 2), null)),
            .. Encode(Opcode.BuildIndex, new NameRequest("n"))]);
        yield return ("truncated-mid-header", [16, .. ping[..7]]);
        // Hostile filters: 100k nested 'not', an 'and' and an 'in' list announcing far more than the bytes hold.
        yield return ("filter-deep-not", [16, .. Encode(FilterOnly, new RawPayload([FilterCodec.Format, .. Enumerable.Repeat((byte)7, 100_000)]))]);
        yield return ("filter-operands-lie", [16, .. Encode(FilterOnly, new RawPayload([FilterCodec.Format, 5, 0xA0, 0x0F, 4, 1, 0, (byte)'a']))]);
        yield return ("filter-in-list-lie", [16, .. Encode(FilterOnly, new RawPayload([FilterCodec.Format, 2, 1, 0, (byte)'a', 0x00, 0x10, 5, 1]))]);
        var whereSearch = Encode(Opcode.Search, new SearchRequest("c", new SearchOptions { K = 3, Filter = new SearchFilter { Where = Filter.Exists("kind") } }, new VectorMatrix([1, 2, 3, 4], 4)));
        yield return ("search-where-length-lie", [16, .. Patch(whereSearch, opts + 21, 0x7FFF_FFFF)]);
        yield return ("multi-segment-search", [1, .. search, .. ping]);
        // Lifecycle: a generation list announcing 2^31 entries, an unknown generation state, unknown ladder bits, a NaN
        // exposure share, a canary run whose embedded search announces a huge batch.
        var list = Encode(FilterOnly, s_lifecycleResponses[0]);
        yield return ("generations-count-lie", [16, .. Patch(list, ProtocolConstants.HeaderSize, 0x7FFF_FFFF)]);
        var badState = (byte[])list.Clone();
        badState[ProtocolConstants.HeaderSize + 4 + 4] = 9;
        yield return ("generation-state-unknown", [16, .. badState]);
        var policy = Encode(Opcode.SetLifecyclePolicy, new LifecyclePolicyRequest("c", new LifecyclePolicy()));
        var badLadder = (byte[])policy.Clone();
        badLadder[ProtocolConstants.HeaderSize + 3 + 4] = 0x80;
        yield return ("policy-ladder-bits", [16, .. badLadder]);
        var exposure = Encode(Opcode.SetExposure, new SetExposureRequest("c", 1, 10));
        yield return ("exposure-nan", [16, .. exposure[..^8], .. BitConverter.GetBytes(double.NaN)]);
        var canary = Encode(Opcode.RunCanary, new RunCanaryRequest(1, new SearchRequest("c", new SearchOptions { K = 3 }, new VectorMatrix([1, 2, 3, 4], 4))));
        yield return ("canary-batch-huge", [16, .. Patch(canary, opts + 4 + 30, 0x7FFF_FFFF)]);
    }

    /// <summary>One encoded frame.</summary>
    public static byte[] Encode(Opcode opcode, IWireMessage message)
    {
        var w = new ArrayBufferWriter<byte>();
        FrameWriter.Write(w, (byte)opcode, 1, message);
        return w.WrittenSpan.ToArray();
    }
}
