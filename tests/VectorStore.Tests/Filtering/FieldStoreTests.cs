using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Filtering;

/// <summary>
/// Field values and filtered search on the engine: every filter answer equals the brute-force answer over the same
/// records, values survive log replay, snapshots and overwrites, and bad values or expressions get clear errors.
/// </summary>
public sealed class FieldStoreTests
{
    internal static readonly FieldDefinition[] Schema =
    [
        new("kind", FieldType.Keyword), new("labels", FieldType.Tags), new("size", FieldType.Int),
        new("weight", FieldType.Double), new("stable", FieldType.Bool), new("at", FieldType.Timestamp),
    ];

    private static readonly string[] Kinds = ["lib", "app", "doc", "data", "font"];
    private static readonly string[] Labels = ["x", "y", "z", "w"];

    /// <summary>Deterministic field values for record <paramref name="i"/>; some fields are left out on purpose.</summary>
    internal static Dictionary<string, FieldValue> FieldsOf(int i)
    {
        var f = new Dictionary<string, FieldValue>();
        if (i % 7 != 3) f["kind"] = Kinds[i % Kinds.Length];
        if (i % 3 != 0) f["labels"] = FieldValue.Tags(Labels.Where((_, j) => (i >> j & 1) == 1));
        if (i % 11 != 5) f["size"] = (long)(i * 37 % 1000) - 500;
        if (i % 13 != 7) f["weight"] = (i % 17) / 4.0 - 2.0;
        f["stable"] = i % 2 == 0;
        f["at"] = FieldValue.TimestampMicros(1_700_000_000_000_000L + i * 1_000_000L);
        return f;
    }

    /// <summary>The expressions checked, with the same predicate written over the dictionaries.</summary>
    internal static IEnumerable<(FilterExpression Where, Func<IReadOnlyDictionary<string, FieldValue>, bool> Match)> Cases()
    {
        static bool Has(IReadOnlyDictionary<string, FieldValue> f, string n) => f.ContainsKey(n);
        yield return (Filter.Eq("kind", "lib"), f => Has(f, "kind") && f["kind"].AsKeyword() == "lib");
        yield return (Filter.Ne("kind", "lib"), f => !(Has(f, "kind") && f["kind"].AsKeyword() == "lib"));
        yield return (Filter.In("kind", "app", "doc", "nope"), f => Has(f, "kind") && f["kind"].AsKeyword() is "app" or "doc");
        yield return (Filter.Contains("labels", "y"), f => Has(f, "labels") && f["labels"].AsTags().Contains("y"));
        yield return (Filter.In("labels", "z", "w"), f => Has(f, "labels") && f["labels"].AsTags().Any(t => t is "z" or "w"));
        yield return (Filter.Lt("size", 0L), f => Has(f, "size") && f["size"].AsInt() < 0);
        yield return (Filter.And(Filter.Ge("size", 100L), Filter.Le("size", 300L)), f => Has(f, "size") && f["size"].AsInt() is >= 100 and <= 300);
        yield return (Filter.Eq("size", 92L), f => Has(f, "size") && f["size"].AsInt() == 92);
        yield return (Filter.Gt("weight", 0.5), f => Has(f, "weight") && f["weight"].AsDouble() > 0.5);
        yield return (Filter.Le("weight", -1L), f => Has(f, "weight") && f["weight"].AsDouble() <= -1);
        yield return (Filter.And(Filter.Eq("stable", true), Filter.Not(Filter.Eq("kind", "app"))), f => f["stable"].AsBool() && !(Has(f, "kind") && f["kind"].AsKeyword() == "app"));
        yield return (Filter.Or(Filter.Exists("kind"), Filter.Exists("labels")), f => Has(f, "kind") || Has(f, "labels"));
        yield return (Filter.Not(Filter.Exists("size")), f => !Has(f, "size"));
        yield return (Filter.And(Filter.Ge("at", "2023-11-14T22:20:00Z"), Filter.Lt("at", "2023-11-14T22:30:00Z")), f =>
            f["at"].AsTimestamp() >= DateTimeOffset.Parse("2023-11-14T22:20:00Z") && f["at"].AsTimestamp() < DateTimeOffset.Parse("2023-11-14T22:30:00Z"));
        yield return (Filter.And(Filter.Or(Filter.Eq("kind", "lib"), Filter.Contains("labels", "x")), Filter.Lt("weight", 1.5)), f =>
            ((Has(f, "kind") && f["kind"].AsKeyword() == "lib") || (Has(f, "labels") && f["labels"].AsTags().Contains("x")))
            && Has(f, "weight") && f["weight"].AsDouble() < 1.5);
    }

