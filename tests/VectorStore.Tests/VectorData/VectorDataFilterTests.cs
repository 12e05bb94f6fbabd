using System.Linq.Expressions;
using Microsoft.Extensions.VectorData;
using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.VectorData;
using Xunit;

#pragma warning disable MEVD9001 // the provider's model types are experimental in VectorData

namespace VectorStore.Tests.VectorData;

/// <summary>
/// VectorData filters on the engine: indexed data properties become declared fields, LINQ filters translate to the
/// engine's filter tree (every supported construct, a clear NotSupportedException for the rest), and filtered
/// searches through <see cref="EngineVectorStore"/> return exactly the brute-force answer over the same records.
/// </summary>
public sealed class VectorDataFilterTests
{
    public sealed class Product
    {
        [VectorStoreKey] public ulong Id { get; set; }
        [VectorStoreData(IsIndexed = true)] public string? Category { get; set; }
        [VectorStoreData(IsIndexed = true)] public string[]? Tags { get; set; }
        [VectorStoreData(IsIndexed = true)] public List<string>? Labels { get; set; }
        [VectorStoreData(IsIndexed = true)] public int Rating { get; set; }
        [VectorStoreData(IsIndexed = true)] public long? Stock { get; set; }
        [VectorStoreData(IsIndexed = true)] public short Shelf { get; set; }
        [VectorStoreData(IsIndexed = true, StorageName = "price")] public double Price { get; set; }
        [VectorStoreData(IsIndexed = true)] public float Weight { get; set; }
        [VectorStoreData(IsIndexed = true)] public bool InStock { get; set; }
        [VectorStoreData(IsIndexed = true)] public DateTimeOffset Added { get; set; }
        [VectorStoreData(IsIndexed = true)] public DateTime? Updated { get; set; }
        [VectorStoreData] public string? Description { get; set; }
        public int NotStored { get; set; }
        [VectorStoreVector(8, DistanceFunction = DistanceFunction.CosineSimilarity)] public ReadOnlyMemory<float> Embedding { get; set; }
    }

    public sealed class GuidIndexed
    {
        [VectorStoreKey] public ulong Id { get; set; }
        [VectorStoreData(IsIndexed = true)] public Guid Reference { get; set; }
        [VectorStoreVector(2)] public float[]? Vector { get; set; }
    }

    public sealed class BadName
    {
        [VectorStoreKey] public ulong Id { get; set; }
        [VectorStoreData(IsIndexed = true, StorageName = "2 words")] public string? Text { get; set; }
        [VectorStoreVector(2)] public float[]? Vector { get; set; }
    }

    private static FilterExpression? Translate(Expression<Func<Product, bool>> filter) => Translate(filter, out _);

    private static FilterExpression? Translate(Expression<Func<Product, bool>> filter, out bool matchesNothing)
    {
        var model = new EngineModelBuilder().Build(typeof(Product), typeof(ulong), null, null);
        return EngineFilterTranslator.Translate(filter, model, new RecordFields(model), out matchesNothing);
    }

    private static void AssertMatchesNothing(Expression<Func<Product, bool>> filter)
    {
        Assert.Null(Translate(filter, out bool nothing));
        Assert.True(nothing, $"{filter} should match nothing");
    }

    private static void AssertTranslates(FilterExpression? expected, Expression<Func<Product, bool>> filter)
    {
        var actual = Translate(filter);
        Assert.True(Equals(expected, actual), $"{filter}: expected {expected}, got {actual}");
    }

    private static string Unsupported(Expression<Func<Product, bool>> filter) => Assert.Throws<NotSupportedException>(() => Translate(filter)).Message;

