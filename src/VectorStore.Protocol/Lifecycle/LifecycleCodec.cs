using System.Text;
using VectorStore.Lifecycle;

namespace VectorStore.Protocol;

/// <summary>
/// The compression-lifecycle pieces several version-5 messages share (data-format.md §5.8): a generation number, a
/// promotion gate, a canary report, a generation. Every reader checks counts against a limit and against the bytes
/// left before allocating, and an enum byte against its known values (<see cref="ErrorCode.BadPayload"/>). Stateless.
/// </summary>
internal static class LifecycleCodec
{
    /// <summary>Most per-segment rows a canary report carries (the worst first; further ones are left out).</summary>
    public const int MaxSegments = 65_536;

    /// <summary>Most generations a list carries.</summary>
    public const int MaxGenerations = 65_536;

    /// <summary>Most drift signals in a report.</summary>
    public const int MaxSignals = 1024;

    /// <summary>Most drift ladder actions in a report (the newest; older ones are left out).</summary>
    public const int MaxActions = 4096;

    /// <summary>
    /// <paramref name="s"/> cut to at most <paramref name="maxBytes"/> UTF-8 bytes at a character boundary: messages
    /// the engine writes (a training error, a ladder action) are reports, and a long one must not fail the response.
    /// </summary>
    public static string Clip(string s, int maxBytes = ProtocolConstants.MaxStringBytes)
    {
        if (Encoding.UTF8.GetByteCount(s) <= maxBytes) return s;
        int n = 0, i = 0;
        while (i < s.Length)
        {
            int len = char.IsSurrogatePair(s, i) ? 2 : 1;
            int bytes = Encoding.UTF8.GetByteCount(s.AsSpan(i, len));
            if (n + bytes > maxBytes) break;
            n += bytes;
            i += len;
        }
        return s[..i];
    }

    /// <summary>A count no larger than <paramref name="max"/> (LimitExceeded) whose items, at least <paramref name="minBytes"/> each, fit the bytes left (BadPayload).</summary>
    public static int Count(ref WireReader r, string field, int max, int minBytes)
    {
        int n = r.Count(field, max);
        if ((long)n * minBytes > r.Remaining)
            throw new ProtocolException(ErrorCode.BadPayload, $"{field} {n} needs at least {(long)n * minBytes} bytes, {r.Remaining} left");
        return n;
    }

    /// <summary>A generation number named in a request: positive.</summary>
    public static int Generation(ref WireReader r)
    {
        int g = r.I32("generation");
        return g >= 1 ? g : throw new ProtocolException(ErrorCode.InvalidArgument, $"generation must be positive, got {g}");
    }

    /// <summary>A generation number in a response: 0 (none) or positive.</summary>
    public static int GenerationOrZero(ref WireReader r, string field)
    {
        int g = r.I32(field);
        return g >= 0 ? g : throw new ProtocolException(ErrorCode.BadPayload, $"{field} is negative ({g})");
    }

    /// <summary>A string the engine reports, clipped, empty for null.</summary>
    public static int StrSize(string? s) => WireWriter.StrSize(Clip(s ?? ""));

    /// <inheritdoc cref="StrSize"/>
    public static void Str(ref WireWriter w, string? s) => w.Str(Clip(s ?? ""));

    public const int GateSize = 4 + 8 + 8;

    public static void WriteGate(ref WireWriter w, PromotionGate gate)
    {
        w.I32(gate.MinExactQueries);
        w.F64(gate.MaxRecallLoss);
        w.F64(gate.MaxP99Factor);
    }

    /// <summary>Reads and validates a gate (<see cref="InvalidArgumentException"/> naming the bad value).</summary>
    public static PromotionGate ReadGate(ref WireReader r)
    {
        var gate = new PromotionGate { MinExactQueries = r.I32("gate minExactQueries"), MaxRecallLoss = r.F64("gate maxRecallLoss"), MaxP99Factor = r.F64("gate maxP99Factor") };
        gate.Validate();
        return gate;
    }

    private const int CanaryFixedSize = 5 * 4 + 7 * 8 + 2 * 8 + 4;
    private const int SegmentMinSize = 2 + 4 + 8 + 8;

    private static int SegmentCount(CanaryReport c) => Math.Min(c.Segments.Count, MaxSegments);

    public static long CanarySize(CanaryReport c)
    {
        long size = CanaryFixedSize;
        for (int i = 0; i < SegmentCount(c); i++) size += SegmentMinSize - 2 + StrSize(c.Segments[i].Segment);
        return size;
    }

