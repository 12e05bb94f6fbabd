using VectorStore;
using VectorStore.Collections;

/// <summary>The README's in-process snippet with its variables defined: run it twice on one directory.</summary>
internal static class ReadmeSnippet
{
    public static int Run(string directory)
    {
        var rng = new Random(42);
        float[] Embedding() => Enumerable.Range(0, 384).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
        var embedding = Embedding();
        var query = embedding.Select(x => x + 0.01f).ToArray();
        ulong[] ids = [1, 2, 3];
        var rows = ids.SelectMany(_ => Embedding()).ToArray();

        // --- the README's snippet, unchanged but for the directory ---
        using var db = VectorDatabase.Open(directory);                        // or VectorDatabase.CreateInMemory()
        var docs = db.GetOrCreateCollection("docs", new CollectionOptions      // the second run finds it
        {
            Dimension = 384, Metric = Metric.Cosine, Compression = "sq8", Index = "flat",
        });
        docs.Upsert(42, embedding, payload: "title"u8);                       // ulong ids, optional byte payload
        docs.UpsertBatch(ids, new VectorMatrix(rows, 384));                   // one validated, durable batch
        SearchHit[] hits = docs.Search(query, new SearchOptions { K = 10, Rerank = 40 });
        VectorRecord? rec = docs.Get(42);                                     // full-precision vector + payload
        docs.Delete(42);
        // --- end of the snippet ---

        Console.WriteLine($"readme: {docs.Count} vectors, best hit {hits[0].Id} ({hits[0].Score:F3}), record 42 payload '{System.Text.Encoding.UTF8.GetString(rec!.Payload)}'");
        if (hits[0].Id != 42 || docs.Count != 3) return Sample.Fail("the README snippet did not find record 42 first, or did not delete it");
        return 0;
    }
}
