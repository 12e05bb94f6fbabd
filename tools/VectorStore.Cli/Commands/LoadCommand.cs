using System.CommandLine;
using System.Text;
using VectorStore.Filtering;
using VectorStore.IO;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>load</c>: upserts a vector file in batches; prints <c>acked FIRST LAST</c> once each batch is durable.
/// With <c>--writers W</c> several batches are in flight at once and share group commits.
/// </summary>
public sealed class LoadCommand : CliCommand
{
    /// <summary>Longest payload <c>--payload-ids</c> writes: <c>id:</c> and up to 20 digits, with room to spare.</summary>
    private const int MaxIdPayloadBytes = 25;

    public override Command Build()
    {
        var nameOpt = Opt<string>("--collection", "Collection name", required: true);
        var vecOpt = Opt<string>("--vectors", "Vectors (.fvecs or .npy)", required: true);
        var firstOpt = NonNegative(Opt("--first-id", "Id of the first row; row i gets first-id + i", 0L));
        var batchOpt = Opt("--batch", "Vectors per batch (one durable commit each)", 1000);
        var writersOpt = Opt("--writers", "Concurrent writer threads", 1);
        var payloadOpt = Opt<bool>("--payload-ids", "Store the UTF-8 text \"id:<ID>\" as each vector's payload");
        var fieldsOpt = Opt<string?>("--fields", "Field values (.tsv): a header row of declared field names, then row i for vector i; "
            + "int/double in invariant culture, bool true/false, timestamp ISO 8601 (no offset = UTC), tags separated by ',', "
            + "an empty cell = no value");
        var cmd = new Command("load", "Upsert vectors into a collection; prints 'acked FIRST LAST' per durable batch")
        {
            nameOpt, vecOpt, firstOpt, batchOpt, writersOpt, payloadOpt, fieldsOpt,
        };
        var target = new DatabaseTarget().AddTo(cmd);
        cmd.SetAction(r => Guard(() =>
        {
            int batch = r.GetValue(batchOpt);
            RequireRange("--batch", batch, 1, 1_000_000);
            int writers = r.GetValue(writersOpt);
            RequireRange("--writers", writers, 1, 64);
            long first = r.GetValue(firstOpt);
            if (first < 0) throw new UsageException($"--first-id must not be negative (0..{long.MaxValue}), got {first}");
            return new LoadProgress().Run(progress => target.Run(r, db =>
                LoadAsync(db, r.GetValue(nameOpt)!, r.GetValue(vecOpt)!, (ulong)first, batch, Console.Out, writers, r.GetValue(payloadOpt),
                    progress.Advance, r.GetValue(fieldsOpt), Console.Error)));
        }));
        return cmd;
    }

