using System.Diagnostics;
using VectorStore.Client;
using VectorStore.Collections;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary><c>vectorstore serve</c> as a separate process: prints <c>listening HOST:PORT</c>, serves, exits 0 on SIGTERM.</summary>
public class ServeCommandTests
{
    [SkippableFact]
    public async Task ServePrintsItsAddressServesAndStopsCleanlyOnSigterm()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "needs POSIX signals");
        var dir = TestData.TempDir();
        var tokenFile = Path.Combine(dir, "token");
        File.WriteAllText(tokenFile, "tok-123\n");
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "vectorstore.dll"), "serve", "--db", Path.Combine(dir, "db"), "--port", "0", "--token-file", tokenFile])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        _ = p.StandardError.ReadToEndAsync(); // drained, so the server never blocks on a full stderr pipe
        try
        {
            var (host, port) = await Listening(p);

            await Assert.ThrowsAsync<AuthenticationFailedException>(() => VectorStoreClient.ConnectAsync(host, port));
            await using (var client = await VectorStoreClient.ConnectAsync(host, port, new ClientOptions { Token = "tok-123"u8.ToArray() }))
            {
                await client.CreateCollectionAsync("c", new CollectionOptions { Dimension = 2, Metric = Metric.L2, Compression = "none" });
                await client.UpsertAsync("c", 1, new float[] { 1, 2 });
                Assert.Equal(1UL, Assert.Single(await client.SearchAsync("c", new float[] { 1, 2 })).Id);
            }

            using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString()])) await kill.WaitForExitAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await p.WaitForExitAsync(cts.Token);
            Assert.Equal(0, p.ExitCode);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    /// <summary>The address a started <c>serve</c> prints once ready (within 30 s).</summary>
    private static async Task<(string Host, int Port)> Listening(Process p)
    {
        var lineTask = p.StandardOutput.ReadLineAsync();
        Assert.Same(lineTask, await Task.WhenAny(lineTask, Task.Delay(TimeSpan.FromSeconds(30))));
        var line = await lineTask;
        Assert.StartsWith("listening 127.0.0.1:", line);
        return VectorStoreClient.ParseHostPort(line!["listening ".Length..]);
    }

    /// <summary>
    /// A collection whose files cannot be opened stops <c>serve</c> from starting (exit 2, the file named); with
    /// <c>--set-aside-damaged</c> the others are served, the damaged one is named on stderr and its requests fail typed.
    /// </summary>
    [SkippableFact]
    public async Task ServeSetsADamagedCollectionAsideOnlyWhenAsked()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "needs POSIX signals");
        var (dir, damaged) = Storage.DamagedCollectionTests.TwoCollectionsOneDamaged();
        string cli = Path.Combine(AppContext.BaseDirectory, "vectorstore.dll");
        var refused = await Task.Run(() => ChildProcess.Run(new ProcessStartInfo("dotnet", [cli, "serve", "--db", dir, "--port", "0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }));
        Assert.Equal(2, refused.Code);
        Assert.Contains(damaged, refused.Stderr);

        var psi = new ProcessStartInfo("dotnet", [cli, "serve", "--db", dir, "--port", "0", "--set-aside-damaged"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            var (host, port) = await Listening(p);
            await using (var client = await VectorStoreClient.ConnectAsync(host, port))
            {
                Assert.Equal(["a"], await client.CollectionNamesAsync());
                Assert.Equal(10, (await client.SearchAsync("a", Storage.StorageTestKit.Vectors(1, 16, 1).Row(0).ToArray())).Length);
                var e = await Assert.ThrowsAnyAsync<VectorStoreException>(() => client.SearchAsync("b", new float[16]));
                Assert.Contains("collection 'b' was set aside", e.Message);
                Assert.Contains(damaged, e.Message);
            }
            using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString()])) await kill.WaitForExitAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await p.WaitForExitAsync(cts.Token);
            Assert.Equal(0, p.ExitCode);
            Assert.StartsWith($"warning: collection 'b' is set aside, not served: {damaged}: ", await stderr);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    [Fact]
    public async Task ServeRejectsABadBindAddressWithExitCode1()
    {
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "vectorstore.dll"), "serve", "--db", TestData.TempDir(), "--port", "0", "--bind", "not-an-ip"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var (code, _, err) = await Task.Run(() => ChildProcess.Run(psi));
        Assert.Equal(1, code);
        Assert.StartsWith("error: --bind", err);
    }

    [Fact]
    public async Task ServeOnAPortInUseSaysSoWithExitCode1()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "vectorstore.dll"), "serve", "--db", TestData.TempDir(), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var (code, _, err) = await Task.Run(() => ChildProcess.Run(psi));
        Assert.Equal(1, code);
        Assert.Contains("already in use", err);
        Assert.DoesNotContain("SocketException", err);
    }
}
