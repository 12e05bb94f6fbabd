using VectorStore.Evaluation;
using VectorStore.IO;
using Xunit;

namespace VectorStore.Tests.Cli;

/// <summary>
/// Every bad numeric flag (and a search knob the index lacks) ends in exit code 1 with one readable <c>error:</c> line
/// naming the flag — never a .NET exception name or a CLR type such as <c>System.Int32</c>. One row per case; the
/// files and collections the rows name are made once by <see cref="Files"/>.
/// </summary>
public sealed class CliArgumentErrorTests(CliArgumentErrorTests.Files files) : IClassFixture<CliArgumentErrorTests.Files>
{
    /// <summary>A small base and query set, an empty query file, and a database with an HNSW and an IVF collection.</summary>
    public sealed class Files
    {
        public string Dir { get; } = TestData.TempDir();

        public Files()
        {
            VectorFiles.WriteFvecs(Path.Combine(Dir, "b.fvecs"), SyntheticData.Clustered(300, 8, seed: 1));
            VectorFiles.WriteFvecs(Path.Combine(Dir, "q.fvecs"), SyntheticData.Clustered(10, 8, seed: 2));
            File.WriteAllBytes(Path.Combine(Dir, "empty.fvecs"), []);
            foreach (var (name, index) in new[] { ("h", "hnsw:8"), ("i", "ivf:4") })
            {
                var r = CliRunner.Run("create", "--db", Path.Combine(Dir, "db"), "--collection", name, "--dim", "8", "--metric", "l2",
                    "--compression", "none", "--index", index);
                if (r.Code != 0) throw new InvalidOperationException($"create {index} failed: {r.Stderr}");
            }
        }

        /// <summary>Replaces <c>{dir}</c> in each argument with the fixture's directory.</summary>
        public string[] Expand(string args) => args.Split(' ').Select(a => a.Replace("{dir}", Dir, StringComparison.Ordinal)).ToArray();
    }

    private const string Subset = "subset --base {dir}/b.fvecs --query {dir}/q.fvecs --out {dir}/sub";
    private const string Eval = "eval --base {dir}/b.fvecs --query {dir}/q.fvecs --min-time 0";
    private const string Report = "report --base {dir}/b.fvecs --query {dir}/q.fvecs --min-time 0 --variants none --out {dir}/rep";
    private const string Search = "search --db {dir}/db --queries {dir}/q.fvecs";

