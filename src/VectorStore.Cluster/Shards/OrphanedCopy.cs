using VectorStore.Cluster.Layout;

namespace VectorStore.Cluster.Shards;

/// <summary>
/// When a silo may delete its local copy of a shard that no layout push told it to drop: the push is lost when the
/// silo is down (a copy moved away or a collection dropped meanwhile), and an unnamed silo restarts under a new
/// identity that no layout names. The rule errs towards keeping: only a layout that was read, and that shows the shard
/// served elsewhere, or a recorded drop, frees the bytes.
/// </summary>
/// <remarks>Thread-safety: stateless.</remarks>
internal static class OrphanedCopy
{
    /// <summary>
    /// True when <paramref name="silo"/>'s copy of <paramref name="shard"/> is nobody's data any more: the collection
    /// was dropped (<paramref name="dropped"/>, recorded by its layout grain), or the layout gives the shard to other
    /// silos only and its primary is active (<paramref name="active"/>, by <see cref="Hosting.SiloIdentity"/>), so the
    /// shard's acknowledged writes live there. False for a layout that is missing without a recorded drop (metadata lost
    /// or not yet written: the copy may be all that is left), a shard the layout does not have, a shard whose members
    /// include <paramref name="silo"/> (learners too), and a shard whose primary is not active (a shard that lost every
    /// live copy keeps its dead primary; this copy may then be the only one an operator can recover).
    /// </summary>
    public static bool IsOrphaned(ClusterLayout? layout, bool dropped, int shard, string silo, IReadOnlySet<string> active)
    {
        if (layout is null) return dropped;
        if (shard < 0 || shard >= layout.Shards.Length) return false;
        var placement = layout.Shards[shard];
        if (placement.Members().Contains(silo, StringComparer.Ordinal)) return false;
        return active.Contains(placement.Primary);
    }

    /// <summary>
    /// The shard a local collection name (<c>{database}.{collection}.{shard}.{d|t}{n}</c>, <see cref="Hosting.ShardStore"/>)
    /// holds a copy of, or null for any other name. Cluster database and collection names hold no dots.
    /// </summary>
    public static (string Database, string Collection, int Shard)? ShardOf(string localName)
    {
        var parts = localName.Split('.');
        if (parts.Length != 4 || parts[0].Length == 0 || parts[1].Length == 0) return null;
        if (!int.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int shard)) return null;
        var kind = parts[3];
        if (kind.Length < 2 || kind[0] is not ('d' or 't') || !long.TryParse(kind.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)) return null;
        return (parts[0], parts[1], shard);
    }
}
