using System.Diagnostics;
using VectorStore.Client;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// A running <c>vectorstore serve</c> child process: its address, its stderr (collected as it is written, so the
/// server never blocks on a full pipe), its resident memory, and the ways to end it.
/// </summary>
internal sealed class ServeProcess : IDisposable
{
    private readonly Process _p;
    private readonly byte[] _token;
    private readonly System.Text.StringBuilder _stderr = new();

    private ServeProcess(Process p, string address, byte[] token)
    {
        _p = p;
        Address = address;
        _token = token;
    }

    public string Address { get; }

    public string Host => VectorStoreClient.ParseHostPort(Address).Host;

    public int Port => VectorStoreClient.ParseHostPort(Address).Port;

    public int Pid => _p.Id;

    public bool HasExited => _p.HasExited;

    /// <summary>Starts <c>serve --db DB --port 0 --token-file F</c> plus <paramref name="extra"/> and waits for its address.</summary>
    public static async Task<ServeProcess> StartAsync(string db, string tokenFile, params string[] extra)
    {
        var p = Process.Start(CrashRecoveryTests.CliStart(["serve", "--db", db, "--port", "0", "--token-file", tokenFile, .. extra]))!;
        var lineTask = p.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(lineTask, Task.Delay(TimeSpan.FromSeconds(30))) != lineTask || await lineTask is not { } line)
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"serve did not print its address: {await p.StandardError.ReadToEndAsync()}");
        }
        Assert.StartsWith("listening 127.0.0.1:", line);
        _ = p.StandardOutput.ReadToEndAsync(); // drained, so the server never blocks on a full stdout pipe
        var s = new ServeProcess(p, line["listening ".Length..], System.Text.Encoding.UTF8.GetBytes(File.ReadAllText(tokenFile).Trim()));
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (s._stderr) s._stderr.AppendLine(e.Data); };
        p.BeginErrorReadLine();
        return s;
    }

    /// <summary>A client with the server's token (and any other settings of <paramref name="options"/>).</summary>
    public Task<VectorStoreClient> ConnectAsync(ClientOptions? options = null) =>
        VectorStoreClient.ConnectAsync(Address, (options ?? new ClientOptions()) with { Token = _token });

    /// <summary>kill -9: no flush, no snapshot.</summary>
    public void Crash()
    {
        _p.Kill(entireProcessTree: true);
        _p.WaitForExit();
    }

    /// <summary>SIGTERM, then the exit code of the clean shutdown.</summary>
    public async Task<int> TerminateAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _p.Id.ToString()])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _p.WaitForExitAsync(cts.Token);
        return _p.ExitCode;
    }

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    /// <summary>The process's resident set size now (VmRSS), in bytes; Linux only.</summary>
    public long ResidentBytes() => ProcStatusBytes("VmRSS:");

    /// <summary>The anonymous part of the resident set (RssAnon: heaps and stacks, not mapped files), in bytes; Linux only.</summary>
    public long AnonymousResidentBytes() => ProcStatusBytes("RssAnon:");

    /// <summary>The file-backed and shared-memory part of the resident set (RssFile + RssShmem), in bytes; Linux only.</summary>
    public long MappedResidentBytes() => ProcStatusBytes("RssFile:") + ProcStatusBytes("RssShmem:");

    /// <summary>The largest resident set size the process has had (VmHWM), in bytes; Linux only.</summary>
    public long PeakResidentBytes() => ProcStatusBytes("VmHWM:");

    private long ProcStatusBytes(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_p.Id}/status"))
            if (line.StartsWith(field, StringComparison.Ordinal))
                return long.Parse(line[field.Length..].Trim().Split(' ')[0]) * 1024;
        throw new InvalidOperationException($"{field} not in /proc/{_p.Id}/status");
    }

    public void Dispose()
    {
        if (!_p.HasExited) _p.Kill(entireProcessTree: true);
        _p.Dispose();
    }
}
