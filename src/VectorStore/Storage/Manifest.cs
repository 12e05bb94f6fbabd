using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace VectorStore.Storage;

/// <summary>One collection's entry in the manifest.</summary>
internal sealed record ManifestCollection
{
    [JsonPropertyName("name")] public required string Name { get; init; }
    [JsonPropertyName("directory")] public required string Directory { get; init; }
    [JsonPropertyName("dimension")] public required int Dimension { get; init; }
    [JsonPropertyName("metric")] public required string Metric { get; init; }
    [JsonPropertyName("compression")] public required string Compression { get; init; }
    [JsonPropertyName("index")] public required string Index { get; init; }
    [JsonPropertyName("training_threshold")] public required int TrainingThreshold { get; init; }
    [JsonPropertyName("max_training_sample")] public required int MaxTrainingSample { get; init; }
    [JsonPropertyName("seed")] public required int Seed { get; init; }

    /// <summary>Where the full-precision vectors live: <c>disk</c> or <c>ram</c> (manifest version 2; absent in 1 = disk).</summary>
    [JsonPropertyName("raw_vectors")] public string? RawVectors { get; init; }

    /// <summary>Declared fields as <c>name:type</c> (absent when none; older manifests have none).</summary>
    [JsonPropertyName("fields")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public List<string>? Fields { get; init; }

    /// <summary>The second-stage code spec (<c>rq:B</c>), absent when none.</summary>
    [JsonPropertyName("refine")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Refine { get; init; }

    /// <summary>File name of the current snapshot inside <see cref="Directory"/>, or null before the first.</summary>
    [JsonPropertyName("snapshot")] public string? Snapshot { get; init; }

    /// <summary>Log address the snapshot covers: recovery replays from here.</summary>
    [JsonPropertyName("snapshot_log_address")] public long SnapshotLogAddress { get; init; }

    /// <summary>Sequence number of the newest snapshot (names the next one).</summary>
    [JsonPropertyName("snapshot_sequence")] public long SnapshotSequence { get; init; }
}

/// <summary>The manifest body.</summary>
internal sealed record ManifestBody
{
    [JsonPropertyName("collections")] public List<ManifestCollection> Collections { get; init; } = [];
}

/// <summary>
/// The database manifest (<c>MANIFEST</c>): magic, format version, length, UTF-8 JSON body, CRC-32 (data-format.md §4.1).
/// Replaced atomically (temp file, fsync, rename, directory fsync). Thread-safety: callers serialize writes.
/// </summary>
internal static class Manifest
{
    public const string FileName = "MANIFEST";
    public const uint FormatVersion = 2;
    private static ReadOnlySpan<byte> Magic => "VSTOREDB"u8;

    public static void Write(string directory, ManifestBody body) =>
        FileDurability.WriteAtomic(Path.Combine(directory, FileName), Frame(Magic, FormatVersion, JsonSerializer.SerializeToUtf8Bytes(body, ManifestJsonContext.Default.ManifestBody)));

    /// <summary>Reads the manifest, or null when the directory has none (a new database).</summary>
    public static ManifestBody? Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        // Version 1 lacks raw_vectors (read as disk) and names version-1 snapshots, which recovery migrates.
        var body = Unframe(path, Magic, FormatVersion, "manifest", ManifestJsonContext.Default.ManifestBody);
        CheckEntries(path, body);
        return body;
    }

    /// <summary>
    /// Refuses a manifest (a hand-edited or foreign one: the CRC only proves it was written whole) whose entries would
    /// make the open fail half-way with an untyped error, after some collections' files were already open, or reach
    /// outside the database: a name or directory listed twice, or a directory that is not one plain name under
    /// <c>collections/</c>.
    /// </summary>
    private static void CheckEntries(string path, ManifestBody body)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var directories = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in body.Collections)
        {
            if (entry is null) throw new StoreCorruptedException(path, "manifest has an empty collection entry");
            if (string.IsNullOrEmpty(entry.Name) || !names.Add(entry.Name))
                throw new StoreCorruptedException(path, $"manifest lists collection '{entry.Name}' {(string.IsNullOrEmpty(entry.Name) ? "without a name" : "twice")}");
            string d = entry.Directory ?? "";
            if (d.Length == 0 || d is "." or ".." || d.IndexOfAny(['/', '\\', '\0']) >= 0 || Path.GetFileName(d) != d)
                throw new StoreCorruptedException(path, $"collection '{entry.Name}': directory '{d}' is not a plain name under collections/");
            if (!directories.Add(d))
                throw new StoreCorruptedException(path, $"collection '{entry.Name}': directory '{d}' is listed for another collection too");
        }
    }

    /// <summary>The file layout shared by the manifest and the collection descriptors: magic, version, length, JSON, CRC-32.</summary>
    internal static byte[] Frame(ReadOnlySpan<byte> magic, uint version, byte[] json)
    {
        var bytes = new byte[8 + 4 + 4 + json.Length + 4];
        magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), version);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), json.Length);
        json.CopyTo(bytes, 16);
        Checksums.WriteCrc(bytes, 16 + json.Length);
        return bytes;
    }

    /// <summary>Reads and checks a file of the <see cref="Frame"/> layout; every defect is a refusal naming <paramref name="path"/>.</summary>
    internal static T Unframe<T>(string path, ReadOnlySpan<byte> magic, uint maxVersion, string what, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 20 || !bytes.AsSpan(0, 8).SequenceEqual(magic))
            throw new StoreCorruptedException(path, $"not a VectorStore {what} (bad magic or truncated)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (version > maxVersion)
            throw new StoreCorruptedException(path, $"format version {version} is newer than this build supports ({maxVersion}); upgrade VectorStore");
        int length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        if (length < 0 || 16L + length + 4 != bytes.Length)
            throw new StoreCorruptedException(path, $"{what} length {length} does not match the file size {bytes.Length}");
        if (!Checksums.CheckCrc(bytes)) throw new StoreCorruptedException(path, $"{what} checksum mismatch");
        try
        {
            var body = JsonSerializer.Deserialize(Encoding.UTF8.GetString(bytes, 16, length), type);
            return body ?? throw new StoreCorruptedException(path, $"{what} body is empty");
        }
        catch (JsonException e)
        {
            throw new StoreCorruptedException(path, $"{what} body is not valid: {e.Message}", e);
        }
    }
}