    public static void WriteCanary(ref WireWriter w, CanaryReport c)
    {
        w.I32(c.Generation);
        w.I32(c.LiveGeneration);
        w.I32(c.Queries);
        w.I32(c.ExactQueries);
        w.I32(c.K);
        w.F64(c.RecallLive);
        w.F64(c.RecallCandidate);
        w.F64(c.Overlap);
        w.F64(c.LiveP50Ms);
        w.F64(c.LiveP99Ms);
        w.F64(c.CandidateP50Ms);
        w.F64(c.CandidateP99Ms);
        w.I64(c.CandidateIndexBytes);
        w.I64(c.LiveIndexBytes);
        int n = SegmentCount(c);
        w.U32((uint)n);
        for (int i = 0; i < n; i++)
        {
            var s = c.Segments[i];
            Str(ref w, s.Segment);
            w.I32(s.Queries);
            w.F64(s.RecallLive);
            w.F64(s.RecallCandidate);
        }
    }

    public static CanaryReport ReadCanary(ref WireReader r)
    {
        var c = new CanaryReport
        {
            Generation = GenerationOrZero(ref r, "canary generation"),
            LiveGeneration = GenerationOrZero(ref r, "canary live generation"),
            Queries = NonNegative(r.I32("canary queries"), "canary queries"),
            ExactQueries = NonNegative(r.I32("canary exact queries"), "canary exact queries"),
            K = NonNegative(r.I32("canary k"), "canary k"),
            RecallLive = r.F64("recallLive"),
            RecallCandidate = r.F64("recallCandidate"),
            Overlap = r.F64("overlap"),
            LiveP50Ms = r.F64("liveP50Ms"),
            LiveP99Ms = r.F64("liveP99Ms"),
            CandidateP50Ms = r.F64("candidateP50Ms"),
            CandidateP99Ms = r.F64("candidateP99Ms"),
            CandidateIndexBytes = NonNegative(r.I64("candidateIndexBytes"), "candidateIndexBytes"),
            LiveIndexBytes = NonNegative(r.I64("liveIndexBytes"), "liveIndexBytes"),
        };
        int n = Count(ref r, "segment count", MaxSegments, SegmentMinSize);
        var segments = new SegmentRecall[n];
        for (int i = 0; i < n; i++)
            segments[i] = new SegmentRecall(r.Str("segment"), NonNegative(r.I32("segment queries"), "segment queries"), r.F64("segment recallLive"), r.F64("segment recallCandidate"));
        return c with { Segments = segments };
    }

    private const int GenerationMinSize = 4 + 1 + 2 + 2 + 1 + 8 + 2 + 4 + 8 + 8 + 1;

    public static long GenerationSize(GenerationInfo g) =>
        GenerationMinSize - 6 + StrSize(g.Compression) + StrSize(g.Index) + StrSize(g.Error) + (g.Canary is null ? 0 : CanarySize(g.Canary));

    public static void WriteGeneration(ref WireWriter w, GenerationInfo g)
    {
        w.I32(g.Generation);
        w.U8((byte)g.State);
        Str(ref w, g.Compression);
        Str(ref w, g.Index);
        w.Bool(g.Ready);
        w.F64(g.Progress);
        Str(ref w, g.Error);
        w.I32(g.CodeSize);
        w.I64(g.IndexBytes);
        w.F64(g.ExposurePercent);
        w.Bool(g.Canary is not null);
        if (g.Canary is not null) WriteCanary(ref w, g.Canary);
    }

    public static GenerationInfo ReadGeneration(ref WireReader r)
    {
        int generation = r.I32("generation");
        if (generation < 1) throw new ProtocolException(ErrorCode.BadPayload, $"generation must be positive, got {generation}");
        byte state = r.U8("state");
        if (state > (byte)GenerationState.Retired) throw new ProtocolException(ErrorCode.BadPayload, $"unknown generation state {state}");
        var compression = r.Str("compression");
        var index = r.Str("index");
        bool ready = r.Bool("ready");
        double progress = r.F64("progress");
        var error = r.Str("error");
        int codeSize = NonNegative(r.I32("codeSize"), "codeSize");
        long indexBytes = NonNegative(r.I64("indexBytes"), "indexBytes");
        double exposure = r.F64("exposurePercent");
        var canary = r.Bool("hasCanary") ? ReadCanary(ref r) : null;
        return new GenerationInfo
        {
            Generation = generation, State = (GenerationState)state, Compression = compression, Index = index, Ready = ready, Progress = progress,
            Error = error.Length == 0 ? null : error, CodeSize = codeSize, IndexBytes = indexBytes, ExposurePercent = exposure, Canary = canary,
        };
    }

    private static int NonNegative(int v, string field) =>
        v >= 0 ? v : throw new ProtocolException(ErrorCode.BadPayload, $"{field} is negative ({v})");

    private static long NonNegative(long v, string field) =>
        v >= 0 ? v : throw new ProtocolException(ErrorCode.BadPayload, $"{field} is negative ({v})");
}
