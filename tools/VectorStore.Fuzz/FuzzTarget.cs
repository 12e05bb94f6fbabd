using System.Buffers;
using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Protocol;
using VectorStore.Server;

namespace VectorStore.Fuzz;

/// <summary>
/// What the fuzzer feeds: a byte stream as a server would receive it. The stream is cut into segments (so the
/// multi-segment paths of <see cref="FrameParser"/> run), split into frames, and every frame is decoded by the
/// server's dispatcher against a small fresh in-memory database (whose collection declares fields, so filters reach
/// the engine), by every client-side response decoder in the current and the previous protocol version, and by the
/// filter decoder (and the version-5 lifecycle response decoders).
/// A <see cref="VectorStoreException"/> (a typed refusal) is the expected outcome of bad input; any other exception
/// escaping is a bug and the fuzzer reports it as a crash.
/// </summary>
public static class FuzzTarget
{
    /// <summary>The fields of the fuzzed collection "c" (seed frames name them).</summary>
    internal static readonly FieldDefinition[] s_fields = [new("kind", FieldType.Keyword), new("tags", FieldType.Tags), new("size", FieldType.Int)];

    private static readonly ProtocolLimits s_limits = new() { MaxFrameBytes = 1 << 20, MaxBatch = 1024, MaxK = 1000, MaxDimension = 64, MaxResponseBytes = 1 << 20 };

    /// <summary>Runs one input; returns a short signature of the outcomes (used as feedback when no coverage map is available).</summary>
    public static string Run(ReadOnlySpan<byte> input)
    {
        var outcomes = new System.Text.StringBuilder();
        var sequence = Segment(input);
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 6, Fields = s_fields });
        for (ulong i = 0; i < 5; i++) c.Upsert(i, [i, 1, 2, -1f * i], i % 2 == 0 ? [(byte)i] : default);
        var dispatcher = new RequestDispatcher(db, new ServerOptions { Limits = s_limits });
        for (int frames = 0; frames < 64; frames++)
        {
            if (sequence.IsEmpty)
            {
                outcomes.Append("E;");
                break;
            }
            FrameStatus status;
            FrameHeader header;
            ReadOnlySequence<byte> payload;
            SequencePosition end;
            try
            {
                status = FrameParser.TryRead(sequence, s_limits.MaxFrameBytes, out header, out payload, out end);
            }
            catch (ProtocolException e)
            {
                outcomes.Append("H:").Append(e.Code).Append(';');
                break;
            }
            if (status == FrameStatus.Incomplete)
            {
                outcomes.Append("I;");
                break;
            }
            var bytes = payload.ToArray();
            outcomes.Append(header.Opcode.ToString("X2")).Append(':');
            try
            {
                if (header.Opcode == (byte)Opcode.Hello) HelloRequest.Read(bytes);
                else dispatcher.Execute(header.Opcode, bytes, ProtocolConstants.Version);
                outcomes.Append("ok");
            }
            catch (VectorStoreException e)
            {
                outcomes.Append(e is ProtocolException p ? p.Code.ToString() : e.GetType().Name);
            }
            catch (AggregateException e) when (e.InnerExceptions.All(x => x is VectorStoreException))
            {
                outcomes.Append("agg");
            }
            DecodeAsResponses(bytes, outcomes);
            outcomes.Append(';');
            sequence = sequence.Slice(end);
        }
        return outcomes.ToString();
    }

    private static void DecodeAsResponses(byte[] payload, System.Text.StringBuilder outcomes)
    {
        ulong[] ids = payload.Length > 8 ? [1, 2] : [1];
        Action[] decoders =
        [
            () => ErrorResponse.Read(payload), () => HelloResponse.Read(payload), () => BoolsResponse.Read(payload),
            () => NamesResponse.Read(payload), () => InfoResponse.Read(payload, ProtocolConstants.Version), () => InfoResponse.Read(payload, 3),
            () => GetResponse.Read(payload, ids), () => GetResponse.Read(payload, ids, 3), () => IdsResponse.Read(payload),
            () => SearchResponse.Read(payload), () => SearchResponse.Read(payload, 3), () => EmptyResponse.Read(payload),
            () => FilterCodec.Decode(payload), () => GenerationsResponse.Read(payload), () => CanaryResponse.Read(payload),
            () => DriftResponse.Read(payload), () => DriftResponse.Read(payload, 6), () => Int32Response.Read(payload), () => SearchResponse.Read(payload, 4), () => InfoResponse.Read(payload, 4),
            () => BackupResponse.Read(payload), () => BackupResponse.Read(payload, 8), () => BackupRequest.Read(payload), () => BackupRequest.Read(payload, 8),
        ];
        foreach (var decode in decoders)
        {
            try
            {
                decode();
                outcomes.Append('+');
            }
            catch (ProtocolException)
            {
                outcomes.Append('-');
            }
        }
    }

    /// <summary>Cuts the input into a chain of segments of sizes chosen by its first byte.</summary>
    private static ReadOnlySequence<byte> Segment(ReadOnlySpan<byte> input)
    {
        if (input.Length == 0) return ReadOnlySequence<byte>.Empty;
        int step = 1 + input[0] % 17;
        var data = input[1..].ToArray();
        if (data.Length == 0 || step > 15) return new ReadOnlySequence<byte>(data);
        Chunk? first = null, last = null;
        for (int i = 0; i < data.Length; i += step)
        {
            var mem = data.AsMemory(i, Math.Min(step, data.Length - i));
            if (first is null) first = last = new Chunk(mem, 0);
            else last = last!.Append(mem);
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Chunk Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Chunk(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
