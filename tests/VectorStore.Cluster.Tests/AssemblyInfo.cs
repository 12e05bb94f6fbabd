using Xunit;

// Each test class starts its own in-process cluster; run them one at a time so a 2-core machine is not asked to
// run three clusters at once (timing-sensitive checks such as per-shard deadlines would then measure contention).
[assembly: CollectionBehavior(DisableTestParallelization = true)]
