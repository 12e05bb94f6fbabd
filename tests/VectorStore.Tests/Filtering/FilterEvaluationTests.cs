using VectorStore.Evaluation;
using VectorStore.Filtering;
using Xunit;

namespace VectorStore.Tests.Filtering;

/// <summary>
/// The engine's index evaluation (bitmaps, sorted keys with a change log) against the per-record reference
/// (<see cref="FilterReference"/>) on random records and thousands of random expressions, through inserts,
/// overwrites and removals — the filter counterpart of testing a SIMD kernel against its scalar reference.
/// </summary>
public sealed class FilterEvaluationTests
{
    private static readonly FieldDefinition[] Schema = FieldStoreTests.Schema;
    private static readonly string[] Words = ["lib", "app", "doc", "data", "font", "x", "y", "z", "w", "ü-ñ"];

    internal static Dictionary<string, FieldValue> RandomRecord(Random rng)
    {
        var f = new Dictionary<string, FieldValue>();
        if (rng.Next(5) > 0) f["kind"] = Words[rng.Next(6)];
        if (rng.Next(4) > 0) f["labels"] = FieldValue.Tags(Enumerable.Range(0, rng.Next(4)).Select(_ => Words[rng.Next(Words.Length)]));
        if (rng.Next(5) > 0) f["size"] = (long)rng.Next(-20, 20) * (rng.Next(10) == 0 ? long.MaxValue / 40 : 1);
        if (rng.Next(5) > 0) f["weight"] = rng.Next(-8, 8) / 2.0;
        if (rng.Next(6) > 0) f["stable"] = rng.Next(2) == 0;
        if (rng.Next(5) > 0) f["at"] = FieldValue.TimestampMicros(rng.Next(-5, 5) * 1_000_000L);
        return f;
    }

    internal static FilterExpression RandomExpression(Random rng, int depth)
    {
        if (depth > 0 && rng.Next(3) == 0)
        {
            var ops = Enumerable.Range(0, rng.Next(2, 4)).Select(_ => RandomExpression(rng, depth - 1)).ToArray();
            return rng.Next(3) switch { 0 => Filter.And(ops), 1 => Filter.Or(ops), _ => Filter.Not(ops[0]) };
        }
        var op = (ComparisonOperator)rng.Next(1, 7);
        switch (rng.Next(9))
        {
            case 0: return new ComparisonFilter("kind", rng.Next(2) == 0 ? ComparisonOperator.Equal : ComparisonOperator.NotEqual, Words[rng.Next(7)]);
            case 1: return Filter.In("kind", Enumerable.Range(0, rng.Next(1, 4)).Select(_ => (FieldValue)Words[rng.Next(7)]));
            case 2: return Filter.Contains("labels", Words[rng.Next(Words.Length)]);
            case 3: return Filter.In("labels", Enumerable.Range(0, rng.Next(1, 3)).Select(_ => (FieldValue)Words[rng.Next(Words.Length)]));
            case 4: return new ComparisonFilter("size", op, rng.Next(8) == 0 ? (rng.Next(2) == 0 ? long.MaxValue : long.MinValue) : rng.Next(-22, 22));
            case 5: return new ComparisonFilter("weight", op, rng.Next(2) == 0 ? FieldValue.Double(rng.Next(-9, 9) / 2.0) : FieldValue.Int(rng.Next(-4, 4)));
            case 6: return new ComparisonFilter("stable", rng.Next(2) == 0 ? ComparisonOperator.Equal : ComparisonOperator.NotEqual, rng.Next(2) == 0);
            case 7: return new ComparisonFilter("at", op, FieldValue.Keyword(DateTimeOffset.UnixEpoch.AddSeconds(rng.Next(-6, 6)).ToString("O")));
            default: return Filter.Exists(Schema[rng.Next(Schema.Length)].Name);
        }
    }

