using System.Diagnostics;

namespace VectorStore.Tests;

/// <summary>
/// Runs a child process to its end for a test, always bounded: a child that hangs is killed (with its children) and
/// the test fails naming it, instead of the whole test run waiting until CI's own limit.
/// </summary>
/// <remarks>
/// Both pipes are drained at once: reading one to its end before the other deadlocks as soon as the child fills the
/// other pipe's 64 KiB buffer and blocks writing to it.
/// </remarks>
internal static class ChildProcess
{
    /// <summary>Longer than any child of the regular suite takes on a slow 2-core machine, far below CI's limit.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);

    public static (int Code, string Stdout, string Stderr) Run(ProcessStartInfo psi, TimeSpan? timeout = null)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{psi.FileName} did not start");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var limit = timeout ?? DefaultTimeout;
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(TimeSpan.FromSeconds(30));
            throw new TimeoutException(
                $"{psi.FileName} {string.Join(' ', psi.ArgumentList)} did not finish within {limit.TotalSeconds:F0} s and was killed; " +
                $"its stderr: {Tail(stderr)}");
        }
        // A grandchild that inherited the pipes would keep them open after the child's exit.
        if (!Task.WaitAll([stdout, stderr], TimeSpan.FromMinutes(1)))
            throw new TimeoutException($"{psi.FileName} {string.Join(' ', psi.ArgumentList)} exited but its output pipes stayed open for a minute");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The last lines a killed child wrote, if its pipe closed in time.</summary>
    private static string Tail(Task<string> text) =>
        text.Wait(TimeSpan.FromSeconds(5)) ? string.Join('\n', text.Result.Split('\n').TakeLast(20)) : "(not closed)";
}