    [Fact]
    public void ComparisonsTranslateWithThePropertyOnEitherSide()
    {
        int min = 4;
        string category = "books";
        var since = new DateTimeOffset(2024, 3, 1, 12, 0, 0, TimeSpan.FromHours(2));
        AssertTranslates(Filter.Eq("Category", "books"), x => x.Category == "books");
        AssertTranslates(Filter.Eq("Category", "books"), x => "books" == x.Category);
        AssertTranslates(Filter.Eq("Category", "books"), x => x.Category == category);
        AssertTranslates(Filter.Eq("Category", "books"), x => x.Category!.Equals("books"));
        AssertTranslates(Filter.Ne("Category", "books"), x => x.Category != "books");
        AssertTranslates(Filter.Gt("Rating", 3L), x => x.Rating > 3);
        AssertTranslates(Filter.Gt("Rating", 3L), x => 3 < x.Rating);
        AssertTranslates(Filter.Ge("Rating", 4L), x => x.Rating >= min);
        AssertTranslates(Filter.Le("Rating", 4L), x => min >= x.Rating);
        AssertTranslates(Filter.Lt("Rating", 2L), x => x.Rating < 2);
        AssertTranslates(Filter.Ge("Rating", 3L), x => x.Rating >= 3.0); // an integral double is exact
        AssertTranslates(Filter.Eq("Shelf", 2L), x => x.Shelf == 2); // the short widened to int by C#
        AssertTranslates(Filter.Gt("Stock", 5L), x => x.Stock > 5); // lifted to long?
        AssertTranslates(Filter.Lt("price", 10.0), x => x.Price < 10); // the storage name
        AssertTranslates(Filter.Gt("Weight", (double)1.5f), x => x.Weight > 1.5f);
        AssertTranslates(Filter.Gt("Added", FieldValue.Timestamp(since)), x => x.Added > since);
        // A DateTime of unspecified kind is UTC, stored and compared alike.
        AssertTranslates(Filter.Lt("Updated", FieldValue.Timestamp(new DateTimeOffset(2024, 6, 1, 0, 0, 0, TimeSpan.Zero))),
            x => x.Updated < new DateTime(2024, 6, 1));
    }

    [Fact]
    public void NullChecksBoolsAndConnectivesTranslate()
    {
        AssertTranslates(Filter.Exists("Stock"), x => x.Stock != null);
        AssertTranslates(Filter.Not(Filter.Exists("Stock")), x => x.Stock == null);
        AssertTranslates(Filter.Exists("Tags"), x => null != x.Tags);
        AssertTranslates(Filter.Eq("InStock", true), x => x.InStock);
        AssertTranslates(Filter.Not(Filter.Eq("InStock", true)), x => !x.InStock);
        AssertTranslates(Filter.Eq("InStock", false), x => x.InStock == false);
        AssertTranslates(Filter.And(Filter.Eq("Category", "a"), Filter.Gt("Rating", 1L), Filter.Eq("InStock", true)),
            x => x.Category == "a" && x.Rating > 1 && x.InStock);
        AssertTranslates(Filter.Or(Filter.Eq("Category", "a"), Filter.Eq("Category", "b"), Filter.Lt("price", 1.0)),
            x => x.Category == "a" || (x.Category == "b" || x.Price < 1));
        AssertTranslates(Filter.And(Filter.Or(Filter.Eq("Category", "a"), Filter.Eq("Category", "b")), Filter.Not(Filter.Gt("Rating", 2L))),
            x => (x.Category == "a" || x.Category == "b") && !(x.Rating > 2));
        AssertTranslates(null, x => true);
        // Constants fold, as in filters composed at run time (start from true or false, add conditions).
        AssertTranslates(Filter.Eq("Category", "a"), x => false || x.Category == "a");
        AssertTranslates(Filter.Eq("Category", "a"), x => true && x.Category == "a");
        AssertTranslates(Filter.And(Filter.Eq("Category", "a"), Filter.Gt("Rating", 1L)), x => (true && x.Category == "a") && (x.Rating > 1 || false));
        AssertTranslates(null, x => x.Category == "a" || true);
        AssertTranslates(null, x => !false);
        bool restrict = false;
        AssertTranslates(null, x => !restrict || x.Rating > 3);
        Assert.False(Translate(x => x.Category == "a", out bool some) is null || some);
        AssertMatchesNothing(x => false);
        AssertMatchesNothing(x => x.Category == "a" && false);
        AssertMatchesNothing(x => !true);
        AssertMatchesNothing(x => restrict && x.Rating > 3);
        // A long chain stays one node, not one level per condition (the engine caps depth at 32).
        var chain = Translate(x => x.Rating != 1 && x.Rating != 2 && x.Rating != 3 && x.Rating != 4 && x.Rating != 5 && x.Rating != 6);
        Assert.Equal(6, Assert.IsType<AndFilter>(chain).Operands.Count);
    }

