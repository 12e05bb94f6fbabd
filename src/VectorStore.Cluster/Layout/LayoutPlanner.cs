namespace VectorStore.Cluster.Layout;

/// <summary>
/// Pure functions from a layout and the set of live silos to the next layout. The layout grain applies them one at
/// a time, persisting each version before acting on it, so every step is small and observable.
/// </summary>
/// <remarks>Thread-safety: stateless.</remarks>
internal static class LayoutPlanner
{
    /// <summary>
    /// A new layout: slot s in shard s mod <paramref name="shards"/>; shard i's copies on the R silos following silo
    /// i in name order, so primaries and replicas spread evenly. Its version is <paramref name="version"/>: above a
    /// dropped collection's of the same name, so copies that heard the old one take the new one's pushes as newer.
    /// </summary>
    public static ClusterLayout Create(string database, string collection, CollectionSpec spec, int shards, int replication, IReadOnlyCollection<string> silos, int slotCount,
        long version = 1)
    {
        if (silos.Count == 0) throw new InvalidArgumentException("the cluster has no active silo");
        if (shards is <= 0 || shards > slotCount) throw new InvalidArgumentException($"shard count must be in 1..{slotCount}, got {shards}");
        if (replication <= 0 || replication > silos.Count)
            throw new InvalidArgumentException($"replication factor must be in 1..{silos.Count} (active silos), got {replication}");
        var sorted = silos.Order(StringComparer.Ordinal).ToArray();
        var placements = new ShardPlacement[shards];
        for (int i = 0; i < shards; i++)
        {
            var members = Enumerable.Range(0, replication).Select(j => sorted[(i + j) % sorted.Length]).ToArray();
            placements[i] = new ShardPlacement { Shard = i, Epoch = 1, Primary = members[0], Replicas = members[1..] };
        }
        return new ClusterLayout
        {
            Database = database,
            Collection = collection,
            Version = version,
            Incarnation = version,
            SlotCount = slotCount,
            SlotToShard = Enumerable.Range(0, slotCount).Select(s => s % shards).ToArray(),
            Shards = placements,
            ReplicationFactor = replication,
            Spec = spec,
        };
    }

    /// <summary>
    /// Drops dead silos from every shard; a shard whose primary died gets its first live in-sync replica as primary
    /// (new epoch). Learners on dead silos are dropped; learners are never promoted here (they lack old data). A
    /// shard with no live in-sync copy keeps its placement as it was, dead replicas included: it is unavailable, not
    /// silently empty, and whichever of its copies comes back first with its data serves it again. (Dropping the dead
    /// replicas there let a primary back on a wiped disk pass for the shard's only copy: it served the shard empty
    /// and the replica that held the data, once back, was made a learner of it and emptied.) Null when nothing changed.
    /// </summary>
    public static ClusterLayout? RemoveDead(ClusterLayout layout, IReadOnlySet<string> alive)
    {
        bool changed = false;
        var shards = layout.Shards.Select(p =>
        {
            var liveReplicas = p.Replicas.Where(alive.Contains).ToArray();
            var keep = p.Learners.Select((l, i) => (l, i)).Where(t => alive.Contains(t.l)).ToArray();
            string primary = p.Primary;
            long epoch = p.Epoch;
            if (!alive.Contains(primary) && liveReplicas.Length > 0)
            {
                primary = liveReplicas[0];
                liveReplicas = liveReplicas[1..];
                epoch++;
            }
            else if (!alive.Contains(primary))
            {
                return p;
            }
            if (primary == p.Primary && liveReplicas.Length == p.Replicas.Length && keep.Length == p.Learners.Length) return p;
            changed = true;
            return new ShardPlacement
            {
                Shard = p.Shard,
                Epoch = epoch,
                Primary = primary,
                Replicas = liveReplicas,
                Learners = keep.Select(t => t.l).ToArray(),
                LearnerSessions = keep.Select(t => p.LearnerSessions[t.i]).ToArray(),
            };
        }).ToArray();
        return changed ? With(layout, shards) : null;
    }

