using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Closing a database leaves no faulted task unobserved: FASTER faults its pending commit task when its log is
/// disposed, and every close raised <see cref="TaskScheduler.UnobservedTaskException"/> with "Log has been disposed"
/// (a false error at each shutdown in applications that log those; a user pass counted 11 in six cycles).
/// </summary>
public sealed class UnobservedCloseTests
{
    [Fact]
    public void OpeningWritingAndClosingRaiseNoUnobservedTaskException()
    {
        int unobserved = 0;
        EventHandler<UnobservedTaskExceptionEventArgs> count = (_, e) =>
        {
            if (e.Exception.InnerExceptions.Any(x => x is ObjectDisposedException && x.Message.Contains("Log has been disposed", StringComparison.Ordinal)))
                Interlocked.Increment(ref unobserved);
        };
        TaskScheduler.UnobservedTaskException += count;
        try
        {
            var dir = TestData.TempDir();
            var data = StorageTestKit.Vectors(100, 8, 3);
            for (int i = 0; i < 5; i++)
            {
                var db = StorageTestKit.Open(dir);
                var c = db.GetOrCreateCollection("c", StorageTestKit.Options(8));
                if (i % 2 == 1) StorageTestKit.Load(c, data, (ulong)(i * 100), 50);
                db.Dispose();
                Collect();
            }
            Collect();
            Assert.Equal(0, Volatile.Read(ref unobserved));
        }
        finally { TaskScheduler.UnobservedTaskException -= count; }
    }

    private static void Collect()
    {
        for (int i = 0; i < 2; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}
