using System.Buffers;
using System.Buffers.Binary;
using VectorStore.Collections;
using VectorStore.Protocol;
using Xunit;

namespace VectorStore.Tests.Protocol;

public class FrameParserTests
{
    private static byte[] Frame(Opcode op, uint id, IWireMessage m)
    {
        var w = new ArrayBufferWriter<byte>();
        FrameWriter.Write(w, (byte)op, id, m);
        return w.WrittenSpan.ToArray();
    }

    [Fact]
    public void HeaderBytesAreAsDocumented()
    {
        var f = Frame(Opcode.Info, 0x01020304, new NameRequest("ab"));
        Assert.Equal(new byte[] { 12, 0, 0, 0, 0x13, 0, 0, 0, 4, 3, 2, 1, 2, 0, (byte)'a', (byte)'b' }, f);
    }

    [Fact]
    public void EveryPrefixOfAFrameIsIncompleteAndTheWholeFrameParses()
    {
        var f = Frame(Opcode.Search, 5, new SearchRequest("c", new SearchOptions { K = 3 }, new VectorMatrix([1, 2, 3], 3)));
        for (int n = 0; n < f.Length; n++)
            Assert.Equal(FrameStatus.Incomplete, FrameParser.TryRead(new ReadOnlySequence<byte>(f, 0, n), 1 << 20, out _, out _, out _));
        Assert.Equal(FrameStatus.Complete, FrameParser.TryRead(new ReadOnlySequence<byte>(f), 1 << 20, out var h, out var payload, out var end));
        Assert.Equal((byte)Opcode.Search, h.Opcode);
        Assert.Equal(5u, h.RequestId);
        Assert.Equal(f.Length - ProtocolConstants.HeaderSize, (int)payload.Length);
        Assert.Equal(f.Length, new ReadOnlySequence<byte>(f).Slice(0, end).Length);
        var r = SearchRequest.Read(payload.ToArray(), new ProtocolLimits());
        Assert.Equal(3, r.Options.K);
        Assert.Equal(new float[] { 1, 2, 3 }, r.Queries.Data);
    }

