using VectorStore.Filtering;
using Xunit;

namespace VectorStore.Tests.Filtering;

/// <summary>
/// <see cref="FilterValidation"/> refuses exactly what a filtered search on a collection with the same fields refuses,
/// with the same message, wherever in the tree the bad leaf is; and the field-set codec round-trips stored values.
/// </summary>
public class FilterValidationTests
{
    private static readonly FieldDefinition[] Schema = FieldStoreTests.Schema;

    [Theory]
    [InlineData("kind == 'lib'", null)]
    [InlineData("size > 3 and (labels contains 'x' or not exists(weight))", null)]
    [InlineData("at > '2024-01-01T00:00:00Z' and weight <= 2", null)]
    [InlineData("kind == 'lib' and colour == 'red'", "unknown field 'colour'")]
    [InlineData("kind == 'lib' or size == 'big'", "field 'size' is int")]
    [InlineData("not (stable == true and kind > 'a')", "a range comparison")]
    [InlineData("kind contains 'x'", "contains")]
    public void RefusesWhatAFilteredSearchRefuses(string text, string? error)
    {
        var where = FilterParser.Parse(text);
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new VectorStore.Collections.CollectionOptions { Dimension = 2, Compression = "none", Fields = Schema });
        c.Upsert(1, [1f, 0f], default, FieldStoreTests.FieldsOf(1));
        if (error is null)
        {
            FilterValidation.Validate(where, Schema);
            c.Ids(where);
            return;
        }
        var mine = Assert.Throws<InvalidArgumentException>(() => FilterValidation.Validate(where, Schema));
        var engine = Assert.Throws<InvalidArgumentException>(() => c.Search([1f, 0f], new VectorStore.Collections.SearchOptions { Filter = new() { Where = where } }));
        Assert.Contains(error, mine.Message, StringComparison.Ordinal);
        Assert.Equal(engine.Message, mine.Message);
    }

    [Fact]
    public void NoFieldsRefusesAnyFilterAndTheCodecRoundTrips()
    {
        Assert.Contains("declares no fields", Assert.Throws<InvalidArgumentException>(() => FilterValidation.Validate(Filter.Exists("kind"), [])).Message);
        for (int i = 0; i < 50; i++)
        {
            var values = FieldStoreTests.FieldsOf(i);
            var bytes = FieldSetCodec.Encode(Schema, values, (ulong)i);
            var back = bytes is null ? new Dictionary<string, FieldValue>() : FieldSetCodec.Decode(Schema, bytes, "test");
            Assert.Equal(values.OrderBy(p => p.Key), back.OrderBy(p => p.Key));
        }
        Assert.Throws<InvalidArgumentException>(() => FieldSetCodec.Encode(Schema, new Dictionary<string, FieldValue> { ["size"] = "big" }, 7));
        Assert.Throws<StoreCorruptedException>(() => FieldSetCodec.Decode(Schema, [1, 1, 200], "test"));
    }
}
