using VectorStore.Storage;
using VectorStore.Telemetry;

namespace VectorStore.Collections;

/// <summary>What of the target-recall tuning a snapshot keeps: the caller's tuning queries (in a file of their own) and the finished settings.</summary>
public sealed partial class Collection
{
    // The tuning queries file the snapshots name and the kept queries it holds (compared by reference: a new set
    // from TuneSearchOnQueries is a new array).
    private PinnedFileReference? _tuningQueriesFile;
    private float[][]? _tuningQueriesFileOf;
    private int _nextTuningFile = 1;

    // Tunings finished and kept (or new tuning queries) so far, and how many of them the last snapshot wrote: no log
    // record carries them, so a difference makes a checkpoint due (a clean close writes them).
    private long _tuningsKept;
    private long _tuningsWritten;
    private long _tuningsInSnapshot; // the count the snapshot being published holds (checkpoints are serialized)

    /// <summary>Notes a kept tuning or new tuning queries, for the next checkpoint.</summary>
    private void NoteTuningKept() => Interlocked.Increment(ref _tuningsKept);

    /// <summary>
    /// The tuning state for a snapshot in <paramref name="directory"/> (under the upgradeable lock): the kept queries
    /// in a tuning queries file, written when they changed since the last one, and every finished tuning of a
    /// generation whose index the snapshot holds (a tuning still running, or one that failed, is not written).
    /// </summary>
    private SnapshotTuning TuningStateLocked(string directory)
    {
        var queries = Volatile.Read(ref _tuningQueries);
        if (queries is null) (_tuningQueriesFile, _tuningQueriesFileOf) = (null, null);
        else if (_tuningQueriesFile is null || !ReferenceEquals(_tuningQueriesFileOf, queries))
        {
            (_tuningQueriesFile, _tuningQueriesFileOf) = (null, null);
            _tuningQueriesFile = TuningQueriesFile.Write(directory, _nextTuningFile++, queries, Options.Dimension);
            _tuningQueriesFileOf = queries;
        }
        var settings = new List<SnapshotTunedSetting>();
        foreach (var g in _generations)
        {
            // The snapshot holds the live index and the attached others' (a candidate still building is rebuilt).
            if (g.Index is null || (g != _current && !g.Attached)) continue;
            foreach (var (key, lazy) in g.TunedSearches)
            {
                if (!lazy.IsValueCreated) continue;
                var t = lazy.Value;
                settings.Add(new SnapshotTunedSetting(g.Number, key.Target, key.K, key.Ef, key.NProbe, t.Rerank, t.Ef, t.NProbe));
                if (settings.Count == SnapshotTuning.MaxSettings) return new SnapshotTuning(_tuningQueriesFile, settings);
            }
        }
        return new SnapshotTuning(_tuningQueriesFile, settings);
    }

    /// <summary>The queries later tunings run on (tests compare them across a reopen).</summary>
    internal float[][]? KeptTuningQueries => Volatile.Read(ref _tuningQueries);

    /// <summary>After a restore (under the write lock): the kept queries and each generation's finished settings come back.</summary>
    private void RestoreTuningLocked(SnapshotTuning tuning)
    {
        if (tuning.QueriesFile is { } f && tuning.Queries is { } queries)
        {
            Volatile.Write(ref _tuningQueries, queries);
            (_tuningQueriesFile, _tuningQueriesFileOf) = (f, queries);
            _nextTuningFile = Math.Max(_nextTuningFile, f.Sequence + 1);
        }
        foreach (var s in tuning.Settings)
        {
            var g = _generations.Find(x => x.Number == s.Generation);
            if (g?.Index is null) continue; // checked by the reader; a generation without an index has nothing to tune
            g.TunedSearches[(s.Target, s.K, s.Ef, s.NProbe)] = new Lazy<TunedSearch>(new TunedSearch(s.Rerank, s.TunedEf, s.TunedNProbe));
        }
    }

    /// <summary>
    /// Makes the caller's tuning queries and what was tuned on them survive a restart: a checkpoint on a database
    /// directory (nothing in memory or read-only). A failure (or a close meanwhile) is logged, not thrown: the tuning
    /// itself succeeded and holds in this process, and stays due for the next checkpoint or the clean close.
    /// </summary>
    private void PersistTuning()
    {
        try { _journal.Checkpoint(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or VectorStoreException or ObjectDisposedException)
        {
            Log.CheckpointFailed(Instruments.Logger, e, Name);
        }
    }
}