    [Theory]
    [InlineData(0u, ErrorCode.BadFrame)]
    [InlineData(7u, ErrorCode.BadFrame)]
    [InlineData(0x8000_0000u, ErrorCode.LimitExceeded)]
    [InlineData(0xFFFF_FFFFu, ErrorCode.LimitExceeded)]
    public void ImpossibleLengthsAreRejectedFromTheHeaderAlone(uint length, ErrorCode code)
    {
        var h = new byte[ProtocolConstants.HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(h, length);
        var e = Assert.Throws<ProtocolException>(() => FrameParser.TryRead(new ReadOnlySequence<byte>(h), 1 << 20, out _, out _, out _));
        Assert.Equal(code, e.Code);
    }

    [Fact]
    public void NonZeroFlagsAreABadFrame()
    {
        var f = Frame(Opcode.Ping, 1, EmptyResponse.Instance);
        f[5] = 1;
        Assert.Equal(ErrorCode.BadFrame, Assert.Throws<ProtocolException>(() => FrameParser.TryRead(new ReadOnlySequence<byte>(f), 1 << 20, out _, out _, out _)).Code);
    }

    [Fact]
    public void TruncatedAndPaddedPayloadsAreBadPayloadNotExceptionsOfOtherTypes()
    {
        var full = new UpsertBatchRequest("c", [1, 2], new VectorMatrix([1, 2, 3, 4], 2), [[9], null]);
        var f = Frame(Opcode.UpsertBatch, 1, full);
        var payload = f.AsSpan(ProtocolConstants.HeaderSize).ToArray();
        var ok = UpsertBatchRequest.Read(payload, new ProtocolLimits());
        Assert.Equal(new ulong[] { 1, 2 }, ok.Ids);
        Assert.Equal(new byte[] { 9 }, ok.Payloads![0]);
        Assert.Null(ok.Payloads[1]);
        for (int n = 0; n < payload.Length; n++)
            Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => UpsertBatchRequest.Read(payload.AsSpan(0, n), new ProtocolLimits())).Code);
        Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => UpsertBatchRequest.Read([.. payload, 0], new ProtocolLimits())).Code);
    }

    [Fact]
    public void CountsBeyondLimitsAreRefusedBeforeAllocating()
    {
        var f = Frame(Opcode.Get, 1, new IdBatchRequest("c", [1]));
        var payload = f.AsSpan(ProtocolConstants.HeaderSize).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(3), uint.MaxValue);
        Assert.Equal(ErrorCode.LimitExceeded, Assert.Throws<ProtocolException>(() => IdBatchRequest.Read(payload, new ProtocolLimits())).Code);
    }

    [Fact]
    public void InvalidUtf8NameIsBadPayload()
    {
        byte[] payload = [2, 0, 0xC3, 0x28];
        Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => NameRequest.Read(payload)).Code);
    }

    [Fact]
    public void ResponsesRoundTrip()
    {
        var info = new InfoResponse(new CollectionOptions { Dimension = 3, Metric = Metric.InnerProduct, Compression = "sq8", Index = "flat", Seed = 9 },
            new CollectionStats { Count = 4, Dimension = 3, Trained = true, CodeSize = 7, IndexBytes = 99, RerankBytes = 48, Compression = "sq8", Index = "flat" });
        var back = InfoResponse.Read(Frame(Opcode.Info, 1, info).AsSpan(ProtocolConstants.HeaderSize));
        Assert.Equal(info.Options, back.Options);
        Assert.Equal(info.Stats, back.Stats);

        var hits = new SearchResponse([[new SearchHit(1, 0.5f), new SearchHit(ulong.MaxValue, -2f)], []]);
        var hb = SearchResponse.Read(Frame(Opcode.SearchBatch, 1, hits).AsSpan(ProtocolConstants.HeaderSize));
        Assert.Equal(hits.Results[0], hb.Results[0]);
        Assert.Empty(hb.Results[1]);

        var err = ErrorResponse.Read(Frame(Opcode.Error, 1, new ErrorResponse(ErrorCode.InvalidVector, "bad ✓")).AsSpan(ProtocolConstants.HeaderSize));
        Assert.Equal(ErrorCode.InvalidVector, err.Code);
        Assert.Equal("bad ✓", err.Message);
    }

    [Fact]
    public void MultiSegmentSequencesParseLikeContiguousOnes()
    {
        var a = Frame(Opcode.Ping, 1, EmptyResponse.Instance);
        var b = Frame(Opcode.Info, 2, new NameRequest("coll"));
        byte[] all = [.. a, .. b];
        // Split at every position: header and payload straddling segment boundaries.
        for (int cut = 1; cut < all.Length; cut++)
        {
            var first = new TestSegment(all.AsMemory(0, cut));
            var last = first.Append(all.AsMemory(cut));
            var seq = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
            Assert.Equal(FrameStatus.Complete, FrameParser.TryRead(seq, 1 << 20, out var h1, out _, out var end));
            Assert.Equal(1u, h1.RequestId);
            seq = seq.Slice(end);
            Assert.Equal(FrameStatus.Complete, FrameParser.TryRead(seq, 1 << 20, out var h2, out var p2, out end));
            Assert.Equal(2u, h2.RequestId);
            Assert.Equal("coll", NameRequest.Read(p2.ToArray()).Name);
            Assert.True(seq.Slice(end).IsEmpty);
        }
    }

    private sealed class TestSegment : ReadOnlySequenceSegment<byte>
    {
        public TestSegment(ReadOnlyMemory<byte> m, long index = 0)
        {
            Memory = m;
            RunningIndex = index;
        }

        public TestSegment Append(ReadOnlyMemory<byte> m)
        {
            var s = new TestSegment(m, RunningIndex + Memory.Length);
            Next = s;
            return s;
        }
    }
}
