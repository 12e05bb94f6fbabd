using System.CommandLine;
using VectorStore.Collections;
using VectorStore.IO;
using VectorStore.Lifecycle;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>scheme</c>: a collection's compression generations (issue 16). Subcommands <c>list</c>, <c>build</c>, <c>canary</c>,
/// <c>promote</c>, <c>rollback</c>, <c>gc</c>, <c>exposure</c>, <c>shadow</c>, <c>policy</c>; each takes the database
/// target (<c>--db</c> | <c>--server</c>) and is written once against <see cref="ICompressionLifecycleClient"/>.
/// </summary>
public sealed class SchemeCommand : CliCommand
{
    public override Command Build()
    {
        var cmd = new Command("scheme", "Compression generations of a collection: build a candidate, compare it, expose it, promote it, roll back");
        foreach (var sub in new[] { List(), BuildGeneration(), Canary(), Promote(), Rollback(), Gc(), Exposure(), Shadow(), Policy() })
            cmd.Subcommands.Add(sub);
        return cmd;
    }

    private static Option<string> Collection() => Opt<string>("--collection", "Collection name", required: true);

    private static Option<bool> Json() => Opt<bool>("--json", "Print JSON lines");

    private static Option<int> Generation(string description) => Opt<int>("--generation", description, required: true);

    /// <summary>A subcommand with the target options, running <paramref name="body"/> through <see cref="LifecycleOutput.RunAsync"/>.</summary>
    private static Command Sub(string name, string description, Option[] options, Action<ParseResult> check,
        Func<ParseResult, ICompressionLifecycleClient, Task> body)
    {
        var cmd = new Command(name, description);
        foreach (var o in options) cmd.Options.Add(o);
        var target = new DatabaseTarget().AddTo(cmd);
        cmd.SetAction(r => Guard(() =>
        {
            check(r);
            return target.Run(r, db => LifecycleOutput.RunAsync(db, lifecycle => body(r, lifecycle)));
        }));
        return cmd;
    }

    private static void RequireGeneration(int generation) => RequireRange("--generation", generation, 1, int.MaxValue);

    private static Command List()
    {
        var name = Collection();
        var json = Json();
        return Sub("list", "One line per generation, oldest first: generation, state (live|candidate|retired), compression, index, readiness, canary figures",
            [name, json], _ => { }, async (r, db) =>
            {
                string c = r.GetValue(name)!;
                foreach (var g in await db.ListGenerationsAsync(c).ConfigureAwait(false))
                    DatabaseOutput.WriteRow(LifecycleOutput.GenerationRow(c, g), r.GetValue(json), Console.Out);
            });
    }

    private static Command BuildGeneration()
    {
        var name = Collection();
        var compression = Opt<string?>("--compression", "The candidate's compression spec (default: the live generation's, i.e. retrain it on the data as it is now)");
        var index = Opt<string?>("--index", "The candidate's index spec (default: the live generation's)");
        var noWait = Opt<bool>("--no-wait", "Return once the candidate is declared instead of once it is built (with --db the build resumes when the database is next opened)");
        var json = Json();
        return Sub("build", "Build a candidate generation from the stored full-precision vectors while the collection serves; prints its generation",
            [name, compression, index, noWait, json], _ => { }, async (r, db) =>
            {
                string c = r.GetValue(name)!;
                string? comp = r.GetValue(compression), idx = r.GetValue(index);
                if (comp is null || idx is null)
                {
                    var live = (await db.GetInfoAsync(c).ConfigureAwait(false)).Options;
                    comp ??= live.Compression;
                    idx ??= live.Index;
                }
                int generation = await db.BuildGenerationAsync(c, comp, idx, wait: !r.GetValue(noWait)).ConfigureAwait(false);
                var info = (await db.ListGenerationsAsync(c).ConfigureAwait(false)).FirstOrDefault(g => g.Generation == generation)
                    ?? new GenerationInfo { Generation = generation, Compression = comp, Index = idx };
                DatabaseOutput.WriteRow(LifecycleOutput.GenerationRow(c, info), r.GetValue(json), Console.Out);
            });
    }

