using VectorStore.Collections;
using VectorStore.Storage;

namespace VectorStore;

/// <summary>
/// Collections set aside at open (<see cref="DatabaseOptions.SetAsideDamagedCollections"/>): their files could not be
/// opened, so they are not served, but they stay in the manifest and on disk until dropped.
/// </summary>
public sealed partial class VectorDatabase
{
    // Collection name → the error its open failed with. Under _gate.
    private readonly Dictionary<string, VectorStoreException> _damaged = new(StringComparer.Ordinal);

    /// <summary>
    /// The collections set aside when the database opened (<see cref="DatabaseOptions.SetAsideDamagedCollections"/>),
    /// each with the error its open failed with; empty otherwise. They are not in <see cref="CollectionNames"/>, so a
    /// server's clients learn of one only from the error of a call naming it (<c>CollectionExistsAsync</c> over TCP,
    /// which reads the names, says false where <see cref="CollectionExists"/> in process says true).
    /// </summary>
    public IReadOnlyDictionary<string, VectorStoreException> DamagedCollections
    {
        get
        {
            lock (_gate)
            {
                ThrowIfClosed();
                return new Dictionary<string, VectorStoreException>(_damaged, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>
    /// Opens one collection at start-up with <paramref name="open"/>; a damaged one is set aside when the options
    /// allow it (whatever <paramref name="open"/> opened of it is closed by then), and otherwise fails the open.
    /// </summary>
    private void OpenOrSetAside(ManifestCollection entry, Func<ManifestCollection, Collection> open)
    {
        try
        {
            try
            {
                _collections.Add(entry.Name, open(entry));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A file the open could not read or write (permissions, EIO) that no layer below named: typed here.
                throw new StorageIoException(CollectionDirectory(entry), $"opening collection '{entry.Name}' failed: {e.Message}", e);
            }
        }
        catch (VectorStoreException e) when (Options.SetAsideDamagedCollections && e is StoreCorruptedException or StorageIoException)
        {
            _damaged.Add(entry.Name, e);
            Telemetry.Log.CollectionSetAside(_telemetry.Logger, e, entry.Name);
        }
    }

    /// <summary>Throws the error a set-aside collection <paramref name="name"/> was set aside with, if it was. Caller holds the gate.</summary>
    private void ThrowIfDamaged(string name)
    {
        if (!_damaged.TryGetValue(name, out var cause)) return;
        string problem = $"collection '{name}' was set aside when the database opened and is not served; drop it, or restore its files and reopen the database. Its error";
        throw cause switch
        {
            StoreCorruptedException c => new StoreCorruptedException(c.Path, $"{problem}: {WithoutPath(c.Message, c.Path)}", c),
            StorageIoException io => new StorageIoException(io.Path, $"{problem}: {WithoutPath(io.Message, io.Path)}", io),
            _ => new VectorStoreException($"{problem}: {cause.Message}", cause),
        };
    }

    private static string WithoutPath(string message, string path) =>
        message.StartsWith(path + ": ", StringComparison.Ordinal) ? message[(path.Length + 2)..] : message;
}
