using VectorStore.Cluster.Shards;

namespace VectorStore.Cluster.Tests;

/// <summary>
/// Makes chosen layout pushes to shard copies fail, as a push lost to a dying silo or a timeout would: each armed
/// (collection, shard) fails the next creation push (<see cref="ShardAssignment.Created"/>) it receives, once. Also
/// counts the copies' reports of lost data.
/// </summary>
/// <remarks>Thread-safety: safe from any thread (silos call it concurrently).</remarks>
internal static class PushFaults
{
    private static readonly HashSet<(string Collection, int Shard)> Armed = [];

    /// <summary>The next creation push to a copy of <paramref name="shard"/> of <paramref name="collection"/> fails.</summary>
    public static void FailNextCreationPush(string collection, int shard)
    {
        lock (Armed) Armed.Add((collection, shard));
    }

    private static int s_lostReports;

    /// <summary><c>ReportLostCopyAsync</c> calls layout grains have received so far (all collections).</summary>
    public static int LostReports => Volatile.Read(ref s_lostReports);

    public static Task Filter(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.Name == "ReportLostCopyAsync") Interlocked.Increment(ref s_lostReports);
        if (context.InterfaceMethod?.Name == "ConfigureAsync" && context.Request.GetArgument(0) is ShardAssignment { Created: true }
            && context.TargetId.Key.ToString()!.Split('|') is [_, _, var collection, var shard])
        {
            lock (Armed)
                if (Armed.Remove((collection, int.Parse(shard, System.Globalization.CultureInfo.InvariantCulture))))
                    throw new TimeoutException("creation push lost (PushFaults)");
        }
        return context.Invoke();
    }
}