    private static Command Canary()
    {
        var name = Collection();
        var generation = Generation("The candidate generation to compare with the live one");
        var queries = Opt<string>("--queries", "Query vectors (.fvecs or .npy)", required: true);
        var k = Opt("--k", "Results per query (recall@k)", 10);
        var rerank = Opt("--rerank", "Re-score the best N candidates with full-precision vectors (0 = none), for both generations", 0);
        var ef = Opt("--ef", "HNSW beam width (0 = index default)", 0);
        var nprobe = Opt("--nprobe", "IVF lists probed (0 = index default)", 0);
        var json = Json();
        return Sub("canary", "Answer a query file with the live generation, the candidate and exact search: recall of both against exact, overlap, latency, per-segment recall",
            [name, generation, queries, k, rerank, ef, nprobe, json], r =>
            {
                RequireGeneration(r.GetValue(generation));
                RequireRange("--k", r.GetValue(k), 1, MaxK);
                RequireRange("--rerank", r.GetValue(rerank), 0, MaxK);
                RequireRange("--ef", r.GetValue(ef), 0, MaxK);
                RequireRange("--nprobe", r.GetValue(nprobe), 0, 1 << 20);
            }, async (r, db) =>
            {
                string c = r.GetValue(name)!;
                var info = await db.GetInfoAsync(c).ConfigureAwait(false);
                var q = VectorFiles.ReadVectors(r.GetValue(queries)!);
                if (q.Dimension != info.Options.Dimension)
                    throw new InvalidArgumentException($"query dimension {q.Dimension} differs from the collection's {info.Options.Dimension}");
                var options = new SearchOptions { K = r.GetValue(k), Rerank = r.GetValue(rerank), Ef = r.GetValue(ef), NProbe = r.GetValue(nprobe) };
                var report = await db.RunCanaryAsync(c, r.GetValue(generation), q, options).ConfigureAwait(false);
                DatabaseOutput.WriteRow(LifecycleOutput.CanaryRow(c, report), r.GetValue(json), Console.Out);
            });
    }

    private static Command Promote()
    {
        var name = Collection();
        var generation = Generation("The ready candidate to make live");
        var gate = Opt<bool>("--gate", "Promote only when the live-traffic canary (scheme shadow) passes the gate (defaults: 200 exact queries, recall loss ≤ 0.01, p99 ≤ 1.5x)");
        var loss = Opt<double?>("--max-recall-loss", "Gate: the candidate's canary recall may be at most this much below live (implies --gate)");
        var p99 = Opt<double?>("--max-p99-factor", "Gate: the candidate's canary p99 may be at most this multiple of live (implies --gate)");
        var minExact = Opt<int?>("--min-exact-queries", "Gate: exact canary queries the decision needs (implies --gate)");
        var json = Json();
        return Sub("promote", "Make a ready candidate generation live in one atomic, durable step (the live one is retired, kept for rollback)",
            [name, generation, gate, loss, p99, minExact, json], r =>
            {
                RequireGeneration(r.GetValue(generation));
                GateFrom(r, gate, loss, p99, minExact);
            }, async (r, db) =>
            {
                string c = r.GetValue(name)!;
                int previous = (await db.GetInfoAsync(c).ConfigureAwait(false)).Stats.Generation;
                var g = GateFrom(r, gate, loss, p99, minExact);
                await db.PromoteAsync(c, r.GetValue(generation), g).ConfigureAwait(false);
                DatabaseOutput.WriteRow(new Dictionary<string, object?>
                {
                    ["collection"] = c, ["generation"] = r.GetValue(generation), ["previous"] = previous > 0 ? previous : null, ["gated"] = g is not null,
                }, r.GetValue(json), Console.Out);
            });
    }

    /// <summary>The gate the flags ask for (validated: a bad value is a usage error), or null when none is.</summary>
    private static PromotionGate? GateFrom(ParseResult r, Option<bool> gate, Option<double?> loss, Option<double?> p99, Option<int?> minExact)
    {
        double? l = r.GetValue(loss), f = r.GetValue(p99);
        int? m = r.GetValue(minExact);
        if (!r.GetValue(gate) && l is null && f is null && m is null) return null;
        var g = new PromotionGate();
        g = g with { MaxRecallLoss = l ?? g.MaxRecallLoss, MaxP99Factor = f ?? g.MaxP99Factor, MinExactQueries = m ?? g.MinExactQueries };
        g.Validate();
        return g;
    }

    private static Command Rollback()
    {
        var name = Collection();
        var json = Json();
        return Sub("rollback", "Make the newest retired generation live again (no retraining)", [name, json], _ => { }, async (r, db) =>
        {
            string c = r.GetValue(name)!;
            int previous = (await db.GetInfoAsync(c).ConfigureAwait(false)).Stats.Generation;
            int now = await db.RollbackAsync(c).ConfigureAwait(false);
            DatabaseOutput.WriteRow(new Dictionary<string, object?> { ["collection"] = c, ["generation"] = now, ["previous"] = previous > 0 ? previous : null },
                r.GetValue(json), Console.Out);
        });
    }

