using VectorStore.Storage;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Nothing may append to the log while the open's replay recovers it. The replay's first scan re-appends, when it
/// ends, the entries it read past FASTER's committed address at their own addresses; an append in the middle (the
/// drift ladder declaring a generation from a replayed batch did) started a second recovery inside the first and
/// moved the tail under it. The open then refused the log, and each attempt wrote to it again.
/// </summary>
public sealed class AppendDuringReplayTests
{
    private static readonly WalSettings Settings = StorageTestKit.Small.Wal;

    [Fact]
    public void AnAppendDuringTheReplayIsRefusedAndTheLogStaysAsItWas()
    {
        var dir = TestData.TempDir();
        var entries = Enumerable.Range(0, 50).Select(i => Enumerable.Repeat((byte)i, 100 + i).ToArray()).ToList();
        using (var wal = FasterWriteAheadLog.Open(dir, Settings, create: true))
        {
            foreach (var e in entries) wal.Append(e);
            wal.Commit();
        }
        using (var wal = FasterWriteAheadLog.Open(dir, Settings, create: false))
        {
            int read = 0;
            foreach (var e in wal.Scan(wal.BeginAddress, wal.CommittedAddress))
            {
                Assert.Equal(entries[read], e.Data);
                if (read++ == 10)
                {
                    var refused = Assert.Throws<InvalidOperationException>(() => wal.Append([1, 2, 3]));
                    Assert.Contains("while the log is being replayed", refused.Message);
                }
            }
            Assert.Equal(entries.Count, read);
            // Once the replay has finished, appends continue the log.
            wal.Append([7, 7, 7]);
            wal.Commit();
        }
        using (var wal = FasterWriteAheadLog.Open(dir, Settings, create: false))
        {
            var all = wal.Scan(wal.BeginAddress, wal.CommittedAddress).Select(e => e.Data).ToList();
            Assert.Equal([.. entries, new byte[] { 7, 7, 7 }], all);
        }
    }
}
