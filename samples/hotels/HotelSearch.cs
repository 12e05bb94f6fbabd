using Microsoft.Extensions.VectorData;

/// <summary>
/// The Semantic Kernel-style walk-through: create the collection, upsert hotels, search with a filter, get by a filter.
/// The answers are checked against what the data says, so the run fails loudly when the provider misbehaves.
/// </summary>
internal static class HotelSearch
{
    private static readonly Hotel[] s_hotels =
    [
        New(1, "Harbour View", "Lisbon", ["pool", "sea"], 4.6, [0.9f, 0.1f, 0.0f, 0.1f]),
        New(2, "Old Town Inn", "Lisbon", ["historic"], 4.1, [0.2f, 0.9f, 0.1f, 0.0f]),
        New(3, "Blue Lagoon Resort", "Porto", ["pool", "spa"], 4.8, [0.8f, 0.2f, 0.1f, 0.2f]),
        New(4, "Budget Stay", "Porto", ["pool"], 3.2, [0.95f, 0.05f, 0.0f, 0.0f]),
        New(5, "Mountain Lodge", "Braga", ["hiking", "spa"], 4.4, [0.0f, 0.1f, 0.9f, 0.3f]),
        New(6, "City Central", "Lisbon", ["business", "pool"], 4.0, [0.6f, 0.3f, 0.2f, 0.6f]),
    ];

    private static Hotel New(ulong id, string name, string city, string[] tags, double rating, float[] embedding) => new()
    {
        HotelId = id, HotelName = name, City = city, Tags = tags, Rating = rating,
        Description = $"{name} in {city}", DescriptionEmbedding = embedding,
    };

    public static async Task<int> RunAsync(Microsoft.Extensions.VectorData.VectorStore store)
    {
        var hotels = store.GetCollection<ulong, Hotel>("skhotels");
        await hotels.EnsureCollectionExistsAsync(); // a second run finds it
        await hotels.UpsertAsync(s_hotels);

        // "A hotel by the sea with a pool", rated 4 or more.
        ReadOnlyMemory<float> query = new float[] { 1.0f, 0.1f, 0.0f, 0.1f };
        var found = await hotels.SearchAsync(query, top: 3, new VectorSearchOptions<Hotel> { Filter = h => h.Tags.Contains("pool") && h.Rating >= 4.0 }).ToListAsync();
        foreach (var hit in found) Console.WriteLine($"search: {hit.Record.HotelName} ({hit.Record.City}, {hit.Record.Rating}) score {hit.Score:F3}");
        // Hotel 4 is the closest vector but rated 3.2, and 2 and 5 have no pool: the filter must leave them out.
        if (!found.Select(h => h.Record.HotelId).SequenceEqual(new ulong[] { 1, 3, 6 })) return Sample.Fail("the filtered search did not return hotels 1, 3, 6 in that order");

        var lisbon = await hotels.GetAsync(h => h.City == "Lisbon", top: 10,
            new FilteredRecordRetrievalOptions<Hotel> { OrderBy = o => o.Descending(h => h.Rating) }).ToListAsync();
        Console.WriteLine($"get: Lisbon by rating: {string.Join(", ", lisbon.Select(h => h.HotelName))}");
        if (!lisbon.Select(h => h.HotelId).SequenceEqual(new ulong[] { 1, 2, 6 })) return Sample.Fail("the filtered get did not return Lisbon's hotels 1, 2, 6 by rating");

        var one = await hotels.GetAsync(3ul);
        if (one is not { HotelName: "Blue Lagoon Resort" } || one.Tags.Length != 2) return Sample.Fail("get by key did not return hotel 3 whole");
        Console.WriteLine($"get: {one.HotelName}: {one.Description}");
        return 0;
    }
}
