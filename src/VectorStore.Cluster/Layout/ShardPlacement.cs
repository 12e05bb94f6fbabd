namespace VectorStore.Cluster.Layout;

/// <summary>Where one shard lives: its primary, its in-sync replicas and the replicas still being copied.</summary>
/// <remarks>Immutable; a change is a new <see cref="ClusterLayout"/> version.</remarks>
[GenerateSerializer, Immutable]
public sealed class ShardPlacement
{
    /// <summary>The shard number.</summary>
    [Id(0)] public int Shard { get; init; }

    /// <summary>
    /// Bumped whenever the primary changes. Writes carry the epoch they were routed with and replicas refuse batches
    /// from another epoch, so a deposed primary cannot acknowledge anything.
    /// </summary>
    [Id(1)] public long Epoch { get; init; }

    /// <summary>The silo (Orleans parsable address) that orders and acknowledges this shard's writes.</summary>
    [Id(2)] public string Primary { get; init; } = "";

    /// <summary>In-sync replicas other than the primary: each has every acknowledged write.</summary>
    [Id(3)] public string[] Replicas { get; init; } = [];

    /// <summary>Silos being filled by a copy: they receive every new write but answer no read until promoted.</summary>
    [Id(4)] public string[] Learners { get; init; } = [];

    /// <summary>For each learner, the layout version that started its copy (a new session starts from empty).</summary>
    [Id(5)] public long[] LearnerSessions { get; init; } = [];

    /// <summary>The primary, then the replicas: the silos that may answer reads.</summary>
    public string[] InSync() => [Primary, .. Replicas];

    /// <summary>Every silo holding (part of) this shard.</summary>
    public string[] Members() => [Primary, .. Replicas, .. Learners];

    /// <summary>The copy session of <paramref name="learner"/>, or -1 when it is not a learner.</summary>
    public long SessionOf(string learner)
    {
        int i = Array.IndexOf(Learners, learner);
        return i < 0 ? -1 : LearnerSessions[i];
    }
}
