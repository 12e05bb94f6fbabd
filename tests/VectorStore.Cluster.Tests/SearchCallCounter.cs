using System.Collections.Concurrent;

namespace VectorStore.Cluster.Tests;

/// <summary>
/// Counts the search messages silos receive, per collection: <c>SearchAsync</c> calls into shard copies (a key of
/// <c>{silo}|{database}|{collection}|{shard}</c>) and into silo search grains (the copies' keys are its first
/// argument). Calls a silo makes in process, without a message, are not seen, which is what the tests check.
/// </summary>
/// <remarks>Thread-safety: safe from any thread (silos call it concurrently).</remarks>
internal static class SearchCallCounter
{
    private static readonly ConcurrentDictionary<(string Kind, string Collection), int> Counts = new();

    public static Task Filter(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.Name == "SearchAsync")
        {
            if (context.InterfaceName.Contains("ISiloSearchGrain", StringComparison.Ordinal) && context.Request.GetArgument(0) is string[] { Length: > 0 } keys)
                Counts.AddOrUpdate(("silo", keys[0].Split('|')[2]), 1, (_, n) => n + 1);
            else if (context.InterfaceName.Contains("IShardReplicaGrain", StringComparison.Ordinal))
                Counts.AddOrUpdate(("copy", context.TargetId.Key.ToString()!.Split('|')[2]), 1, (_, n) => n + 1);
        }
        return context.Invoke();
    }

    /// <summary>Search messages received so far for <paramref name="collection"/>: by silo search grains, by copies.</summary>
    public static (int Silo, int Copy) Of(string collection) =>
        (Counts.GetValueOrDefault(("silo", collection)), Counts.GetValueOrDefault(("copy", collection)));
}