    /// <summary>
    /// The next copy to make: first a shard with fewer than R live copies (to the least loaded live silo that does
    /// not hold it), else a move from the most to the least loaded silo when they differ by two or more replicas
    /// (a silo joined). Null when the layout is as good as the live silos allow.
    /// </summary>
    public static RepairStep? NextStep(ClusterLayout layout, IReadOnlySet<string> alive)
    {
        if (alive.Count == 0) return null;
        var load = alive.ToDictionary(s => s, _ => 0, StringComparer.Ordinal);
        foreach (var p in layout.Shards)
            foreach (var m in p.Members())
                if (load.ContainsKey(m)) load[m]++;
        string LeastLoaded(IEnumerable<string> candidates) =>
            candidates.OrderBy(s => load[s]).ThenBy(s => s, StringComparer.Ordinal).First();

        foreach (var p in layout.Shards)
        {
            if (!alive.Contains(p.Primary)) continue; // unavailable: nothing to copy from
            var members = p.Members();
            if (members.Count(alive.Contains) >= layout.ReplicationFactor) continue;
            var candidates = alive.Where(s => !members.Contains(s)).ToArray();
            if (candidates.Length > 0) return new RepairStep(p.Shard, LeastLoaded(candidates), null);
        }

        var most = alive.OrderByDescending(s => load[s]).ThenBy(s => s, StringComparer.Ordinal).First();
        var least = LeastLoaded(alive);
        if (load[most] - load[least] < 2) return null;
        // Prefer moving a plain replica: moving a primary costs a hand-over (new epoch) as well as a copy.
        var shard = layout.Shards
            .Where(p => p.Learners.Length == 0 && p.Members().Contains(most) && !p.Members().Contains(least) && alive.Contains(p.Primary))
            .OrderBy(p => p.Primary == most ? 1 : 0).ThenBy(p => p.Shard)
            .FirstOrDefault();
        return shard is null ? null : new RepairStep(shard.Shard, least, most);
    }

    /// <summary>Adds <paramref name="target"/> as a learner of <paramref name="shard"/> (a new copy session).</summary>
    public static ClusterLayout AddLearner(ClusterLayout layout, int shard, string target)
    {
        var p = layout.Shards[shard];
        if (p.Members().Contains(target)) throw new InvalidOperationException($"silo {target} already holds shard {shard}");
        return With(layout, Replace(layout.Shards, new ShardPlacement
        {
            Shard = shard,
            Epoch = p.Epoch,
            Primary = p.Primary,
            Replicas = p.Replicas,
            Learners = [.. p.Learners, target],
            LearnerSessions = [.. p.LearnerSessions, layout.Version + 1],
        }));
    }

    /// <summary>Removes a learner whose copy failed.</summary>
    public static ClusterLayout DropLearner(ClusterLayout layout, int shard, string target)
    {
        var p = layout.Shards[shard];
        int i = Array.IndexOf(p.Learners, target);
        if (i < 0) return layout;
        return With(layout, Replace(layout.Shards, new ShardPlacement
        {
            Shard = shard,
            Epoch = p.Epoch,
            Primary = p.Primary,
            Replicas = p.Replicas,
            Learners = p.Learners.Where((_, j) => j != i).ToArray(),
            LearnerSessions = p.LearnerSessions.Where((_, j) => j != i).ToArray(),
        }));
    }

    /// <summary>
    /// A learner whose copy finished becomes an in-sync replica; with <paramref name="source"/>, that silo's copy is
    /// retired in the same version (if it was the primary, the first other in-sync copy takes over, new epoch).
    /// </summary>
    public static ClusterLayout Promote(ClusterLayout layout, int shard, string target, string? source)
    {
        var p = DropLearner(layout, shard, target).Shards[shard];
        var inSync = p.InSync().Append(target).Where(s => s != source).ToArray();
        bool newPrimary = source == p.Primary;
        return With(layout, Replace(layout.Shards, new ShardPlacement
        {
            Shard = shard,
            Epoch = newPrimary ? p.Epoch + 1 : p.Epoch,
            Primary = inSync[0],
            Replicas = inSync[1..],
            Learners = p.Learners,
            LearnerSessions = p.LearnerSessions,
        }));
    }