    /// <summary>
    /// Upserts the file in batches of <paramref name="batch"/> (fewer when <see cref="IVectorDatabaseClient.Limits"/>
    /// require), <paramref name="writers"/> batches in flight at once; prints <c>acked FIRST LAST</c> after each batch's
    /// upsert has completed, which happens only once the batch is durable (in process, and on a server before it
    /// answers), so a printed line means the batch survives a crash. <paramref name="onDurable"/> then gets the batch's
    /// size and the file's row count. <paramref name="fieldsPath"/> (<see cref="Evaluation.FieldTable"/>) gives field values,
    /// one row per vector, checked against the collection's declared fields before anything is written. When the load
    /// leaves the collection with a failed training (<see cref="VectorStore.Collections.CollectionStats.TrainingError"/>), a <c>note:</c> line on
    /// <paramref name="stderr"/> says so: the vectors are stored, but searches scan them all until training succeeds.
    /// </summary>
    public static async Task LoadAsync(IVectorDatabaseClient db, string collection, string vectorsPath, ulong firstId, int batch, TextWriter stdout,
        int writers = 1, bool payloadIds = false, Action<int, int>? onDurable = null, string? fieldsPath = null, TextWriter? stderr = null)
    {
        if (batch <= 0) throw new UsageException($"--batch must be positive, got {batch}");
        if (writers <= 0) throw new UsageException($"--writers must be positive, got {writers}");
        // The file is read a batch at a time, so that loading does not need memory for all of it (a process under a
        // memory cap used to fail on files a fraction of its limit's size); it is checked whole first, so that a
        // malformed row near the end fails the load before any batch is written, as a whole-file read did.
        using var m = VectorFileReader.Open(vectorsPath);
        m.Validate();
        // Field values are read twice, a row at a time: once whole to check every row and count them (so a bad row or a
        // count that differs fails before any batch is written), then again alongside the batches.
        IReadOnlyList<FieldDefinition>? declared = null;
        int fieldBytes = 0;
        if (fieldsPath is not null)
        {
            declared = (await db.GetInfoAsync(collection).ConfigureAwait(false)).Options.Fields;
            using var check = Evaluation.FieldTableReader.Open(fieldsPath, declared, undeclaredAsKeyword: false);
            while (check.Next() is { } row) fieldBytes = Math.Max(fieldBytes, FieldJson.WireBytes(row));
            if (check.RowsRead != m.Count)
                throw new InvalidArgumentException($"{fieldsPath}: {check.RowsRead} rows of field values for {m.Count} vectors in {vectorsPath}; row i belongs to vector i");
        }
        using var fields = fieldsPath is null ? null : Evaluation.FieldTableReader.Open(fieldsPath, declared, undeclaredAsKeyword: false);
        int extraBytes = (payloadIds ? MaxIdPayloadBytes : 0) + (fields is null ? 0 : fieldBytes + 1);
        batch = Math.Min(batch, db.Limits.UpsertBatchSize(m.Dimension, extraBytes > 0 ? extraBytes : null));
        int batches = (m.Count + batch - 1) / batch;
        int next = -1;
        var gate = new object();
        var fieldGate = new object();
        async Task Writer()
        {
            VectorMatrix? buffer = null;
            while (true)
            {
                int b, start, n;
                IReadOnlyDictionary<string, FieldValue>?[]? values = null;
                // The batch number and its field rows are taken together: the rows come off the file in order.
                lock (fieldGate)
                {
                    if ((b = ++next) >= batches) break;
                    start = b * batch;
                    n = Math.Min(batch, m.Count - start);
                    if (fields is not null)
                    {
                        values = new IReadOnlyDictionary<string, FieldValue>?[n];
                        for (int i = 0; i < n; i++)
                            values[i] = fields.Next() is { Count: > 0 } row ? row : null;
                    }
                }
                var ids = new ulong[n];
                for (int i = 0; i < n; i++) ids[i] = firstId + (ulong)(start + i);
                var payloads = payloadIds ? ids.Select(id => (byte[]?)Encoding.UTF8.GetBytes($"id:{id}")).ToArray() : null;
                // One buffer per writer, reused: an upsert has copied what it keeps by the time its task completes.
                var vectors = n == batch ? buffer ??= new VectorMatrix(batch, m.Dimension) : new VectorMatrix(n, m.Dimension);
                m.ReadRows(start, vectors);
                if (values is null) await db.UpsertBatchAsync(collection, ids, vectors, payloads).ConfigureAwait(false);
                else await db.UpsertBatchAsync(collection, ids, vectors, payloads, values).ConfigureAwait(false);
                // The upsert completed: the batch is durable. Only now may it be acknowledged.
                lock (gate)
                {
                    stdout.WriteLine($"acked {ids[0]} {ids[^1]}");
                    stdout.Flush();
                    onDurable?.Invoke(n, m.Count);
                }
            }
        }
        // Task.Run: in process an upsert blocks its thread until durable, so each writer needs a thread of its own.
        await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(Writer))).ConfigureAwait(false);
        // A user pass loaded 50,000 vectors into a server short of memory: load said only that it had loaded them, while
        // training had failed and every later search scanned all of them (minutes under the memory cap).
        if (stderr is null) return;
        string? failed;
        try
        {
            failed = (await db.GetInfoAsync(collection).ConfigureAwait(false)).Stats.TrainingError;
        }
        catch (Exception e) when (e is VectorStoreException or IOException)
        {
            return; // only a note: the load itself completed, every batch durable
        }
        if (failed is null) return;
        stderr.WriteLine($"note: '{collection}' holds the vectors but training its compression and index failed ({failed}); searches scan "
            + "every vector exactly until training succeeds (retried once the collection has doubled in size; `info` shows the error)");
        stderr.Flush();
    }
}
