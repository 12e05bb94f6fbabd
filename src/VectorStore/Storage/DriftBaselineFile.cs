namespace VectorStore.Storage;

/// <summary>
/// The live generation's drift baseline (the first part of <see cref="Drift.DriftMonitor.Write"/>'s bytes: shape,
/// seed, training sample and statistics, fixed for the life of the trained index) written on its own,
/// <c>drift-NNNNNNNNNN.vsd</c> (data-format.md §4.12), so a snapshot carries only the monitor's running state and names
/// this file. Thread-safety: stateless.
/// </summary>
internal static class DriftBaselineFile
{
    public const uint FormatVersion = 1;

    private static readonly PinnedFileFormat Format = new("drift baseline file", "drift", "vsd", "VSDRIFTB"u8.ToArray(), "VSDRFEND"u8.ToArray(), FormatVersion);

    /// <summary>The file name of drift baseline file <paramref name="sequence"/>.</summary>
    public static string FileName(int sequence) => Format.FileName(sequence);

    /// <summary>Writes and fsyncs drift baseline file <paramref name="sequence"/>: <c>i32 length</c> + the baseline's bytes.</summary>
    public static PinnedFileReference Write(string directory, int sequence, byte[] baseline) =>
        PinnedFile.Write(directory, sequence, Format, w =>
        {
            w.Write(baseline.Length);
            w.Write(baseline);
        });

    /// <summary>Reads the baseline's bytes from the file <paramref name="reference"/> names, verified (any damage names the file).</summary>
    public static byte[] Read(string directory, PinnedFileReference reference) =>
        PinnedFile.Read(directory, reference, Format, r =>
        {
            int length = r.ReadInt32();
            if (length < 0 || length > r.BaseStream.Length) throw new InvalidDataException($"baseline length {length} is invalid");
            var bytes = r.ReadBytes(length);
            if (bytes.Length != length) throw new EndOfStreamException("baseline truncated");
            return bytes;
        });
}
