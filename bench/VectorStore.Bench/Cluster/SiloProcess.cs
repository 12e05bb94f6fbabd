using System.Diagnostics;

namespace VectorStore.Bench.Cluster;

/// <summary>
/// One <c>vectorstore silo</c> child process on 127.0.0.1 serving the cluster on an ephemeral TCP port (shared with
/// tests/VectorStore.Cluster.Tests, which link this file).
/// </summary>
public sealed class SiloProcess
{
    private readonly Process _process;

    private SiloProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The silo's TCP listener port.</summary>
    public int Port { get; }

    /// <summary>
    /// Starts silo <paramref name="index"/> (silo port basePort + index, gateway basePort + 100 + index; silo 0 is the
    /// primary), pinned to <paramref name="core"/> with taskset when given, and waits for its <c>listening</c> line.
    /// With <paramref name="cgroupProcs"/> (a cgroup's <c>cgroup.procs</c> file) the process joins that group before
    /// it execs the runtime, so everything it allocates counts against the group's limit.
    /// </summary>
    public static async Task<SiloProcess> StartAsync(string cli, string root, int index, int basePort, int? core, int shards, int replication,
        IReadOnlyList<string> extra, string? cgroupProcs = null)
    {
        var psi = new ProcessStartInfo(cgroupProcs is not null ? "sh" : core is null ? "dotnet" : "taskset") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        // The shell writes its own pid into the group and execs the rest, so the pid stays the silo's; "$0" and "$@"
        // pass the path and the command line through unquoted and unchanged.
        if (cgroupProcs is not null) foreach (var a in new[] { "-c", "echo $$ > \"$0\" && exec \"$@\"", cgroupProcs, core is null ? "dotnet" : "taskset" }) psi.ArgumentList.Add(a);
        if (core is int c) { psi.ArgumentList.Add("-c"); psi.ArgumentList.Add(c.ToString(System.Globalization.CultureInfo.InvariantCulture)); psi.ArgumentList.Add("dotnet"); }
        foreach (var a in new[]
        {
            cli, "silo", "--data", Path.Combine(root, $"silo{index}"), "--metadata", Path.Combine(root, "metadata"),
            "--silo-port", (basePort + index).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--gateway-port", (basePort + 100 + index).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--primary-port", basePort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--cluster-id", $"vs{basePort}", "--shards", shards.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--replication", replication.ToString(System.Globalization.CultureInfo.InvariantCulture), "--port", "0",
        }.Concat(extra)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        // Warnings go to stderr; draining it keeps the child from blocking on a full pipe.
        _ = Task.Run(async () => { while (await p.StandardError.ReadLineAsync() is not null) { } });
        var ready = Task.Run(async () =>
        {
            while (await p.StandardOutput.ReadLineAsync() is { } line)
                if (line.StartsWith("listening ", StringComparison.Ordinal)) return int.Parse(line[(line.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            throw new InvalidOperationException($"silo {index} exited with {p.ExitCode} before listening");
        });
        if (await Task.WhenAny(ready, Task.Delay(TimeSpan.FromSeconds(90))) != ready)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"silo {index} did not start listening within 90 s");
        }
        return new SiloProcess(p, await ready);
    }

    /// <summary>
    /// The CLI built in this repository in the caller's configuration (the bench cannot reference it: BenchmarkDotNet
    /// pins a Roslyn version Orleans' code generator does not accept).
    /// </summary>
    public static string BuiltCli()
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // …/bin/<Configuration>/<tfm>/
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (!File.Exists(Path.Combine(d.FullName, "VectorStore.sln"))) continue;
            string cli = Path.Combine(d.FullName, "tools", "VectorStore.Cli", "bin", configuration, "net10.0", "vectorstore.dll");
            return File.Exists(cli) ? cli : throw new FileNotFoundException($"the vectorstore CLI is not built at {cli} (build the solution, or pass --cli)");
        }
        throw new FileNotFoundException("no VectorStore.sln above the bench; pass --cli PATH/vectorstore.dll");
    }

    /// <summary>
    /// Anonymous resident memory (RssAnon: heap, stacks, JIT data; not mapped files or the page cache) in MiB, the
    /// project's definition of resident; 0 where /proc is not available.
    /// </summary>
    public double ResidentMiB()
    {
        string status = $"/proc/{_process.Id}/status";
        if (!File.Exists(status)) return 0;
        // Under taskset the pid is taskset's, which exec'd dotnet: the same process.
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>Whether the process has ended (a silo killed by its cgroup's OOM killer ends here).</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>CPU time (user + system) the silo has used so far, 0 where /proc is not available.</summary>
    public TimeSpan CpuTime()
    {
        try
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
        catch (InvalidOperationException) { return TimeSpan.Zero; }
    }

    /// <summary>SIGTERM (graceful leave), then kill after 20 s.</summary>
    public void Stop()
    {
        if (_process.HasExited) return;
        try { Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit(); }
        catch (System.ComponentModel.Win32Exception) { }
        if (!_process.WaitForExit(TimeSpan.FromSeconds(20))) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    /// <summary>SIGKILL, as a crash.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);
}
