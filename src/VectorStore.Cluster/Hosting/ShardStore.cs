using Microsoft.Extensions.Options;
using VectorStore.Collections;

namespace VectorStore.Cluster.Hosting;

/// <summary>
/// The silo's own embedded database: every shard copy on this silo is a collection in it, named
/// <c>{database}.{collection}.{shard}.{d|t}{n}</c> (d = data, t = the shared training sample).
/// </summary>
/// <remarks>Thread-safety: safe from any thread (the database is; the counter is interlocked).</remarks>
internal sealed class ShardStore : IDisposable
{
    private readonly Lazy<VectorDatabase> _db;
    private long _next;
    private readonly string _samples;

    public ShardStore(IOptions<VectorStoreSiloOptions> options)
    {
        var dir = options.Value.DataDirectory;
        if (string.IsNullOrWhiteSpace(dir)) throw new InvalidArgumentException("VectorStoreSiloOptions.DataDirectory is required");
        _samples = Path.Combine(dir, "cluster-samples");
        _db = new Lazy<VectorDatabase>(() =>
        {
            var db = VectorDatabase.Open(dir);
            // Names carry a per-silo counter so a rebuilt copy never collides with the one it replaces.
            foreach (var name in db.CollectionNames)
            {
                int dot = name.LastIndexOf('.');
                if (dot >= 0 && name.Length > dot + 2 && long.TryParse(name.AsSpan(dot + 2), out long n)) _next = Math.Max(_next, n);
            }
            return db;
        });
    }

    public VectorDatabase Database => _db.Value;

    /// <summary>Where copies keep their generations' shared training samples (created on first use).</summary>
    public string SampleDirectory
    {
        get
        {
            Directory.CreateDirectory(_samples);
            return _samples;
        }
    }

    /// <summary>A new collection named <c>{prefix}{kind}{n}</c>.</summary>
    public Collection Create(string prefix, char kind, CollectionOptions options) =>
        Database.CreateCollection($"{prefix}{kind}{Interlocked.Increment(ref _next)}", options);

    /// <summary>The newest collection named <c>{prefix}{kind}{n}</c>, or null.</summary>
    public Collection? Latest(string prefix, char kind)
    {
        var newest = Database.CollectionNames
            .Where(n => n.StartsWith(prefix + kind, StringComparison.Ordinal) && long.TryParse(n.AsSpan(prefix.Length + 1), out _))
            .MaxBy(n => long.Parse(n.AsSpan(prefix.Length + 1), System.Globalization.CultureInfo.InvariantCulture));
        return newest is null ? null : Database.GetCollection(newest);
    }

    /// <summary>Drops every collection, and every generation sample, whose name starts with <paramref name="prefix"/>.</summary>
    public void DropAll(string prefix)
    {
        foreach (var name in CollectionsOf(prefix)) Database.DropCollection(name);
        foreach (var file in SamplesOf(prefix)) File.Delete(file);
    }

    /// <summary>
    /// Bytes on disk of every collection, and every generation sample, whose name starts with <paramref name="prefix"/>
    /// (a collection set aside as damaged at open counts 0).
    /// </summary>
    public long BytesOf(string prefix)
    {
        long bytes = 0;
        foreach (var name in CollectionsOf(prefix))
        {
            try { bytes += Database.DiskBytes(name); }
            catch (VectorStoreException) { /* damaged or dropped meanwhile: nothing to count */ }
        }
        foreach (var file in SamplesOf(prefix)) bytes += new FileInfo(file).Length;
        return bytes;
    }

    // What belongs to the copies named by a prefix: BytesOf counts exactly what DropAll deletes.
    private IEnumerable<string> CollectionsOf(string prefix) =>
        Database.CollectionNames.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).ToArray();

    private IEnumerable<string> SamplesOf(string prefix) => Directory.EnumerateFiles(SampleDirectory, prefix + "*");

    public void Drop(Collection? c)
    {
        if (c is not null) Database.DropCollection(c.Name);
    }

    public void Dispose()
    {
        if (_db.IsValueCreated) _db.Value.Dispose();
    }
}
