using System.Text.Json;
using Orleans.Runtime;
using Orleans.Storage;
using VectorStore.Storage;

namespace VectorStore.Cluster.Hosting;

/// <summary>
/// Orleans grain storage in a directory every silo can reach (one machine, or a shared file system): one JSON file
/// per grain state, replaced atomically and fsynced, with an ETag (a counter) checked under an exclusive lock file
/// so two writers cannot both win. Enough for the layout and catalog; a deployment over several machines without a
/// shared file system registers a database-backed Orleans provider under <see cref="ClusterStorage.Name"/> instead.
/// </summary>
/// <remarks>Thread-safety: safe from any thread and any process sharing the directory (the lock file serializes).</remarks>
internal sealed class FileGrainStorage(string directory) : IGrainStorage
{
    /// <summary>Version of the file format (docs/cluster.md, "Metadata on disk").</summary>
    public const int FormatVersion = 1;

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        using var _ = await LockAsync(path);
        var file = ReadFile<T>(path);
        grainState.State = file is null ? Activator.CreateInstance<T>() : file.State;
        grainState.ETag = file?.ETag.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = file is not null;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        using var _ = await LockAsync(path);
        var file = ReadFile<T>(path);
        CheckETag(file?.ETag, grainState.ETag, path);
        long etag = (file?.ETag ?? 0) + 1;
        FileDurability.WriteAtomic(path, JsonSerializer.SerializeToUtf8Bytes(new StateFile<T> { Format = FormatVersion, ETag = etag, State = grainState.State }, s_json));
        grainState.ETag = etag.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        using var _ = await LockAsync(path);
        var file = ReadFile<T>(path);
        CheckETag(file?.ETag, grainState.ETag, path);
        if (file is not null)
        {
            File.Delete(path);
            FileDurability.FsyncDirectory(directory);
        }
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private static void CheckETag(long? stored, string? expected, string path)
    {
        string? s = stored?.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (s != expected) throw new InconsistentStateException($"{path}: stored version {s ?? "none"}, writer read {expected ?? "none"}", s, expected, null);
    }

    private string PathOf(string stateName, GrainId grainId)
    {
        Directory.CreateDirectory(directory);
        // The key may hold '/' and ':'; escaping keeps one flat directory with reversible names.
        return Path.Combine(directory, Uri.EscapeDataString($"{stateName}.{grainId}") + ".json");
    }

    private static StateFile<T>? ReadFile<T>(string path)
    {
        if (!File.Exists(path)) return null;
        StateFile<T>? file;
        try { file = JsonSerializer.Deserialize<StateFile<T>>(File.ReadAllBytes(path), s_json); }
        catch (JsonException e) { throw new StoreCorruptedException(path, $"not a VectorStore cluster metadata file ({e.Message})", e); }
        if (file is null || file.Format != FormatVersion) throw new StoreCorruptedException(path, $"unsupported metadata format {file?.Format}");
        return file;
    }

    /// <summary>The exclusive lock beside <paramref name="path"/>: every process sharing the directory waits for it (up to 10 s).</summary>
    internal static async Task<FileStream> LockAsync(string path)
    {
        for (int attempt = 0; ; attempt++)
        {
            try { return new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1); }
            catch (IOException) when (attempt < 400) { await Task.Delay(25); }
        }
    }
}
