using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using static VectorStore.Telemetry.VectorStoreTelemetry;

namespace VectorStore.Telemetry;

/// <summary>
/// The per-collection observable gauges of one meter, created once per meter and read from every database that
/// publishes on it. A meter from an <see cref="IMeterFactory"/> is shared by all of that factory's databases and
/// outlives them, and a <see cref="Meter"/> cannot drop an instrument: gauges created per database accumulated, two per
/// open, for the factory's lifetime (a host that opens and closes databases grew its instrument list and every
/// listener's work without bound). Thread-safety: <see cref="Add"/>, <see cref="Remove"/> and the gauges' callbacks may
/// run concurrently; a callback reads the sampler list as it was when it started.
/// </summary>
internal sealed class MeterGauges
{
    private static readonly ConditionalWeakTable<Meter, MeterGauges> s_byMeter = new();
    private static readonly Lock s_create = new();
    private readonly Lock _gate = new();
    private Sampler[] _samplers = [];

    private sealed record Sampler(string? Namespace, Func<IEnumerable<CollectionGauge>> Sample);

    private MeterGauges(Meter meter)
    {
        meter.CreateObservableGauge(VectorStoreTelemetry.ResidentBytes, () => Observe(static g => g.ResidentBytes), "By", "Process memory each collection's allocations hold (computed; the write-ahead log's page buffer is not counted).");
        meter.CreateObservableGauge(VectorCount, () => Observe(static g => g.Vectors), "{vector}", "Live vectors per collection.");
    }

    /// <summary>The gauges of <paramref name="meter"/>, created on first use.</summary>
    public static MeterGauges Of(Meter meter)
    {
        // Under a lock: ConditionalWeakTable may run a factory twice for racing callers and keep one result, and this
        // factory's side effect (two instruments on a meter that cannot drop them) must happen once.
        lock (s_create) return s_byMeter.GetValue(meter, static m => new MeterGauges(m));
    }

    /// <summary>Reports <paramref name="sampler"/>'s collections from now on, tagged with <paramref name="dbNamespace"/> (null: none).</summary>
    public void Add(string? dbNamespace, Func<IEnumerable<CollectionGauge>> sampler)
    {
        lock (_gate) _samplers = [.. _samplers, new Sampler(dbNamespace, sampler)];
    }

    /// <summary>Stops reporting <paramref name="sampler"/> (its database is closed) and drops the reference to it.</summary>
    public void Remove(Func<IEnumerable<CollectionGauge>> sampler)
    {
        lock (_gate) _samplers = Array.FindAll(_samplers, s => !ReferenceEquals(s.Sample, sampler));
    }

    private IEnumerable<Measurement<long>> Observe(Func<CollectionGauge, long> value)
    {
        foreach (var sampler in Volatile.Read(ref _samplers))
            foreach (var g in sampler.Sample())
                yield return new Measurement<long>(value(g), EngineTelemetry.CollectionTags(sampler.Namespace, g.Name));
    }
}