    [Fact]
    public void BitmapEvaluationEqualsTheReferenceThroughWrites()
    {
        var rng = new Random(1234);
        using var index = new FieldIndex(Schema);
        var records = new Dictionary<int, Dictionary<string, FieldValue>>();
        int checkedExpressions = 0;
        for (int round = 0; round < 30; round++)
        {
            // A batch of writes: new slots, overwrites (with fewer or other values) and removals. Small batches leave
            // the sorted key arrays stale (queries must merge the change log); large ones trigger a rebuild.
            int writes = round == 0 ? 600 : round % 3 == 0 ? 200 : rng.Next(1, 40);
            for (int w = 0; w < writes; w++)
            {
                int slot = rng.Next(600);
                if (rng.Next(8) == 0)
                {
                    index.Remove(slot);
                    records.Remove(slot);
                    continue;
                }
                var r = RandomRecord(rng);
                index.Set(slot, FieldRecordCodec.Encode(Schema, r, (ulong)slot), "test");
                records[slot] = r;
            }
            index.CompleteBatch();
            for (int e = 0; e < 60; e++)
            {
                var expr = RandomExpression(rng, 3);
                using var bitmap = FilterEvaluator.Evaluate(index, expr);
                var got = bitmap.Values.Select(v => (int)v).Order().ToArray();
                var expected = records.Where(p => FilterReference.Matches(expr, Schema, p.Value)).Select(p => p.Key).Order().ToArray();
                Assert.True(expected.SequenceEqual(got), $"round {round}: {expr}\nexpected [{string.Join(",", expected)}]\ngot      [{string.Join(",", got)}]");
                checkedExpressions++;
            }
        }
        Assert.Equal(30 * 60, checkedExpressions);
    }

    /// <summary>
    /// A collection's ids chosen by a filter alone (what filtered gets and ListIds with a filter serve): every live id
    /// the reference admits, ascending, and pages that add up to the same list, through overwrites and deletes.
    /// </summary>
    [Fact]
    public void CollectionIdsByFilterEqualTheReferenceThroughWrites()
    {
        var rng = new Random(4321);
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new VectorStore.Collections.CollectionOptions { Dimension = 2, Compression = "none", Fields = Schema });
        var records = new Dictionary<ulong, Dictionary<string, FieldValue>>();
        for (int round = 0; round < 8; round++)
        {
            for (int w = 0; w < (round == 0 ? 500 : 60); w++)
            {
                ulong id = (ulong)rng.Next(1, 700) * 1_000_003UL; // ids far apart: the order is the ids', not the slots'
                if (round > 0 && rng.Next(6) == 0)
                {
                    c.Delete(id);
                    records.Remove(id);
                    continue;
                }
                var r = RandomRecord(rng);
                c.Upsert(id, [rng.NextSingle(), rng.NextSingle()], default, r);
                records[id] = r;
            }
            for (int e = 0; e < 25; e++)
            {
                var expr = RandomExpression(rng, 3);
                var expected = records.Where(p => FilterReference.Matches(expr, Schema, p.Value)).Select(p => p.Key).Order().ToArray();
                Assert.True(expected.SequenceEqual(c.Ids(expr)), $"round {round}: {expr}");
                var paged = new List<ulong>();
                ulong? after = null;
                while (true)
                {
                    var page = c.IdPage(after, 37, expr);
                    paged.AddRange(page.Ids);
                    if (!page.More) break;
                    after = page.Ids[^1];
                }
                Assert.True(expected.SequenceEqual(paged), $"round {round}, paged: {expr}");
            }
        }
        Assert.Equal(records.Keys.Order(), c.Ids(null));
        Assert.Throws<InvalidArgumentException>(() => c.Ids(Filter.Eq("undeclared", "x")));
        Assert.Throws<InvalidArgumentException>(() => c.IdPage(null, 0, Filter.Exists("kind")));
    }

    [Fact]
    public void StoredValuesRoundTripAndDamageIsRefused()
    {
        var rng = new Random(5);
        using var index = new FieldIndex(Schema);
        for (int i = 0; i < 200; i++)
        {
            var r = RandomRecord(rng);
            var bytes = FieldRecordCodec.Encode(Schema, r, (ulong)i);
            index.Set(i, bytes, "test");
            FieldStoreTests.AssertSameFields(r, index.Get(i));
            // Re-encoding from the columns gives the same bytes: snapshots write what the log wrote.
            Assert.Equal(bytes ?? [], index.Encode(i) ?? []);
            if (bytes is null) continue;
            for (int cut = 0; cut < bytes.Length; cut++)
                Assert.Throws<StoreCorruptedException>(() => FieldRecordCodec.Decode(bytes.AsSpan(0, cut), Schema, "f", (_, _) => { }));
            var bad = (byte[])bytes.Clone();
            bad[2] = 200; // a field number the schema does not have
            Assert.Throws<StoreCorruptedException>(() => FieldRecordCodec.Decode(bad, Schema, "f", (_, _) => { }));
        }
    }
}