    internal static Collection Fill(VectorDatabase db, string name, int n, string compression, string index, out VectorMatrix m)
    {
        var c = db.CreateCollection(name, new CollectionOptions
        {
            Dimension = 16, Metric = Metric.L2, Compression = compression, Index = index, TrainingThreshold = 500, Fields = Schema,
        });
        m = StorageTestKit.Vectors(n, 16, 5);
        for (int start = 0; start < n; start += 500)
        {
            int count = Math.Min(500, n - start);
            var ids = Enumerable.Range(start, count).Select(i => (ulong)i).ToArray();
            var rows = new VectorMatrix(m.Data.AsSpan(start * 16, count * 16).ToArray(), 16);
            c.UpsertBatch(ids, rows, null, Enumerable.Range(start, count).Select(i => (IReadOnlyDictionary<string, FieldValue>?)FieldsOf(i)).ToArray());
        }
        return c;
    }

    private static ulong[] BruteForce(VectorMatrix m, ReadOnlySpan<float> q, Func<int, bool> match, int k)
    {
        var scored = new List<(float D, ulong Id)>();
        for (int i = 0; i < m.Count; i++)
        {
            if (!match(i)) continue;
            float d = 0;
            var row = m.Row(i);
            for (int j = 0; j < row.Length; j++) d += (row[j] - q[j]) * (row[j] - q[j]);
            scored.Add((d, (ulong)i));
        }
        return scored.OrderBy(s => s.D).ThenBy(s => s.Id).Take(k).Select(s => s.Id).ToArray();
    }

