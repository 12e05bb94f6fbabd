using VectorStore.Cli;
using VectorStore.Cli.Commands;
using VectorStore.Tests.Protocol;
using Xunit;

namespace VectorStore.Tests.Cli;

/// <summary>
/// A command that fails and whose database then fails to close reports one <c>error:</c> line: the command's error,
/// with its exit code, and the close failure appended (it used to print a <c>warning:</c> line before the error).
/// </summary>
public sealed class CloseAfterErrorTests
{
    private sealed class FailingClose(IVectorDatabaseClient inner) : DelegatingClient(inner)
    {
        public override ValueTask DisposeAsync() => throw new IOException("No space left on device");
    }

    [Fact]
    public void TheCloseFailureIsAppendedToTheCommandsErrorWithItsExitCode()
    {
        using var db = VectorDatabase.CreateInMemory();
        var e = Assert.ThrowsAny<Exception>(() => DatabaseTarget.RunAndClose(new FailingClose(new InProcessDatabaseClient(db)),
            _ => throw new UsageException("--k must be in 1..100, got 0")));
        var (code, message) = CliCommand.Classify(e);
        Assert.Equal(1, code);
        Assert.Equal("--k must be in 1..100, got 0; closing the database also failed: No space left on device", message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void WithoutACloseFailureTheCommandsErrorIsReportedAsItIs()
    {
        using var db = VectorDatabase.CreateInMemory();
        var failure = new StoreCorruptedException("/x/snap-1.vss", "bad checksum");
        var e = Assert.ThrowsAny<Exception>(() => DatabaseTarget.RunAndClose(new InProcessDatabaseClient(db), _ => throw failure));
        Assert.Same(failure, e);
        Assert.Equal(2, CliCommand.Classify(e).Code);
    }

    /// <summary>Running out of memory (a container's limit) says so and what is safe, not only the exception's name.</summary>
    [Fact]
    public void OutOfMemoryIsNamedWithWhatIsSafe()
    {
        var (code, message) = CliCommand.Classify(new OutOfMemoryException());
        Assert.Equal(2, code);
        Assert.StartsWith("out of memory: this process's memory limit", message);
        Assert.Contains("'acked' batches are durable", message);
        Assert.Equal(2, CliCommand.Classify(new AggregateException(new OutOfMemoryException())).Code);
    }
}