    [Fact]
    public void ContainsTranslatesToTagsAndInLists()
    {
        var wanted = new List<string> { "a", "b" };
        int[] ratings = [1, 5];
        string?[] withNull = ["a", null];
        string[] none = [];
        AssertTranslates(Filter.Contains("Tags", "new"), x => x.Tags!.Contains("new"));
        AssertTranslates(Filter.Contains("Labels", "x"), x => x.Labels!.Contains("x"));
        AssertTranslates(Filter.In("Category", "a", "b"), x => wanted.Contains(x.Category!));
        AssertTranslates(Filter.In("Tags", "a", "b"), x => x.Tags!.Any(t => wanted.Contains(t)));
        AssertTranslates(Filter.In("Labels", "a"), x => x.Labels!.Any(t => withNull.Contains(t)));
        AssertTranslates(Filter.In("Category", "c", "d"), x => new[] { "c", "d", "c" }.Contains(x.Category));
        AssertTranslates(Filter.In("Rating", 1L, 5L), x => ratings.Contains(x.Rating));
        AssertTranslates(Filter.Or(Filter.In("Category", "a"), Filter.Not(Filter.Exists("Category"))), x => withNull.Contains(x.Category));
        AssertTranslates(Filter.And(Filter.Exists("Category"), Filter.Not(Filter.Exists("Category"))), x => none.Contains(x.Category));
    }

    [Fact]
    public void UnsupportedFiltersAreClearNotSupportedErrors()
    {
        Assert.Contains("IsIndexed = true", Unsupported(x => x.Description == "a"));
        Assert.Contains("'Description' is not indexed", Unsupported(x => x.Description == "a"));
        Assert.Contains("key property 'Id'", Unsupported(x => x.Id == 3));
        Assert.Contains("'NotStored'", Unsupported(x => x.NotStored == 3));
        Assert.Contains("String.StartsWith", Unsupported(x => x.Category!.StartsWith("a")));
        Assert.Contains("String.Contains", Unsupported(x => x.Category!.Contains("oo")));
        Assert.Contains("Tags.Any with a condition other than list.Contains(tag)", Unsupported(x => x.Tags!.Any(t => t == "a")));
        Assert.Contains("not between an indexed property and a constant", Unsupported(x => x.Rating + 1 > 3));
        Assert.Contains("not between an indexed property and a constant", Unsupported(x => x.Category!.Length > 3));
        Assert.Contains("other than a constant", Unsupported(x => x.Rating == x.Shelf));
        string[] tags = ["a"];
        Assert.Contains("Contains(tag)", Unsupported(x => x.Tags == tags));
        Assert.Contains("cannot be compared with the Double value 2.5", Unsupported(x => x.Rating > 2.5));
        Assert.Contains("converting property 'Rating'", Unsupported(x => (short)x.Rating == 2));
        long? nothing = null;
        Assert.Contains("ordering comparison of property 'Stock' with null", Unsupported(x => x.Stock > nothing));
        Assert.Contains("cannot be compared", Unsupported(x => x.Price < double.PositiveInfinity));
        // new T[n] lists no elements: its length used to be taken for one (new int[3] matched Rating == 3).
        Assert.Contains("new T[n]", Unsupported(x => new int[3].Contains(x.Rating)));
        Assert.Contains("new T[n]", Unsupported(x => new string[0].Contains(x.Category)));
        var tooMany = Enumerable.Range(0, FilterLimits.MaxInValues + 1).ToArray();
        Assert.Contains($"at most {FilterLimits.MaxInValues}", Unsupported(x => tooMany.Contains(x.Rating)));
    }

