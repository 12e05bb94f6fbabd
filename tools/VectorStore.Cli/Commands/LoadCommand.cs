using System.CommandLine;
using System.Text;
using VectorStore.IO;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>load</c>: upserts a vector file in batches; prints <c>acked FIRST LAST</c> once each batch is durable.
/// With <c>--writers W</c> several batches are in flight at once and share group commits.
/// </summary>
public sealed class LoadCommand : CliCommand
{
    public override Command Build()
    {
        var dbOpt = Opt<string>("--db", "Database directory", required: true);
        var nameOpt = Opt<string>("--collection", "Collection name", required: true);
        var vecOpt = Opt<string>("--vectors", "Vectors (.fvecs or .npy)", required: true);
        var firstOpt = Opt("--first-id", "Id of the first row; row i gets first-id + i", 0L);
        var batchOpt = Opt("--batch", "Vectors per batch (one durable commit each)", 1000);
        var writersOpt = Opt("--writers", "Concurrent writer threads", 1);
        var payloadOpt = Opt<bool>("--payload-ids", "Store the UTF-8 text \"id:<ID>\" as each vector's payload");
        var cmd = new Command("load", "Upsert vectors into a collection; prints 'acked FIRST LAST' per durable batch")
        {
            dbOpt, nameOpt, vecOpt, firstOpt, batchOpt, writersOpt, payloadOpt,
        };
        cmd.SetAction(r => Guard(() =>
        {
            int batch = r.GetValue(batchOpt);
            RequireRange("--batch", batch, 1, 1_000_000);
            int writers = r.GetValue(writersOpt);
            RequireRange("--writers", writers, 1, 64);
            long first = r.GetValue(firstOpt);
            if (first < 0) throw new UsageException($"--first-id must not be negative, got {first}");
            bool payloads = r.GetValue(payloadOpt);
            var vectors = VectorFiles.ReadVectors(r.GetValue(vecOpt)!);
            using var db = DatabaseCli.Open(r.GetValue(dbOpt)!);
            var c = db.GetCollection(r.GetValue(nameOpt)!);
            int batches = (vectors.Count + batch - 1) / batch;
            int next = -1;
            var gate = new object();
            var po = new ParallelOptions { MaxDegreeOfParallelism = writers };
            Parallel.For(0, writers, po, _ =>
            {
                int b;
                while ((b = Interlocked.Increment(ref next)) < batches)
                {
                    int start = b * batch;
                    int n = Math.Min(batch, vectors.Count - start);
                    var ids = new ulong[n];
                    for (int i = 0; i < n; i++) ids[i] = (ulong)(first + start + i);
                    var pl = payloads ? ids.Select(id => (byte[]?)Encoding.UTF8.GetBytes($"id:{id}")).ToArray() : null;
                    c.UpsertBatch(ids, vectors.Slice(start, n), pl);
                    // UpsertBatch returned: the batch is durable. Only now may it be acknowledged.
                    lock (gate)
                    {
                        Console.Out.WriteLine($"acked {ids[0]} {ids[^1]}");
                        Console.Out.Flush();
                    }
                }
            });
            return 0;
        }));
        return cmd;
    }
}