    private static Command Gc()
    {
        var name = Collection();
        var json = Json();
        return Sub("gc", "Drop retired generations beyond the policy's retention, rolled-back ones (candidates again) beyond the same count, and failed candidates", [name, json], _ => { }, async (r, db) =>
        {
            string c = r.GetValue(name)!;
            int removed = await db.CollectGenerationsAsync(c).ConfigureAwait(false);
            DatabaseOutput.WriteRow(new Dictionary<string, object?> { ["collection"] = c, ["removed"] = removed }, r.GetValue(json), Console.Out);
        });
    }

    private static Command Exposure()
    {
        var name = Collection();
        var generation = Generation("The candidate that serves the exposed share");
        var percent = Opt<double>("--percent", "Share of searches with an exposure key (search --exposure-key) it serves, 0..100; 0 ends the exposure", required: true);
        var json = Json();
        return Sub("exposure", "A/B exposure: serve a stable, key-hashed share of searches with a candidate generation",
            [name, generation, percent, json], r =>
            {
                RequireGeneration(r.GetValue(generation));
                double p = r.GetValue(percent);
                if (!(p is >= 0 and <= 100)) throw new UsageException($"--percent must be in 0..100, got {p}");
            }, async (r, db) =>
            {
                string c = r.GetValue(name)!;
                await db.SetExposureAsync(c, r.GetValue(generation), r.GetValue(percent)).ConfigureAwait(false);
                DatabaseOutput.WriteRow(new Dictionary<string, object?> { ["collection"] = c, ["generation"] = r.GetValue(generation), ["percent"] = r.GetValue(percent) },
                    r.GetValue(json), Console.Out);
            });
    }

    private static Command Shadow()
    {
        var name = Collection();
        var generation = Opt<int?>("--generation", "The candidate to shadow live queries with (required unless --stop)");
        var stop = Opt<bool>("--stop", "Stop the shadow canary (its figures stay in scheme list)");
        var defaults = new CanarySettings { Generation = 1 };
        var rate = Opt("--rate", "Fraction of live queries the candidate also answers, off the request path", defaults.SampleRate);
        var exact = Opt("--exact-fraction", "Fraction of those also answered exactly (the recall figures rest on these)", defaults.ExactFraction);
        var cpu = Opt("--cpu-budget", "Share of one core the canary's background work may use on average (sampled queries past it are skipped)", defaults.CpuBudget);
        var segmentField = Opt<string?>("--segment-field", "Keyword or tags field whose values group the true neighbours into segments (recall per value)");
        var queue = Opt("--queue", "Shadow queries waiting beyond which new ones are dropped", defaults.QueueCapacity);
        var seed = Opt("--seed", "Sampling seed", defaults.Seed);
        var json = Json();
        CanarySettings Settings(ParseResult r) => new()
        {
            Generation = r.GetValue(generation) ?? 0, SampleRate = r.GetValue(rate), ExactFraction = r.GetValue(exact), CpuBudget = r.GetValue(cpu),
            SegmentField = r.GetValue(segmentField), QueueCapacity = r.GetValue(queue), Seed = r.GetValue(seed),
        };
        return Sub("shadow", "Start (or --stop) the shadow canary on live traffic: a sample of queries also answered by a candidate and exactly (useful with --server)",
            [name, generation, stop, rate, exact, cpu, segmentField, queue, seed, json], r =>
            {
                if (r.GetValue(stop))
                {
                    if (r.GetValue(generation) is not null) throw new UsageException("--stop takes no --generation");
                    return;
                }
                if (r.GetValue(generation) is not int g) throw new UsageException("--generation is required (or --stop)");
                RequireGeneration(g);
                // A bad value is InvalidArgumentException: exit 1 before the database is opened.
                Settings(r).Validate();
            }, async (r, db) =>
            {
                string c = r.GetValue(name)!;
                if (r.GetValue(stop))
                {
                    await db.StopCanaryAsync(c).ConfigureAwait(false);
                    DatabaseOutput.WriteRow(new Dictionary<string, object?> { ["collection"] = c, ["stopped"] = true }, r.GetValue(json), Console.Out);
                    return;
                }
                var settings = Settings(r);
                await db.StartCanaryAsync(c, settings).ConfigureAwait(false);
                DatabaseOutput.WriteRow(new Dictionary<string, object?>
                {
                    ["collection"] = c, ["generation"] = settings.Generation, ["rate"] = settings.SampleRate, ["exact_fraction"] = settings.ExactFraction,
                    ["cpu_budget"] = settings.CpuBudget, ["segment_field"] = settings.SegmentField,
                }, r.GetValue(json), Console.Out);
            });
    }

