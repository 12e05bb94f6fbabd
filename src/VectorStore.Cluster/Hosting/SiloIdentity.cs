using Orleans.Runtime;

namespace VectorStore.Cluster.Hosting;

/// <summary>
/// How layouts name a silo. A silo started with <see cref="VectorStoreSiloOptions.StableName"/> is named
/// <c>vectorstore:{name}</c> (its Orleans silo name), the same across restarts, so a restarted silo takes back the
/// shard copies in its directory; any other silo by its Orleans address (<c>ip:port@generation</c>), new at every start.
/// When two active incarnations carry one name (the old one not yet declared dead), the newest generation is it.
/// </summary>
/// <remarks>Thread-safety: stateless.</remarks>
internal static class SiloIdentity
{
    /// <summary>The Orleans silo-name prefix that marks a stable name.</summary>
    public const string Prefix = "vectorstore:";

    /// <summary>The identity of a silo named <paramref name="siloName"/> at <paramref name="address"/>.</summary>
    public static string Of(string? siloName, SiloAddress address) =>
        siloName is not null && siloName.StartsWith(Prefix, StringComparison.Ordinal) ? siloName : address.ToParsableString();

    /// <summary>Identity → address of every active silo (the newest incarnation of a stable name).</summary>
    public static Dictionary<string, SiloAddress> Active(ClusterMembershipSnapshot snapshot)
    {
        var active = new Dictionary<string, SiloAddress>(StringComparer.Ordinal);
        foreach (var m in snapshot.Members.Values)
        {
            if (m.Status != SiloStatus.Active) continue;
            string id = Of(m.Name, m.SiloAddress);
            if (!active.TryGetValue(id, out var seen) || seen.Generation < m.SiloAddress.Generation) active[id] = m.SiloAddress;
        }
        return active;
    }

    /// <summary>The identities of every active silo (<see cref="Active"/>'s keys) as a set.</summary>
    public static HashSet<string> ActiveIdentities(ClusterMembershipSnapshot snapshot) => Active(snapshot).Keys.ToHashSet(StringComparer.Ordinal);

    /// <summary>Checks a stable name: 1–64 of A–Z a–z 0–9 _ - (it becomes part of grain keys and file names).</summary>
    public static void Validate(string name)
    {
        if (name.Length is 0 or > 64 || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-'))
            throw new InvalidArgumentException($"invalid silo name '{name}' (1–64 of A–Z a–z 0–9 _ -)");
    }
}