    [Fact]
    public async Task IndexedPropertiesAreDeclaredFieldsAndModelErrorsAreClear()
    {
        await using var client = new InProcessDatabaseClient(VectorDatabase.CreateInMemory(), ownsDatabase: true);
        using var store = new EngineVectorStore(client, new CollectionOptions { Dimension = 1, Compression = "none" });
        await store.GetCollection<ulong, Product>("products").EnsureCollectionExistsAsync();
        var info = await client.GetInfoAsync("products");
        Assert.Equal(
        [
            new FieldDefinition("Category", FieldType.Keyword), new FieldDefinition("Tags", FieldType.Tags), new FieldDefinition("Labels", FieldType.Tags),
            new FieldDefinition("Rating", FieldType.Int), new FieldDefinition("Stock", FieldType.Int), new FieldDefinition("Shelf", FieldType.Int),
            new FieldDefinition("price", FieldType.Double), new FieldDefinition("Weight", FieldType.Double), new FieldDefinition("InStock", FieldType.Bool),
            new FieldDefinition("Added", FieldType.Timestamp), new FieldDefinition("Updated", FieldType.Timestamp),
        ], info.Options.Fields!);

        Assert.Contains("'Reference'", Assert.Throws<NotSupportedException>(() => store.GetCollection<ulong, GuidIndexed>("g")).Message);
        Assert.Contains("'2 words'", Assert.Throws<NotSupportedException>(() => store.GetCollection<ulong, BadName>("b")).Message);

        // The definition-based form: VectorStoreDataProperty.IsIndexed, and a dynamic collection filters too.
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("id", typeof(ulong)),
                new VectorStoreDataProperty("kind", typeof(string)) { IsIndexed = true },
                new VectorStoreDataProperty("note", typeof(string)),
                new VectorStoreVectorProperty("v", typeof(ReadOnlyMemory<float>), 2),
            ],
        };
        var dynamic = store.GetDynamicCollection("dynamic", definition);
        await dynamic.EnsureCollectionExistsAsync();
        Assert.Equal([new FieldDefinition("kind", FieldType.Keyword)], (await client.GetInfoAsync("dynamic")).Options.Fields!);
        await dynamic.UpsertAsync([
            new Dictionary<string, object?> { ["id"] = 1UL, ["kind"] = "a", ["v"] = new ReadOnlyMemory<float>([1, 0]) },
            new Dictionary<string, object?> { ["id"] = 2UL, ["kind"] = "b", ["v"] = new ReadOnlyMemory<float>([1, 0.1f]) },
        ]);
        var hits = await dynamic.SearchAsync(new ReadOnlyMemory<float>([1, 0]), 5, new VectorSearchOptions<Dictionary<string, object?>> { Filter = r => (string)r["kind"]! == "b" }).ToListAsync();
        Assert.Equal([2UL], hits.Select(h => (ulong)h.Record["id"]!));
        await Assert.ThrowsAsync<NotSupportedException>(async () =>
            await dynamic.SearchAsync(new ReadOnlyMemory<float>([1, 0]), 5, new VectorSearchOptions<Dictionary<string, object?>> { Filter = r => (string)r["note"]! == "b" }).ToListAsync());
    }

    private static List<Product> Products(int count, int seed)
    {
        var rng = new Random(seed);
        string[] categories = ["books", "games", "music", "tools"];
        string[] tagPool = ["new", "sale", "eco", "gift", "rare"];
        var products = new List<Product>();
        for (int i = 1; i <= count; i++)
        {
            var v = new float[8];
            for (int d = 0; d < v.Length; d++) v[d] = (float)(rng.NextDouble() * 2 - 1);
            products.Add(new Product
            {
                Id = (ulong)i,
                Category = rng.Next(10) == 0 ? null : categories[rng.Next(categories.Length)],
                Tags = rng.Next(8) == 0 ? null : tagPool.Where(_ => rng.Next(3) == 0).ToArray(),
                Labels = rng.Next(2) == 0 ? null : [$"l{rng.Next(4)}"],
                Rating = rng.Next(1, 6),
                Stock = rng.Next(4) == 0 ? null : rng.Next(-5, 100),
                Shelf = (short)rng.Next(0, 4),
                Price = Math.Round(rng.NextDouble() * 100, 2),
                Weight = (float)(rng.NextDouble() * 5),
                InStock = rng.Next(3) != 0,
                Added = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.FromHours(rng.Next(-3, 4))).AddHours(rng.Next(0, 24 * 365)),
                Updated = rng.Next(3) == 0 ? null : new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMinutes(rng.Next(0, 60 * 24 * 365)),
                Description = $"product {i}",
                Embedding = v,
            });
        }
        return products;
    }

    /// <summary>Filters over every supported construct, from matching most records to matching none.</summary>
    private static IEnumerable<Expression<Func<Product, bool>>> Filters()
    {
        var wanted = new List<string> { "games", "tools" };
        var cutoff = new DateTimeOffset(2024, 7, 1, 0, 0, 0, TimeSpan.Zero);
        double maxPrice = 35.5;
        string[] gifts = ["gift", "rare"];
        yield return x => x.Category == "books";
        yield return x => "music" != x.Category;
        yield return x => x.Rating >= 4 && x.InStock;
        yield return x => x.Rating < 2 || x.Price > 90;
        yield return x => !x.InStock && x.Shelf == 2;
        yield return x => x.Price <= maxPrice && x.Weight > 2.5f;
        yield return x => !(x.Weight > 1);
        yield return x => x.Weight != 3;
        yield return x => x.Stock > 50;
        yield return x => x.Stock == null;
        yield return x => x.Stock != null && x.Stock <= 0;
        // Null guards keep the compiled brute force from throwing; the engine needs none (no value: no match).
        yield return x => x.Tags != null && x.Tags.Contains("eco");
        yield return x => x.Tags != null && !x.Tags.Contains("sale");
        yield return x => x.Labels != null && (x.Labels.Contains("l1") || x.Labels.Contains("l2"));
        yield return x => wanted.Contains(x.Category!);
        yield return x => x.Tags != null && x.Tags.Any(t => gifts.Contains(t));
        yield return x => new[] { 1, 5 }.Contains(x.Rating);
        yield return x => x.Added > cutoff;
        yield return x => x.Updated < new DateTime(2024, 3, 1);
        yield return x => x.Category == "books" && x.Rating == 5 && x.Tags != null && x.Tags.Contains("rare");
        yield return x => x.Category == "nothing";
        yield return x => true;
    }

    private static Task AssertFilteredSearchesMatchBruteForceAsync(VectorStoreCollection<ulong, Product> collection, List<Product> products, int seed) =>
        CompareWithBruteForceAsync(collection, products, seed, exact: true, plans: null);

    /// <summary>
    /// Runs every filter with three random queries: each hit must match the compiled predicate; when
    /// <paramref name="exact"/>, the hits must also be the brute-force top 10 rank by rank (same scores, so the same
    /// records up to exact ties). Returns how many of the brute-force top-10 entries were found, and of how many;
    /// adds each search's filter plan to <paramref name="plans"/> when given (an in-process search runs on this thread).
    /// </summary>
    private static async Task<(int Found, int Expected)> CompareWithBruteForceAsync(VectorStoreCollection<ulong, Product> collection, List<Product> products, int seed, bool exact,
        (Collection Engine, HashSet<VectorStore.Telemetry.FilterPlan> Seen)? plans)
    {
        var rng = new Random(seed);
        var byId = products.ToDictionary(p => p.Id);
        int found = 0, total = 0;
        foreach (var filter in Filters())
        {
            var predicate = filter.Compile();
            for (int q = 0; q < 3; q++)
            {
                var query = new float[8];
                for (int d = 0; d < query.Length; d++) query[d] = (float)(rng.NextDouble() * 2 - 1);
                const int top = 10;
                var expected = products.Where(predicate).Select(p => (p.Id, Score: Cosine(query, p.Embedding.Span))).OrderByDescending(h => h.Score).Take(top).ToList();
                var hits = await collection.SearchAsync(new ReadOnlyMemory<float>(query), top, new VectorSearchOptions<Product> { Filter = filter }).ToListAsync();
                plans?.Seen.Add(plans.Value.Engine.LastSearchStats.Plan);
                foreach (var hit in hits) Assert.True(predicate(byId[hit.Record.Id]), $"{filter}: hit {hit.Record.Id} does not match");
                var expectedIds = expected.Select(e => e.Id).ToHashSet();
                found += hits.Count(h => expectedIds.Contains(h.Record.Id));
                total += expected.Count;
                if (!exact) continue;
                Assert.True(expected.Count == hits.Count, $"{filter}: {hits.Count} hits, brute force {expected.Count}");
                for (int i = 0; i < hits.Count; i++)
                    Assert.True(Math.Abs(expected[i].Score - hits[i].Score!.Value) < 1e-4, $"{filter}: rank {i} scored {hits[i].Score}, brute force {expected[i].Score}");
                if (hits.Count > 0) Assert.Equal($"product {hits[0].Record.Id}", hits[0].Record.Description); // reads unchanged
            }
        }
        return (found, total);
    }

    private static double Cosine(float[] a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }

    [Fact]
    public async Task FilteredSearchEqualsBruteForce()
    {
        await using var client = new InProcessDatabaseClient(VectorDatabase.CreateInMemory(), ownsDatabase: true);
        using var store = new EngineVectorStore(client, new CollectionOptions { Dimension = 1, Compression = "none" });
        var collection = store.GetCollection<ulong, Product>("products");
        await collection.EnsureCollectionExistsAsync();
        var products = Products(400, seed: 7);
        await collection.UpsertAsync(products);
        await AssertFilteredSearchesMatchBruteForceAsync(collection, products, seed: 1);

        // Overwrites and deletes move records in and out of the filters.
        foreach (var p in products.Where(p => p.Id % 3 == 0))
        {
            p.Category = "books";
            p.Rating = 5;
            p.Stock = null;
        }
        await collection.UpsertAsync(products.Where(p => p.Id % 3 == 0));
        await collection.DeleteAsync(products.Where(p => p.Id % 5 == 0).Select(p => p.Id));
        products.RemoveAll(p => p.Id % 5 == 0);
        await AssertFilteredSearchesMatchBruteForceAsync(collection, products, seed: 2);

        // Skip pages through the filtered ranking.
        float[] query = [1, 0, 0, 0, 0, 0, 0, 0];
        var all = await collection.SearchAsync(new ReadOnlyMemory<float>(query), 6, new VectorSearchOptions<Product> { Filter = x => x.Category == "books" }).ToListAsync();
        var skipped = await collection.SearchAsync(new ReadOnlyMemory<float>(query), 3, new VectorSearchOptions<Product> { Filter = x => x.Category == "books", Skip = 3 }).ToListAsync();
        Assert.Equal(all.Skip(3).Select(h => h.Record.Id), skipped.Select(h => h.Record.Id));

        // Errors: an unsupported filter, a value the engine cannot hold.
        await Assert.ThrowsAsync<NotSupportedException>(async () =>
            await collection.SearchAsync(new ReadOnlyMemory<float>(query), 3, new VectorSearchOptions<Product> { Filter = x => x.Description == "x" }).ToListAsync());
        var bad = Products(1, seed: 3)[0];
        bad.Price = double.PositiveInfinity;
        var e = await Assert.ThrowsAsync<Microsoft.Extensions.VectorData.VectorStoreException>(() => collection.UpsertAsync(bad));
        Assert.Contains("'Price'", e.Message);
    }

    /// <summary>
    /// Filtered gets (no query vector), embedded and through a server: every filter returns exactly the records the
    /// compiled predicate admits, in ascending key order, through overwrites and deletes; Skip and top page through
    /// them; OrderBy sorts by data properties (nulls first ascending, then by the next key); IncludeVectors returns
    /// the stored vectors; unsupported filters and orders are NotSupportedException, bad arguments argument errors.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task FilteredGetReturnsExactlyTheMatches(bool remote)
    {
        await using var server = remote ? VectorStore.Tests.Protocol.LiveServer.Start() : null;
        await using IVectorDatabaseClient client = server is null
            ? new InProcessDatabaseClient(VectorDatabase.CreateInMemory(), ownsDatabase: true)
            : await server.ConnectAsync();
        using var store = new EngineVectorStore(client, new CollectionOptions { Dimension = 1, Compression = "none" });
        var collection = store.GetCollection<ulong, Product>("products");
        await collection.EnsureCollectionExistsAsync();
        var products = Products(300, seed: 17);
        await collection.UpsertAsync(products);
        await AssertFilteredGetsMatchAsync(collection, products);

        foreach (var p in products.Where(p => p.Id % 4 == 0)) p.Category = "books";
        await collection.UpsertAsync(products.Where(p => p.Id % 4 == 0));
        await collection.DeleteAsync(products.Where(p => p.Id % 7 == 0).Select(p => p.Id));
        products.RemoveAll(p => p.Id % 7 == 0);
        await AssertFilteredGetsMatchAsync(collection, products);

        // Skip and top page through the matches in key order.
        var books = products.Where(p => p.Category == "books").Select(p => p.Id).Order().ToList();
        Assert.True(books.Count > 20);
        var page = await collection.GetAsync(x => x.Category == "books", 7, new FilteredRecordRetrievalOptions<Product> { Skip = 5 }).ToListAsync();
        Assert.Equal(books.Skip(5).Take(7), page.Select(p => p.Id));
        Assert.Empty(await collection.GetAsync(x => x.Category == "books", 5, new FilteredRecordRetrievalOptions<Product> { Skip = books.Count }).ToListAsync());

        // OrderBy: by price descending; then by nullable stock ascending (nulls first) and rating descending.
        var byPrice = await collection.GetAsync(x => x.Category == "books", 10,
            new FilteredRecordRetrievalOptions<Product> { Skip = 2, OrderBy = o => o.Descending(x => x.Price) }).ToListAsync();
        Assert.Equal(products.Where(p => p.Category == "books").OrderByDescending(p => p.Price).Skip(2).Take(10).Select(p => p.Id), byPrice.Select(p => p.Id));
        var byStock = await collection.GetAsync(x => x.InStock, 1000,
            new FilteredRecordRetrievalOptions<Product> { OrderBy = o => o.Ascending(x => x.Stock).Descending(x => x.Rating) }).ToListAsync();
        var expectedStock = products.Where(p => p.InStock).OrderBy(p => p.Stock ?? long.MinValue).ThenByDescending(p => p.Rating).ToList();
        Assert.Equal(expectedStock.Select(p => (p.Stock, p.Rating)), byStock.Select(p => (p.Stock, p.Rating)));

        // Vectors only when asked; data properties always.
        var withVectors = await collection.GetAsync(x => x.Rating == 5, 3, new FilteredRecordRetrievalOptions<Product> { IncludeVectors = true }).ToListAsync();
        var without = await collection.GetAsync(x => x.Rating == 5, 3).ToListAsync();
        Assert.Equal(3, withVectors.Count);
        var byId = products.ToDictionary(p => p.Id);
        // Cosine collections store unit vectors: the one returned points the way the one written did.
        foreach (var r in withVectors) Assert.True(Cosine(byId[r.Id].Embedding.ToArray(), r.Embedding.Span) > 0.99999, $"record {r.Id}'s vector");
        Assert.All(without, r => Assert.True(r.Embedding.IsEmpty));
        Assert.All(without, r => Assert.Equal($"product {r.Id}", r.Description));

        Assert.Throws<NotSupportedException>(() => collection.GetAsync(x => x.Description == "a", 3));
        Assert.Contains("not a key or data property", Assert.Throws<NotSupportedException>(() =>
            collection.GetAsync(x => true, 3, new FilteredRecordRetrievalOptions<Product> { OrderBy = o => o.Ascending(x => x.Embedding) })).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => collection.GetAsync(x => true, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => collection.GetAsync(x => true, 3, new FilteredRecordRetrievalOptions<Product> { Skip = -1 }));
        // skip + top beyond int used to be an OverflowException from the first page.
        Assert.Throws<ArgumentOutOfRangeException>(() => collection.GetAsync(x => true, 10, new FilteredRecordRetrievalOptions<Product> { Skip = int.MaxValue - 5 }));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await collection.SearchAsync(products[0].Embedding, 10, new VectorSearchOptions<Product> { Skip = int.MaxValue - 5 }).ToListAsync());
        // A filter no record can match answers nothing, without asking the engine.
        Assert.Empty(await collection.GetAsync(x => false, 5).ToListAsync());
        Assert.Empty(await collection.SearchAsync(products[0].Embedding, 5, new VectorSearchOptions<Product> { Filter = x => x.InStock && false }).ToListAsync());
        Assert.Equal(
            (await collection.GetAsync(x => x.Rating == 5, 100).ToListAsync()).Select(p => p.Id),
            (await collection.GetAsync(x => false || x.Rating == 5, 100).ToListAsync()).Select(p => p.Id));
        // A missing collection is the provider's error, not a crash.
        var missing = store.GetCollection<ulong, Product>("missing");
        await Assert.ThrowsAsync<Microsoft.Extensions.VectorData.VectorStoreException>(async () => await missing.GetAsync(x => x.Rating == 1, 3).ToListAsync());
        // Also under a filter that needs no listing: missing is an error, not an empty answer.
        await Assert.ThrowsAsync<Microsoft.Extensions.VectorData.VectorStoreException>(async () => await missing.GetAsync(x => false, 3).ToListAsync());
        await Assert.ThrowsAsync<Microsoft.Extensions.VectorData.VectorStoreException>(async () =>
            await missing.SearchAsync(products[0].Embedding, 3, new VectorSearchOptions<Product> { Filter = x => false }).ToListAsync());
    }

    private static async Task AssertFilteredGetsMatchAsync(VectorStoreCollection<ulong, Product> collection, List<Product> products)
    {
        foreach (var filter in Filters())
        {
            var expected = products.Where(filter.Compile()).Select(p => p.Id).Order().ToList();
            var got = await collection.GetAsync(filter, 10_000).ToListAsync();
            Assert.True(expected.SequenceEqual(got.Select(p => p.Id)), $"{filter}: expected {expected.Count} records, got {got.Count}");
            if (got.Count > 0) Assert.Equal($"product {got[0].Id}", got[0].Description);
        }
    }

    /// <summary>
    /// Over a trained HNSW index and enough records that the engine's plans differ by filter (an exact scan of few
    /// matches, the filtered graph walk, post-filtering of nearly all), hits still match only, with high recall.
    /// </summary>
    [Fact]
    public async Task FilteredSearchOverAnHnswIndexReturnsMatchesOnly()
    {
        await using var client = new InProcessDatabaseClient(VectorDatabase.CreateInMemory(), ownsDatabase: true);
        using var store = new EngineVectorStore(client, new CollectionOptions { Dimension = 1, Compression = "none", Index = "hnsw:16" });
        var collection = store.GetCollection<ulong, Product>("products");
        await collection.EnsureCollectionExistsAsync();
        var products = Products(10_000, seed: 21);
        await collection.UpsertAsync(products);
        var engine = client.Database.GetCollection("products");
        engine.BuildIndex();
        Assert.True((await client.GetInfoAsync("products")).Stats.Trained);
        var plans = new HashSet<VectorStore.Telemetry.FilterPlan>();
        var (found, expected) = await CompareWithBruteForceAsync(collection, products, seed: 6, exact: false, (engine, plans));
        double recall = found / (double)expected;
        Assert.True(recall >= 0.95, $"filtered recall@10 {recall:F3} ({found} of {expected})");
        Assert.Equal(
            [VectorStore.Telemetry.FilterPlan.None, VectorStore.Telemetry.FilterPlan.Exact, VectorStore.Telemetry.FilterPlan.Index,
                VectorStore.Telemetry.FilterPlan.PostFilter, VectorStore.Telemetry.FilterPlan.Empty],
            plans.Order());
    }

    [Fact]
    public async Task FilteringSurvivesReopeningADurableDatabase()
    {
        var dir = TestData.TempDir();
        var products = Products(150, seed: 11);
        await using (var client = new InProcessDatabaseClient(VectorDatabase.Open(dir), ownsDatabase: true))
        {
            using var store = new EngineVectorStore(client, new CollectionOptions { Dimension = 1, Compression = "none" });
            var collection = store.GetCollection<ulong, Product>("products");
            await collection.EnsureCollectionExistsAsync();
            await collection.UpsertAsync(products.Take(100));
        }
        await using (var client = new InProcessDatabaseClient(VectorDatabase.Open(dir), ownsDatabase: true))
        {
            using var store = new EngineVectorStore(client, new CollectionOptions { Dimension = 1, Compression = "none" });
            var collection = store.GetCollection<ulong, Product>("products");
            await collection.EnsureCollectionExistsAsync(); // the stored fields match the model's
            await AssertFilteredSearchesMatchBruteForceAsync(collection, products.Take(100).ToList(), seed: 4);
            await collection.UpsertAsync(products.Skip(100));
            await AssertFilteredSearchesMatchBruteForceAsync(collection, products, seed: 5);
        }
    }
}
