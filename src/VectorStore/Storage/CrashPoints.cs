using System.Diagnostics;

namespace VectorStore.Storage;

/// <summary>
/// Injected crash points for the crash-point tests: with <c>VECTORSTORE_CRASH_AT=POINT[:N]</c> in its environment the
/// process kills itself with SIGKILL (no finally blocks, no flush, exactly what a kill -9 leaves) the N-th time
/// (default 1) it reaches POINT. The points are the steps of a group commit (see <see cref="FasterWriteAheadLog"/>).
/// Unset, <see cref="Reach"/> is one comparison against null. Thread-safety: safe from any thread.
/// </summary>
internal static class CrashPoints
{
    /// <summary>An entry is in FASTER's memory; nothing of its commit has started.</summary>
    public const string Appended = "wal.appended";

    /// <summary>The segments are fsynced up to the commit's address; its metadata slot is not written yet.</summary>
    public const string SegmentsSynced = "wal.segments-synced";

    /// <summary>FASTER's commit-metadata slot is written and fsynced; the durable-tail record is not.</summary>
    public const string CommitWritten = "wal.commit-written";

    /// <summary>The durable-tail record is fsynced; the writers are about to be acknowledged.</summary>
    public const string TailWritten = "wal.tail-written";

    /// <summary>As <see cref="TailWritten"/>, for a commit that ended exactly on a page boundary after page padding.</summary>
    public const string PageBoundaryCommit = "wal.page-boundary-commit";

    private static readonly string? s_point;
    private static readonly int s_at = 1;
    private static int s_hits;

    static CrashPoints()
    {
        var spec = Environment.GetEnvironmentVariable("VECTORSTORE_CRASH_AT");
        if (string.IsNullOrEmpty(spec)) return;
        int colon = spec.IndexOf(':');
        s_point = colon < 0 ? spec : spec[..colon];
        if (colon >= 0 && int.TryParse(spec[(colon + 1)..], out int n) && n > 0) s_at = n;
    }

    /// <summary>Kills the process if it is configured to crash at the current hit of <paramref name="point"/>.</summary>
    public static void Reach(string point)
    {
        if (s_point is null || s_point != point) return;
        if (Interlocked.Increment(ref s_hits) == s_at) Process.GetCurrentProcess().Kill();
    }
}