    [Fact]
    public void EveryFilterMatchesBruteForceOnExactStorage()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = Fill(db, "f", 3000, "none", "flat", out var m);
        var queries = StorageTestKit.Vectors(5, 16, 9);
        foreach (var (where, match) in Cases())
        {
            var text = where.ToString();
            for (int qi = 0; qi < queries.Count; qi++)
            {
                var hits = c.Search(queries.Row(qi), new SearchOptions { K = 20, Filter = new SearchFilter { Where = where }, IncludeFields = true });
                var expected = BruteForce(m, queries.Row(qi), i => match(FieldsOf(i)), 20);
                Assert.True(expected.SequenceEqual(hits.Select(h => h.Id)), $"{text}: got [{string.Join(",", hits.Select(h => h.Id))}] expected [{string.Join(",", expected)}]");
                foreach (var h in hits) AssertSameFields(FieldsOf((int)h.Id), h.Fields!);
            }
        }
    }

    [Theory]
    [InlineData("sq8", "hnsw:16")]
    [InlineData("sq8", "ivf:16")]
    [InlineData("pq:8x4", "flat")]
    public void IndexedFilteredSearchKeepsRecall(string compression, string index)
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = Fill(db, "f", 6000, compression, index, out var m);
        var queries = StorageTestKit.Vectors(20, 16, 9);
        // The bar is the index's own recall without a filter at the same settings: a filter must not cost recall.
        double baseline = 0;
        for (int qi = 0; qi < queries.Count; qi++)
        {
            var hits = c.Search(queries.Row(qi), new SearchOptions { K = 10, Rerank = 50, Ef = 64, NProbe = 4 });
            baseline += hits.Select(h => h.Id).Intersect(BruteForce(m, queries.Row(qi), _ => true, 10)).Count() / 10.0 / queries.Count;
        }
        foreach (var (where, match) in Cases())
        {
            var text = where.ToString();
            double found = 0, wanted = 0;
            for (int qi = 0; qi < queries.Count; qi++)
            {
                var hits = c.Search(queries.Row(qi), new SearchOptions { K = 10, Rerank = 50, Ef = 64, NProbe = 4, Filter = new SearchFilter { Where = where } });
                var expected = BruteForce(m, queries.Row(qi), i => match(FieldsOf(i)), 10);
                Assert.All(hits, h => Assert.True(match(FieldsOf((int)h.Id)), $"{text}: hit {h.Id} does not match"));
                found += hits.Select(h => h.Id).Intersect(expected).Count();
                wanted += expected.Length;
            }
            Assert.True(found / wanted >= Math.Min(0.9, baseline - 0.05), $"{compression}+{index} '{text}': recall {found / wanted:F3}, unfiltered {baseline:F3}");
        }
    }

    [Fact]
    public void OverwriteReplacesValuesAndDeleteRemovesThem()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = Fill(db, "f", 1000, "none", "flat", out var m);
        var where = Filter.Eq("kind", "zzz");
        Assert.Empty(c.Search(m.Row(0), new SearchOptions { K = 5, Filter = new SearchFilter { Where = where } }));
        c.Upsert(42, m.Row(42), default, new Dictionary<string, FieldValue> { ["kind"] = "zzz", ["size"] = 100_000L });
        var hits = c.Search(m.Row(0), new SearchOptions { K = 5, Filter = new SearchFilter { Where = where } });
        Assert.Equal([42UL], hits.Select(h => h.Id));
        // The overwrite dropped the values it did not name.
        Assert.Equal(2, c.Get(42)!.Fields.Count);
        Assert.Equal([42UL], c.Search(m.Row(0), new SearchOptions { K = 5, Filter = new SearchFilter { Where = Filter.Gt("size", 99999L) } }).Select(h => h.Id));
        c.Upsert(42, m.Row(42));
        Assert.Empty(c.Get(42)!.Fields);
        Assert.Empty(c.Search(m.Row(0), new SearchOptions { K = 5, Filter = new SearchFilter { Where = where } }));
        Assert.True(c.Delete(7));
        var notKind = c.Search(m.Row(7), new SearchOptions { K = 1000, Filter = new SearchFilter { Where = Filter.Not(Filter.Eq("kind", "lib")) } });
        Assert.DoesNotContain(7UL, notKind.Select(h => h.Id));
        // Live records without kind 'lib': 42 now has no fields (not 'lib'), 7 is gone.
        int expected = Enumerable.Range(0, m.Count).Count(i => i != 7 && (i == 42 || !(FieldsOf(i).TryGetValue("kind", out var kv) && kv.AsKeyword() == "lib")));
        Assert.Equal(expected, notKind.Length);
    }

    [Fact]
    public void RangesStayCorrectThroughManyUpdates()
    {
        // Enough rewrites to cross the sorted index's rebuild threshold several times, with queries in between that
        // must merge the change log with a stale sorted array.
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("r", new CollectionOptions { Dimension = 4, Compression = "none", Fields = [new("v", FieldType.Int)] });
        var truth = new Dictionary<ulong, long>();
        var rng = new Random(3);
        var v = new float[] { 1, 0, 0, 0 };
        for (int round = 0; round < 40; round++)
        {
            for (int j = 0; j < 50; j++)
            {
                ulong id = (ulong)rng.Next(400);
                if (rng.Next(6) == 0)
                {
                    c.Delete(id);
                    truth.Remove(id);
                    continue;
                }
                long value = rng.Next(-50, 50);
                c.Upsert(id, v, default, new Dictionary<string, FieldValue> { ["v"] = value });
                truth[id] = value;
            }
            long lo = rng.Next(-60, 40), hi = lo + rng.Next(0, 40);
            var hits = c.Search(v, new SearchOptions { K = 1000, Filter = new SearchFilter { Where = Filter.And(Filter.Ge("v", lo), Filter.Lt("v", hi)) } });
            var expected = truth.Where(p => p.Value >= lo && p.Value < hi).Select(p => p.Key).Order();
            Assert.Equal(expected, hits.Select(h => h.Id).Order());
        }
    }

    [Fact]
    public void FieldsSurviveLogReplaySnapshotAndReadOnlyOpen()
    {
        var dir = TestData.TempDir();
        var queries = StorageTestKit.Vectors(3, 16, 9);
        var where = Filter.And(Filter.Contains("labels", "x"), Filter.Gt("size", -200L));
        SearchHit[][] before;
        using (var db = StorageTestKit.Open(dir))
        {
            var c = Fill(db, "f", 1500, "sq8", "hnsw:8", out _);
            before = Search(c, queries, where);
            StorageTestKit.Crash(db); // recovery must come from the log alone
        }
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.GetCollection("f");
            AssertSameHits(before, Search(c, queries, where));
            for (int i = 0; i < 1500; i += 97) AssertSameFields(FieldsOf(i), c.Get((ulong)i)!.Fields);
            db.Snapshot();
        }
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.GetCollection("f");
            Assert.Equal(Schema, c.Options.Fields);
            AssertSameHits(before, Search(c, queries, where));
            for (int i = 0; i < 1500; i += 97) AssertSameFields(FieldsOf(i), c.Get((ulong)i)!.Fields);
        }
        using (var db = VectorDatabase.OpenReadOnly(dir, null, StorageTestKit.Small))
            AssertSameHits(before, Search(db.GetCollection("f"), queries, where));
    }

    private static SearchHit[][] Search(Collection c, VectorMatrix queries, FilterExpression where) =>
        Enumerable.Range(0, queries.Count).Select(i => c.Search(queries.Row(i), new SearchOptions { K = 10, Rerank = 40, Filter = new SearchFilter { Where = where }, IncludeFields = true })).ToArray();

    private static void AssertSameHits(SearchHit[][] a, SearchHit[][] b)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i].Select(h => (h.Id, h.Score)), b[i].Select(h => (h.Id, h.Score)));
            for (int j = 0; j < a[i].Length; j++) AssertSameFields(a[i][j].Fields!, b[i][j].Fields!);
        }
    }

    internal static void AssertSameFields(IReadOnlyDictionary<string, FieldValue> expected, IReadOnlyDictionary<string, FieldValue> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (k, v) in expected) Assert.Equal(v, actual[k]);
    }

    [Fact]
    public void BadValuesAndExpressionsAreRefusedWithoutChangingAnything()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = Fill(db, "f", 600, "none", "flat", out var m);
        var v = m.Row(0).ToArray();
        var e = Assert.Throws<InvalidArgumentException>(() => c.Upsert(1, v, default, new Dictionary<string, FieldValue> { ["nope"] = "x" }));
        Assert.Contains("'nope' is not declared", e.Message);
        e = Assert.Throws<InvalidArgumentException>(() => c.Upsert(1, v, default, new Dictionary<string, FieldValue> { ["size"] = "12" }));
        Assert.Contains("'size' is int", e.Message);
        AssertSameFields(FieldsOf(1), c.Get(1)!.Fields);

        SearchHit[] Run(FilterExpression where) => c.Search(v, new SearchOptions { Filter = new SearchFilter { Where = where } });
        Assert.Contains("unknown field 'colour'", Assert.Throws<InvalidArgumentException>(() => Run(Filter.Eq("colour", "red"))).Message);
        Assert.Contains("'size' is int", Assert.Throws<InvalidArgumentException>(() => Run(Filter.Eq("size", "big"))).Message);
        Assert.Contains("contains does not apply", Assert.Throws<InvalidArgumentException>(() => Run(Filter.Contains("kind", "x"))).Message);
        Assert.Contains("range", Assert.Throws<InvalidArgumentException>(() => Run(Filter.Lt("kind", "b"))).Message);
        Assert.Contains("ISO 8601", Assert.Throws<InvalidArgumentException>(() => Run(Filter.Gt("at", "yesterday"))).Message);

        var plain = db.CreateCollection("plain", new CollectionOptions { Dimension = 16, Compression = "none" });
        Assert.Contains("declares no fields", Assert.Throws<InvalidArgumentException>(() => plain.Upsert(1, v, default, new Dictionary<string, FieldValue> { ["kind"] = "x" })).Message);
        Assert.Equal(0, plain.Count);
        Assert.Contains("declares no fields", Assert.Throws<InvalidArgumentException>(() =>
            plain.Search(v, new SearchOptions { Filter = new SearchFilter { Where = Filter.Eq("kind", "x") } })).Message);

        // A built tree deeper than the limit is refused, not walked.
        FilterExpression deep = Filter.Eq("kind", "lib");
        for (int i = 0; i < 100; i++) deep = Filter.Not(deep);
        Assert.Contains("deeper", Assert.Throws<InvalidArgumentException>(() => c.Search(v, new SearchOptions { Filter = new SearchFilter { Where = deep } })).Message);
    }
}
