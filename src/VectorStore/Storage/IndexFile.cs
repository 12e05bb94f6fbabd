using VectorStore.Indexing;

namespace VectorStore.Storage;

/// <summary>
/// A live index written on its own, <c>idx-NNNNNNNNNN.vsi</c> (data-format.md §4.10): a <see cref="PinnedFile"/> whose
/// body is the index as <see cref="IndexRegistry.Write"/> writes it. A snapshot names the file with what changed since
/// it was written (the changed slots, or the index's change image), so a checkpoint rewrites the index only when
/// enough changed, not every time. Deleted when no published snapshot names it. Thread-safety: stateless.
/// </summary>
internal static class IndexFile
{
    public const uint FormatVersion = 1;

    private static readonly PinnedFileFormat Format = new("index file", "idx", "vsi", "VSINDEXF"u8.ToArray(), "VSIDXEND"u8.ToArray(), FormatVersion);

    /// <summary>The file name of index file <paramref name="sequence"/>.</summary>
    public static string FileName(int sequence) => Format.FileName(sequence);

    /// <summary>Writes and fsyncs index file <paramref name="sequence"/>.</summary>
    public static PinnedFileReference Write(string directory, int sequence, VectorIndex index) =>
        PinnedFile.Write(directory, sequence, Format, w => IndexRegistry.Write(index, w));

    /// <summary>Reads the index file <paramref name="reference"/> names, verified (any damage names the file).</summary>
    public static VectorIndex Read(string directory, PinnedFileReference reference) =>
        PinnedFile.Read(directory, reference, Format, IndexRegistry.Read);
}
