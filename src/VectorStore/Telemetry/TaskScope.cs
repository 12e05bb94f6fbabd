using System.Diagnostics;
using System.Diagnostics.Metrics;
using static VectorStore.Telemetry.VectorStoreTelemetry;

namespace VectorStore.Telemetry;

/// <summary>A training or checkpoint being timed (<see cref="EngineTelemetry.StartTask"/>).</summary>
internal readonly struct TaskScope(long started, Histogram<double> histogram, Activity? activity)
{
    /// <summary>Seconds since the start.</summary>
    public double Elapsed => Stopwatch.GetElapsedTime(started).TotalSeconds;

    /// <summary>Records the duration with <paramref name="tags"/> (plus <c>error.type</c> when <paramref name="error"/> is set).</summary>
    public void End(TagList tags, Exception? error = null)
    {
        if (error is not null) tags.Add(ErrorTypeAttribute, error.GetType().FullName);
        if (histogram.Enabled) histogram.Record(Elapsed, tags);
        if (activity is null) return;
        foreach (var tag in tags) activity.SetTag(tag.Key, tag.Value);
        if (error is not null) activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.Dispose();
    }
}