    /// <summary>Arguments (with <c>{dir}</c>), and what the single error line must contain.</summary>
    public static TheoryData<string, string> Cases => new()
    {
        { $"{Subset} --count -1", "--count must be in 1.." },
        { $"{Subset} --count 0", "--count must be in 1.." },
        { $"{Subset} --queries -3", "--queries must be in 1.." },
        { $"{Subset} --count many", "--count expects a whole number" },
        { $"{Eval} --max-base -1", "--max-base must be in 0.." },
        { $"{Eval} --max-queries -1", "--max-queries must be in 0.." },
        { "eval --base {dir}/b.fvecs --query {dir}/empty.fvecs --min-time 0", "file is empty" },
        { $"{Eval} --k abc", "--k expects a whole number" },
        { $"{Eval} --k 99999999999", "--k expects a whole number in -2147483648..2147483647, got '99999999999'" },
        { $"{Eval} --k 0", "--k must be in 1.." },
        { $"{Eval} --rerank -5", "--rerank must be in 0.." },
        { $"{Eval} --threads -2", "--threads must be in 0.." },
        { "eval --base {dir}/b.fvecs --query {dir}/q.fvecs --min-time -1", "--min-time must be in 0..3600" },
        { "eval --base {dir}/b.fvecs --query {dir}/q.fvecs --min-time soon", "--min-time expects a number" },
        { $"{Eval} --target-recall 2", "--target-recall must be in 0..1" },
        { $"{Report} --ef -1", "--ef must be in 0.." },
        { $"{Report} --index hnsw:8 --nprobe 4", "--nprobe applies only to an ivf index" },
        { $"{Report} --index ivf:4 --ef 32", "--ef applies only to an hnsw index" },
        { $"{Report} --k 101", "--k must be in 1..100" },
        { $"{Search} --collection h --nprobe 4", "--nprobe applies only to an ivf index, and this one is hnsw:8; use --ef" },
        { $"{Search} --collection i --ef 32", "--ef applies only to an hnsw index, and this one is ivf:4; use --nprobe" },
        { $"{Search} --collection h --k abc", "--k expects a whole number" },
        { $"{Search} --collection h --k -1", "--k must be in 1.." },
        { $"{Search} --collection h --nprobe -1", "--nprobe must be in 0.." },
        { "load --db {dir}/db --collection h --vectors {dir}/b.fvecs --first-id -1", "--first-id must not be negative" },
        { "load --db {dir}/db --collection h --vectors {dir}/b.fvecs --first-id x", "--first-id expects a whole number in 0..9223372036854775807, got 'x'" },
        { "load --db {dir}/db --collection h --vectors {dir}/b.fvecs --batch 0", "--batch must be in 1.." },
        { "create --db {dir}/db2 --collection c --dim -4 --metric l2", "--dim must be in 1..65536, got -4" },
        { "create --db {dir}/db2 --collection c --dim 100000 --metric l2", "--dim must be in 1..65536, got 100000" },
        { "create --db {dir}/db2 --collection c --dim 8 --training-threshold 0", "--training-threshold must be in 1.." },
        { $"{Eval} --filter-fraction -0.5", "--filter-fraction must be in (0, 1]" },
        { "serve --db {dir}/sdb --port 70000", "--port must be in 0..65535" },
        { "serve --db {dir}/sdb --port 0 --memory-budget -1", "--memory-budget must be in 1.." },
        { "hash --input {dir}/b.fvecs --dim -1 --out {dir}/h.fvecs", "--dim must be in 1.." },
        { $"scheme promote {Db} --collection h --generation 0", "--generation must be in 1.." },
        { $"scheme promote {Db} --collection h --generation two", "--generation expects a whole number" },
        { $"scheme promote {Db} --collection h --generation 2 --max-p99-factor 0.5", "gate p99 factor must be in [1, 1000], got 0.5" },
        { $"scheme promote {Db} --collection h --generation 2 --max-recall-loss 2", "gate recall loss must be in [0, 1], got 2" },
        { $"scheme canary {Db} --collection h --generation 2 --queries {{dir}}/q.fvecs --k 0", "--k must be in 1.." },
        { $"scheme canary {Db} --collection h --generation 2 --queries {{dir}}/q.fvecs --rerank -1", "--rerank must be in 0.." },
        { $"scheme exposure {Db} --collection h --generation 2 --percent 150", "--percent must be in 0..100, got 150" },
        { $"scheme exposure {Db} --collection h --generation 2 --percent lots", "--percent expects a number" },
        { $"scheme shadow {Db} --collection h", "--generation is required (or --stop)" },
        { $"scheme shadow {Db} --collection h --stop --generation 2", "--stop takes no --generation" },
        { $"scheme shadow {Db} --collection h --generation 2 --rate 0", "canary sample rate must be in (0, 1], got 0" },
        { $"scheme shadow {Db} --collection h --generation 2 --exact-fraction 1.5", "canary exact fraction must be in [0, 1], got 1.5" },
        { $"scheme shadow {Db} --collection h --generation 2 --cpu-budget 0", "canary CPU budget must be in (0, 64] cores, got 0" },
        { $"scheme policy {Db} --collection h --retain 17", "retained generations must be in 0..16, got 17" },
        { $"scheme policy {Db} --collection h --rollback-floor 0", "rollback recall floor must be in (0, 1], got 0" },
        { "scheme list --collection h", "one of --db DIR or --server HOST:PORT is required" },
        // A file named as the database: every command gives create's message, not "run 'create' first".
        { "info --db {dir}/b.fvecs", "b.fvecs is a file, not a database directory" },
        { "recover --db {dir}/b.fvecs", "b.fvecs is a file, not a database directory" },
        { "search --db {dir}/b.fvecs --collection h --queries {dir}/q.fvecs", "b.fvecs is a file, not a database directory" },
        { "export --db {dir}/b.fvecs --collection h --out {dir}/x.fvecs --ids-out {dir}/x.txt", "b.fvecs is a file, not a database directory" },
        { "load --db {dir}/b.fvecs --collection h --vectors {dir}/b.fvecs", "b.fvecs is a file, not a database directory" },
        { "drift --db {dir}/b.fvecs --collection h", "b.fvecs is a file, not a database directory" },
        { "create --db {dir}/b.fvecs --collection h --dim 8", "b.fvecs is a file, not a database directory" },
    };

    private const string Db = "--db {dir}/db";

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadArgumentGivesOneReadableErrorLineAndExitCode1(string args, string expected)
    {
        var r = CliRunner.Run(files.Expand(args));
        Assert.True(r.Code == 1, $"exit code {r.Code}, stderr: {r.Stderr}");
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("System.", line);
        Assert.DoesNotContain("Exception", line);
        Assert.Equal("", r.Stdout);
    }
}