    private static Command Policy()
    {
        var name = Collection();
        var defaults = new LifecyclePolicy();
        var retain = Opt("--retain", "Retired generations kept for rollback (0..16)", defaults.RetainRetired);
        var rebalance = Opt<bool>("--rebalance-on-drift", "Ladder step 1: rebalance IVF lists when a drift signal fires");
        var build = Opt<bool>("--build-on-drift", "Ladder step 2: when drift persists, train a candidate with the live specs and start its canary");
        var promote = Opt<bool>("--promote-on-drift", "Ladder step 3: promote a drift candidate once its canary passes the gate (needs --build-on-drift)");
        var canaryRate = Opt("--canary-rate", "Sample rate of the canary the ladder starts", defaults.CanaryRate);
        var floor = Opt<double?>("--rollback-floor", "Roll back automatically when the live canary recall falls below this (0..1]");
        var buildRate = Opt("--build-rate", "Vectors per second a background build encodes at most (0 = unthrottled)", defaults.BuildVectorsPerSecond);
        var loss = Opt("--max-recall-loss", "Gate: recall loss allowed against live", defaults.Gate.MaxRecallLoss);
        var p99 = Opt("--max-p99-factor", "Gate: p99 factor allowed against live", defaults.Gate.MaxP99Factor);
        var minExact = Opt("--min-exact-queries", "Gate: exact canary queries the decision needs", defaults.Gate.MinExactQueries);
        var show = Opt<bool>("--show", "Print the policy the collection holds and change nothing (start a change from it: the other flags replace the whole policy)");
        var json = Json();
        Option[] settings = [retain, rebalance, build, promote, canaryRate, floor, buildRate, loss, p99, minExact];
        LifecyclePolicy From(ParseResult r) => new()
        {
            RetainRetired = r.GetValue(retain), RebalanceOnDrift = r.GetValue(rebalance), BuildCandidateOnDrift = r.GetValue(build),
            PromoteWhenGatePasses = r.GetValue(promote), CanaryRate = r.GetValue(canaryRate), RollbackRecallFloor = r.GetValue(floor),
            BuildVectorsPerSecond = r.GetValue(buildRate),
            Gate = new PromotionGate { MaxRecallLoss = r.GetValue(loss), MaxP99Factor = r.GetValue(p99), MinExactQueries = r.GetValue(minExact) },
        };
        return Sub("policy", "Set what the collection does by itself about drift and generations (replaces the whole policy; unset flags take their defaults), or print it (--show)",
            [name, retain, rebalance, build, promote, canaryRate, floor, buildRate, loss, p99, minExact, show, json], r =>
            {
                if (!r.GetValue(show)) From(r).Validate();
                else if (settings.Where(o => r.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToArray() is { Length: > 0 } given)
                    throw new UsageException($"--show prints the policy and changes nothing: leave out {string.Join(", ", given)}");
            }, async (r, db) =>
            {
                string c = r.GetValue(name)!;
                LifecyclePolicy p;
                if (r.GetValue(show)) p = await db.GetLifecyclePolicyAsync(c).ConfigureAwait(false);
                else await db.SetLifecyclePolicyAsync(c, p = From(r)).ConfigureAwait(false);
                DatabaseOutput.WriteRow(new Dictionary<string, object?>
                {
                    ["collection"] = c, ["retain"] = p.RetainRetired, ["rebalance_on_drift"] = p.RebalanceOnDrift, ["build_on_drift"] = p.BuildCandidateOnDrift,
                    ["promote_on_drift"] = p.PromoteWhenGatePasses, ["canary_rate"] = p.CanaryRate, ["rollback_floor"] = p.RollbackRecallFloor,
                    ["build_rate"] = p.BuildVectorsPerSecond, ["max_recall_loss"] = p.Gate.MaxRecallLoss, ["max_p99_factor"] = p.Gate.MaxP99Factor,
                    ["min_exact_queries"] = p.Gate.MinExactQueries,
                }, r.GetValue(json), Console.Out);
            });
    }
}
