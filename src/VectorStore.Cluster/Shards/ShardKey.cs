namespace VectorStore.Cluster.Shards;

/// <summary>
/// The string key of one silo's copy of one shard: <c>{silo}|{database}|{collection}|{shard}</c>. The silo part is
/// what <see cref="Hosting.PinnedPlacementDirector"/> reads to place the grain there and nowhere else.
/// </summary>
internal readonly record struct ShardKey(string Silo, string Database, string Collection, int Shard)
{
    public override string ToString() => $"{Silo}|{Database}|{Collection}|{Shard}";

    /// <summary>The prefix of this shard's collections in the silo's own database.</summary>
    public string LocalPrefix => $"{Database}.{Collection}.{Shard}.";

    /// <summary>The key of the collection's layout grain.</summary>
    public string LayoutKey => $"{Database}/{Collection}";

    public static ShardKey Parse(string key)
    {
        var parts = key.Split('|');
        if (parts.Length != 4 || !int.TryParse(parts[3], out int shard)) throw new ArgumentException($"bad shard key '{key}'", nameof(key));
        return new ShardKey(parts[0], parts[1], parts[2], shard);
    }

    /// <summary>The key of <paramref name="silo"/>'s <see cref="ISiloSearchGrain"/>: <c>{silo}|search</c>, placed like a copy.</summary>
    public static string SearchKey(string silo) => $"{silo}|search";

    /// <summary>The silo part of a shard key, without parsing the rest.</summary>
    public static string SiloOf(string key)
    {
        int bar = key.IndexOf('|');
        return bar < 0 ? key : key[..bar];
    }
}
