using VectorStore.Lifecycle;

namespace VectorStore.Protocol;

/// <summary>
/// GetDrift response (version 5): each drift sensor's reading against its threshold, and what the ladder did; from
/// version 7 on also whether the live generation has sensors at all, and why not.
/// </summary>
/// <param name="Report">The report; at most 1,024 signals and the newest 4,096 actions travel.</param>
/// <param name="Version">Protocol version of the connection: below 7 the report's <see cref="DriftReport.Sensors"/> does not travel (it reads back null).</param>
public sealed record DriftResponse(DriftReport Report, ushort Version = ProtocolConstants.Version) : IWireMessage
{
    private bool CarriesSensors => Version >= ProtocolConstants.DriftSensorsVersion;

    // Empty when the generation has sensors, as the wire says it; a report not marked either way (one built by hand)
    // is sent as having them, as before version 7.
    private string NoSensorsReason => Report.Sensors != false ? "" : string.IsNullOrEmpty(Report.NoSensorsReason) ? "no drift sensors" : Report.NoSensorsReason;

    private const int SignalMinSize = 2 + 3 * 8;

    private int ActionsSkipped => Math.Max(0, Report.Actions.Count - LifecycleCodec.MaxActions);

    /// <inheritdoc />
    public int PayloadSize
    {
        get
        {
            long size = 4 + 8 + 4 + 4;
            foreach (var s in Report.Signals) size += SignalMinSize - 2 + LifecycleCodec.StrSize(s.Name);
            for (int i = ActionsSkipped; i < Report.Actions.Count; i++) size += LifecycleCodec.StrSize(Report.Actions[i]);
            if (CarriesSensors) size += 1 + LifecycleCodec.StrSize(NoSensorsReason);
            return checked((int)size);
        }
    }

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        if (Report.Signals.Count > LifecycleCodec.MaxSignals)
            throw new InvalidArgumentException($"{Report.Signals.Count} drift signals exceed the protocol's {LifecycleCodec.MaxSignals}");
        w.I32(Report.Generation);
        w.I64(Report.Observed);
        w.U32((uint)Report.Signals.Count);
        foreach (var s in Report.Signals)
        {
            LifecycleCodec.Str(ref w, s.Name);
            w.F64(s.Value);
            w.F64(s.Threshold);
            w.F64(s.Baseline);
        }
        w.U32((uint)(Report.Actions.Count - ActionsSkipped));
        for (int i = ActionsSkipped; i < Report.Actions.Count; i++) LifecycleCodec.Str(ref w, Report.Actions[i]);
        if (!CarriesSensors) return;
        w.Bool(NoSensorsReason.Length == 0);
        LifecycleCodec.Str(ref w, NoSensorsReason);
    }

    /// <summary>Decodes the layout of protocol <paramref name="version"/>; throws <see cref="ProtocolException"/>.</summary>
    public static DriftResponse Read(ReadOnlySpan<byte> payload, ushort version = ProtocolConstants.Version)
    {
        var r = new WireReader(payload);
        int generation = LifecycleCodec.GenerationOrZero(ref r, "generation");
        long observed = r.I64("observed");
        if (observed < 0) throw new ProtocolException(ErrorCode.BadPayload, $"observed is negative ({observed})");
        int n = LifecycleCodec.Count(ref r, "signal count", LifecycleCodec.MaxSignals, SignalMinSize);
        var signals = new DriftSignal[n];
        for (int i = 0; i < n; i++) signals[i] = new DriftSignal(r.Str("signal name"), r.F64("signal value"), r.F64("signal threshold"), r.F64("signal baseline"));
        int m = LifecycleCodec.Count(ref r, "action count", LifecycleCodec.MaxActions, 2);
        var actions = new string[m];
        for (int i = 0; i < m; i++) actions[i] = r.Str("action");
        bool? sensors = null;
        string? reason = null;
        if (version >= ProtocolConstants.DriftSensorsVersion)
        {
            sensors = r.Bool("sensors");
            reason = r.Str("no-sensors reason");
            if (sensors.Value != (reason.Length == 0))
                throw new ProtocolException(ErrorCode.BadPayload, sensors.Value ? "a drift report with sensors gives a reason for having none" : "a drift report without sensors gives no reason");
        }
        r.End();
        var report = new DriftReport
        {
            Generation = generation, Observed = observed, Signals = signals, Actions = actions, Sensors = sensors, NoSensorsReason = sensors == false ? reason : null,
        };
        return new DriftResponse(report, version);
    }
}