    /// <summary>
    /// Removes an in-sync copy that failed to apply a batch (it may now miss an acknowledged write, so it must never
    /// be read or promoted again). The primary cannot be ejected this way; it is replaced only when it dies.
    /// </summary>
    public static ClusterLayout? Eject(ClusterLayout layout, int shard, string silo)
    {
        var p = layout.Shards[shard];
        if (!p.Replicas.Contains(silo) && !p.Learners.Contains(silo)) return null;
        if (p.Learners.Contains(silo)) return DropLearner(layout, shard, silo);
        return With(layout, Replace(layout.Shards, new ShardPlacement
        {
            Shard = shard,
            Epoch = p.Epoch,
            Primary = p.Primary,
            Replicas = p.Replicas.Where(r => r != silo).ToArray(),
            Learners = p.Learners,
            LearnerSessions = p.LearnerSessions,
        }));
    }

    /// <summary>
    /// The layout without <paramref name="silo"/>'s copy of <paramref name="shard"/>, which has lost its data: a replica
    /// or learner is ejected; a primary hands over to its first live in-sync replica (new epoch). Null when the silo
    /// holds no copy of the shard, or is its primary with no live replica (unavailable rather than empty).
    /// </summary>
    public static ClusterLayout? DropLostCopy(ClusterLayout layout, int shard, string silo, IReadOnlySet<string> alive)
    {
        var p = layout.Shards[shard];
        if (p.Primary != silo) return Eject(layout, shard, silo);
        if (p.Replicas.FirstOrDefault(alive.Contains) is not { } heir) return null;
        return With(layout, Replace(layout.Shards, new ShardPlacement
        {
            Shard = shard,
            Epoch = p.Epoch + 1,
            Primary = heir,
            Replicas = p.Replicas.Where(r => r != heir).ToArray(),
            Learners = p.Learners,
            LearnerSessions = p.LearnerSessions,
        }));
    }

    /// <summary>The same layout at training generation <paramref name="generation"/>.</summary>
    public static ClusterLayout WithTraining(ClusterLayout layout, int generation) => With(layout, layout.Shards, generation);

    /// <summary>The layout of a dropped collection: every shard without copies, so every former copy retires.</summary>
    public static ClusterLayout Retired(ClusterLayout layout) =>
        With(layout, layout.Shards.Select(p => new ShardPlacement { Shard = p.Shard, Epoch = p.Epoch + 1 }).ToArray());

    private static ShardPlacement[] Replace(ShardPlacement[] shards, ShardPlacement p)
    {
        var copy = (ShardPlacement[])shards.Clone();
        copy[p.Shard] = p;
        return copy;
    }

    private static ClusterLayout With(ClusterLayout layout, ShardPlacement[] shards, int? generation = null,
        (ClusterGeneration[] Generations, int Last, string? Policy)? lifecycle = null) => new()
    {
        Database = layout.Database,
        Collection = layout.Collection,
        Version = layout.Version + 1,
        Incarnation = layout.Incarnation,
        SlotCount = layout.SlotCount,
        SlotToShard = layout.SlotToShard,
        Shards = shards,
        ReplicationFactor = layout.ReplicationFactor,
        TrainingGeneration = generation ?? layout.TrainingGeneration,
        Spec = layout.Spec,
        Generations = lifecycle?.Generations ?? layout.Generations,
        LastGeneration = lifecycle?.Last ?? layout.LastGeneration,
        Policy = lifecycle is { } l ? l.Policy : layout.Policy,
    };

    /// <summary>The next version with <paramref name="generations"/> (and the highest number and policy given).</summary>
    public static ClusterLayout WithGenerations(ClusterLayout layout, ClusterGeneration[] generations, int last, string? policy) =>
        With(layout, layout.Shards, lifecycle: (generations, last, policy));
}
