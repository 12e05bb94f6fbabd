using VectorStore.Lifecycle;

namespace VectorStore.Protocol;

/// <summary>
/// StartCanary (version 5): <c>str16 name</c>, <c>i32 generation</c>, <c>f64 sampleRate</c>, <c>f64 exactFraction</c>,
/// <c>f64 cpuBudget</c>, <c>str16 segmentField</c> (empty = none), <c>i32 queueCapacity</c>, <c>i32 seed</c>. The settings are validated
/// (<see cref="CanarySettings.Validate"/>) on both sides. The response is empty.
/// </summary>
/// <param name="Name">Collection name.</param>
/// <param name="Settings">The shadow canary's settings.</param>
public sealed record StartCanaryRequest(string Name, CanarySettings Settings) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + 4 + 8 + 8 + 8 + WireWriter.StrSize(Settings.SegmentField ?? "") + 4 + 4;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        Settings.Validate();
        w.Str(Name);
        w.I32(Settings.Generation);
        w.F64(Settings.SampleRate);
        w.F64(Settings.ExactFraction);
        w.F64(Settings.CpuBudget);
        w.Str(Settings.SegmentField ?? "");
        w.I32(Settings.QueueCapacity);
        w.I32(Settings.Seed);
    }

    /// <summary>Decodes and validates; throws <see cref="ProtocolException"/> or <see cref="InvalidArgumentException"/>.</summary>
    public static StartCanaryRequest Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        var settings = new CanarySettings
        {
            Generation = LifecycleCodec.Generation(ref r),
            SampleRate = r.F64("sampleRate"),
            ExactFraction = r.F64("exactFraction"),
            CpuBudget = r.F64("cpuBudget"),
            SegmentField = r.Str("segmentField") is { Length: > 0 } field ? field : null,
            QueueCapacity = r.I32("queueCapacity"),
            Seed = r.I32("seed"),
        };
        r.End();
        settings.Validate();
        return new StartCanaryRequest(name, settings);
    }
}
