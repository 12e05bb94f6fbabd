using System.Net;
using System.Net.Sockets;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Cli;

/// <summary>
/// <c>vectorstore silo</c> refuses, before it joins a cluster, what an operator's slip would turn into harm there: a port
/// another silo listens on (the newcomer had the running silo declared dead), a metadata directory of another cluster
/// (its layouts were rewritten), a name a running silo holds (its shards were left without a primary).
/// </summary>
public sealed class SiloStartChecksTests
{
    private static (int Code, string Out, string Err) Silo(string dir, params string[] extra) =>
        ChildProcess.Run(CrashRecoveryTests.CliStart(["silo", "--data", Path.Combine(dir, "data"), "--metadata", Path.Combine(dir, "meta"), .. extra]),
            TimeSpan.FromSeconds(60));

    [Theory]
    [InlineData("--silo-port")]
    [InlineData("--gateway-port")]
    [InlineData("--port")]
    public void APortInUseIsRefusedBeforeJoining(string flag)
    {
        var dir = TestData.TempDir();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        string[] ports = flag switch
        {
            "--silo-port" => ["--silo-port", $"{port}", "--gateway-port", $"{FreePort()}"],
            "--gateway-port" => ["--silo-port", $"{FreePort()}", "--gateway-port", $"{port}"],
            _ => ["--silo-port", $"{FreePort()}", "--gateway-port", $"{FreePort()}", "--port", $"{port}"],
        };
        var (code, _, err) = Silo(dir, ports);
        Assert.Equal(1, code);
        Assert.Contains($"{flag} {port} is in use", err);
        Assert.False(File.Exists(Path.Combine(dir, "meta", "CLUSTER")), "refused before touching the metadata directory");
    }

    [Fact]
    public void AMetadataDirectoryOfAnotherClusterIsRefused()
    {
        var dir = TestData.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "meta"));
        File.WriteAllText(Path.Combine(dir, "meta", "CLUSTER"), "first\n");
        var (code, _, err) = Silo(dir, "--cluster-id", "second", "--silo-port", $"{FreePort()}", "--gateway-port", $"{FreePort()}");
        Assert.Equal(2, code);
        Assert.Contains("belongs to cluster 'first'", err);
        Assert.Equal("first\n", File.ReadAllText(Path.Combine(dir, "meta", "CLUSTER")));
    }

    /// <summary>A directory used before the marker existed: another cluster's membership table there refuses the claim.</summary>
    [Fact]
    public void AMetadataDirectoryWithAnotherClustersMembershipIsRefused()
    {
        var dir = TestData.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "meta"));
        File.WriteAllText(Path.Combine(dir, "meta", "membership.first.json"), "{}");
        var (code, _, err) = Silo(dir, "--cluster-id", "second", "--silo-port", $"{FreePort()}", "--gateway-port", $"{FreePort()}");
        Assert.Equal(2, code);
        Assert.Contains("holds the membership of cluster 'first'", err);
        Assert.Equal(0, new FileInfo(Path.Combine(dir, "meta", "CLUSTER")).Length);
    }

    [Theory]
    [InlineData("--name", "a/b")]
    [InlineData("--name", "n.1")]
    [InlineData("--cluster-id", " x")]
    [InlineData("--orphan-sweep", "-1")]
    [InlineData("--orphan-sweep", "NaN")]
    public void BadNamesAndSettingsAreUsageErrors(string flag, string value)
    {
        var dir = TestData.TempDir();
        var (code, _, err) = Silo(dir, flag, value, "--silo-port", $"{FreePort()}", "--gateway-port", $"{FreePort()}");
        Assert.Equal(1, code);
        Assert.Contains($"{flag} must be", err);
    }

    [Fact]
    public void ANameARunningSiloHoldsIsRefused()
    {
        var dir = TestData.TempDir();
        Directory.CreateDirectory(Path.Combine(dir, "meta"));
        // What a running silo named node0 of cluster 'vectorstore' holds.
        using var running = new FileStream(Path.Combine(dir, "meta", "silo.vectorstore.node0.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var (code, _, err) = Silo(dir, "--name", "node0", "--silo-port", $"{FreePort()}", "--gateway-port", $"{FreePort()}");
        Assert.Equal(2, code);
        Assert.Contains("a silo named 'node0' of cluster 'vectorstore' is already running", err);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
