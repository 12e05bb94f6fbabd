using System.Diagnostics;
using VectorStore.Lifecycle;
using VectorStore.Tests.Storage;

namespace VectorStore.Tests.Lifecycle;

/// <summary>
/// The child process of <see cref="LifecycleKillTests"/> (<c>VectorStore.Tests lifecycle-child DB FIRST</c>): two
/// writers upsert batches of ids from FIRST on, printing <c>ack A B</c> once a batch is durable, while the main thread
/// builds candidates and promotes and rolls back in a loop, printing <c>try N</c> before and <c>live N MS</c> after
/// each switch is durable. Runs until killed.
/// </summary>
internal static class LifecycleChild
{
    public const int Dim = 16, Batch = 40;

    // Distinct per id: multiplication by a non-multiple of the prime 2^31 - 1 is a bijection below it.
    public static VectorMatrix Data(ulong id) => StorageTestKit.Vectors(1, Dim, (int)(id * 2654435761UL % int.MaxValue));

    public static int Run(string[] args)
    {
        using var db = VectorDatabase.Open(args[0]);
        var c = db.GetCollection("c");
        ulong first = ulong.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        var gate = new object();
        void Say(string line)
        {
            lock (gate)
            {
                Console.Out.WriteLine(line);
                Console.Out.Flush();
            }
        }
        long next = (long)first;
        var writers = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
        {
            while (true)
            {
                ulong a = (ulong)Interlocked.Add(ref next, Batch) - Batch;
                var ids = Enumerable.Range(0, Batch).Select(i => a + (ulong)i).ToArray();
                var m = new VectorMatrix(ids.SelectMany(id => Data(id).Data).ToArray(), Dim);
                c.UpsertBatch(ids, m);
                Say($"ack {a} {a + Batch - 1}");
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        var rng = new Random((int)first);
        string[][] specs = [["sq8", "ivf:8"], ["pq:4", "flat"], ["sq8", "hnsw:8"]];
        while (!writers.Any(w => w.IsFaulted))
        {
            var ready = c.Generations().Where(g => g.State != GenerationState.Live && g.Ready).ToArray();
            if (ready.Length == 0 || rng.Next(3) == 0)
            {
                if (c.Generations().Count <= 4)
                {
                    var s = specs[rng.Next(specs.Length)];
                    int n = c.BuildGeneration(s[0], s[1]);
                    c.WaitForGeneration(n).GetAwaiter().GetResult();
                }
                else c.CollectGenerations();
                continue;
            }
            var clock = Stopwatch.StartNew();
            if (rng.Next(2) == 0 && ready.Any(g => g.State == GenerationState.Retired))
            {
                int target = ready.Where(g => g.State == GenerationState.Retired).Max(g => g.Generation);
                Say($"try rollback");
                int live = c.Rollback();
                Say($"live {live} {clock.Elapsed.TotalMilliseconds:F1}");
            }
            else
            {
                var g = ready[rng.Next(ready.Length)];
                Say($"try {g.Generation}");
                c.Promote(g.Generation);
                Say($"live {g.Generation} {clock.Elapsed.TotalMilliseconds:F1}");
            }
            Thread.Sleep(rng.Next(0, 30));
        }
        Task.WaitAll(writers);
        return 1;
    }
}
