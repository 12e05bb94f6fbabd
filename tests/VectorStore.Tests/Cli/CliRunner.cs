using System.Diagnostics;

namespace VectorStore.Tests.Cli;

/// <summary>Runs the real <c>vectorstore</c> CLI (copied beside the tests) as a child process.</summary>
public static class CliRunner
{
    public static string CliPath => Path.Combine(AppContext.BaseDirectory, "vectorstore.dll");

    public static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        return ChildProcess.Run(Storage.CrashRecoveryTests.CliStart(args), TimeSpan.FromMinutes(10));
    }
}
