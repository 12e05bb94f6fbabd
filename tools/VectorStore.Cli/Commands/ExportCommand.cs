using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;

namespace VectorStore.Cli.Commands;

/// <summary><c>export</c>: writes every live vector (full precision, ascending id) as .fvecs and the ids as text.</summary>
public sealed class ExportCommand : CliCommand
{
    /// <summary>Most ids listed per page (8 MiB of them); a server's batch limit may make pages smaller.</summary>
    private const int IdPageSize = 1 << 20;

    /// <summary>Bytes of vectors fetched per call, so an in-process export (no transfer limits) stays bounded too.</summary>
    private const long ChunkBytes = 16 << 20;

    public override Command Build()
    {
        var nameOpt = Opt<string>("--collection", "Collection name", required: true);
        var outOpt = Opt<string>("--out", "Vectors output (.fvecs)", required: true);
        var idsOpt = Opt<string>("--ids-out", "Ids output (text, one per line)", required: true);
        var fieldsOpt = Opt<string?>("--fields-out", "Field values output (tab-separated, a header of the declared fields, row i for vector i: what load --fields reads)");
        var cmd = new Command("export", "Export a collection's vectors and ids") { nameOpt, outOpt, idsOpt, fieldsOpt };
        var target = new DatabaseTarget().AddTo(cmd).WithReadOnly(cmd);
        cmd.SetAction(r => Guard(() =>
        {
            OutputFile.RequireDistinct(("--out", r.GetValue(outOpt)), ("--ids-out", r.GetValue(idsOpt)), ("--fields-out", r.GetValue(fieldsOpt)));
            int exported = 0;
            target.Run(r, async db => exported = await ExportAsync(db, r.GetValue(nameOpt)!, r.GetValue(outOpt)!, r.GetValue(idsOpt)!, r.GetValue(fieldsOpt)));
            Console.Error.WriteLine($"exported {exported} vectors");
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// Writes every live vector in ascending id order, at full precision, the ids one per line and, with
    /// <paramref name="fieldsOutPath"/>, each record's field values as a row of a tab-separated file; returns how many.
    /// </summary>
    public static async Task<int> ExportAsync(IVectorDatabaseClient db, string collection, string outPath, string idsOutPath, string? fieldsOutPath = null)
    {
        var options = (await db.GetInfoAsync(collection).ConfigureAwait(false)).Options;
        int dim = options.Dimension;
        var declared = options.Fields ?? [];
        if (fieldsOutPath is not null && declared.Count == 0)
            throw new UsageException($"collection '{collection}' declares no fields: --fields-out has nothing to write");
        // Each output under a temporary name until all are complete: a failure midway (a lost server, a full disk)
        // leaves no partial file that could be mistaken for an export.
        using var fieldsFile = fieldsOutPath is null ? null : new OutputFile(fieldsOutPath);
        using var fieldsOut = fieldsFile is null ? null : new StreamWriter(fieldsFile.Stream);
        fieldsOut?.WriteLine(string.Join('\t', declared.Select(f => f.Name)));
        int chunk = (int)Math.Max(1, Math.Min(db.Limits.GetBatchSize(dim), ChunkBytes / (4L * dim)));
        using var vectorsFile = new OutputFile(outPath, 1 << 20);
        var fs = vectorsFile.Stream;
        using var idsFile = new OutputFile(idsOutPath);
        using var idsOut = new StreamWriter(idsFile.Stream);
        var head = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(head, dim);
        int written = 0;
        ulong? after = null;
        while (true)
        {
            var page = await db.ListIdsAsync(collection, after, Math.Min(IdPageSize, db.Limits.MaxBatch)).ConfigureAwait(false);
            for (int start = 0; start < page.Ids.Length; start += chunk)
            {
                var ids = page.Ids.AsSpan(start, Math.Min(chunk, page.Ids.Length - start)).ToArray();
                var records = await db.GetBatchAsync(collection, ids).ConfigureAwait(false);
                foreach (var record in records)
                {
                    // Deleted between listing and fetching: skip it, as if the listing had come a moment later.
                    if (record is null) continue;
                    fs.Write(head);
                    fs.Write(MemoryMarshal.AsBytes(record.Vector.AsSpan()));
                    idsOut.WriteLine(record.Id.ToString(CultureInfo.InvariantCulture));
                    fieldsOut?.WriteLine(string.Join('\t', declared.Select(f =>
                        record.Fields.TryGetValue(f.Name, out var v) ? Evaluation.FieldTable.Format(v) : "")));
                    written++;
                }
            }
            if (!page.More || page.Ids.Length == 0) break;
            after = page.Ids[^1];
        }
        // The writers flush into the temporary files before those are closed and renamed.
        idsOut.Dispose();
        fieldsOut?.Dispose();
        vectorsFile.Commit();
        idsFile.Commit();
        fieldsFile?.Commit();
        return written;
    }
}
