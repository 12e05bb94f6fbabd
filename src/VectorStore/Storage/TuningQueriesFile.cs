namespace VectorStore.Storage;

/// <summary>
/// The queries a collection keeps for its target-recall tunings (<c>Collection.TuneSearchOnQueries</c>), as prepared
/// for the index (normalized for cosine), written once per set of queries, <c>tuning-NNNNNNNNNN.vsq</c>
/// (data-format.md §4.13), so a snapshot names the file instead of carrying up to 200 query vectors at every
/// checkpoint. Thread-safety: stateless.
/// </summary>
internal static class TuningQueriesFile
{
    public const uint FormatVersion = 1;

    /// <summary>More rows than any collection keeps: a count above it is damage, not data.</summary>
    private const int MaxQueries = 1 << 16;

    private static readonly PinnedFileFormat Format = new("tuning queries file", "tuning", "vsq", "VSTUNEQS"u8.ToArray(), "VSTUNEND"u8.ToArray(), FormatVersion);

    /// <summary>The file name of tuning queries file <paramref name="sequence"/>.</summary>
    public static string FileName(int sequence) => Format.FileName(sequence);

    /// <summary>The file name prefix (anything so named that no snapshot names is an orphan).</summary>
    public static string Prefix => Format.Prefix + "-";

    /// <summary>Writes and fsyncs file <paramref name="sequence"/>: <c>i32 count</c>, <c>i32 dimension</c>, count × dimension <c>f32</c>.</summary>
    public static PinnedFileReference Write(string directory, int sequence, IReadOnlyList<float[]> queries, int dimension) =>
        PinnedFile.Write(directory, sequence, Format, w =>
        {
            w.Write(queries.Count);
            w.Write(dimension);
            foreach (var q in queries)
            {
                if (q.Length != dimension) throw new ArgumentException($"query of dimension {q.Length}, expected {dimension}", nameof(queries));
                w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan()));
            }
        });

    /// <summary>
    /// Reads the queries from the file <paramref name="reference"/> names, verified; a dimension other than
    /// <paramref name="dimension"/>, a count out of range or a value that is not finite is damage naming the file.
    /// </summary>
    public static float[][] Read(string directory, PinnedFileReference reference, int dimension) =>
        PinnedFile.Read(directory, reference, Format, r =>
        {
            int count = r.ReadInt32(), dim = r.ReadInt32();
            if (dim != dimension) throw new InvalidDataException($"queries of dimension {dim}, the collection's is {dimension}");
            if (count is < 1 or > MaxQueries || (long)count * dim * sizeof(float) > r.BaseStream.Length)
                throw new InvalidDataException($"query count {count} is invalid");
            var queries = new float[count][];
            for (int i = 0; i < count; i++)
            {
                var q = new float[dim];
                r.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(q.AsSpan()));
                foreach (float v in q)
                    if (!float.IsFinite(v)) throw new InvalidDataException($"query {i} holds a value that is not finite");
                queries[i] = q;
            }
            return queries;
        });
}
