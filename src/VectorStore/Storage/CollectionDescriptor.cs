namespace VectorStore.Storage;

/// <summary>
/// A collection's own copy of its manifest entry's settings (<c>collections/DIR/COLLECTION</c>, data-format.md §4.1):
/// the manifest's layout with magic <c>VSCOLDSC</c>, its JSON without the snapshot fields (those change with every
/// checkpoint; the snapshot files name themselves). It lets a lost MANIFEST be rebuilt from the collection directories
/// (<see cref="ManifestRecovery"/>). Written atomically when the collection is created, and by a read-write open of a
/// collection created before it existed. Thread-safety: stateless.
/// </summary>
internal static class CollectionDescriptor
{
    public const string FileName = "COLLECTION";
    public const uint FormatVersion = 1;
    private static ReadOnlySpan<byte> Magic => "VSCOLDSC"u8;

    /// <summary>Writes the descriptor of <paramref name="entry"/> into <paramref name="directory"/> (the collection's).</summary>
    public static void Write(string directory, ManifestCollection entry)
    {
        var settings = entry with { Snapshot = null, SnapshotLogAddress = 0, SnapshotSequence = 0 };
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(settings, ManifestJsonContext.Default.ManifestCollection);
        FileDurability.WriteAtomic(Path.Combine(directory, FileName), Manifest.Frame(Magic, FormatVersion, json));
    }

    /// <summary>Writes the descriptor unless the collection has one.</summary>
    public static void EnsureWritten(string directory, ManifestCollection entry)
    {
        if (!File.Exists(Path.Combine(directory, FileName))) Write(directory, entry);
    }

    /// <summary>Reads the descriptor in <paramref name="directory"/>; a missing or damaged one is a refusal naming it.</summary>
    public static ManifestCollection Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new StoreCorruptedException(path, "the collection has no descriptor (it was created by a version before descriptors and not opened since), so its settings are unknown; restore MANIFEST from a backup");
        return Manifest.Unframe(path, Magic, FormatVersion, "collection descriptor", ManifestJsonContext.Default.ManifestCollection);
    }
}
