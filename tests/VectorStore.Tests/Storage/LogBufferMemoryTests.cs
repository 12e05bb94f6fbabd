using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VectorStore.Storage;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Tests.Storage;

/// <summary>
/// FASTER's page buffer gives its zero pages, and the tail page's truncated entries, back while the log is quiet (<c>FasterWriteAheadLog.Memory.cs</c>):
/// residency is read from /proc/self/pagemap, and entries appended around and during the releases come back byte for
/// byte after a reopen.
/// </summary>
public sealed class LogBufferMemoryTests(ITestOutputHelper output)
{
    // The production sizes: two 4 MiB pages, 16 MiB segments.
    private static readonly WalSettings Settings = new();

    [SkippableFact]
    public void AnOpenedLogHoldsOnlyThePagesItsEntriesUse()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "page residency is read from /proc/self/pagemap");
        var dir = TestData.TempDir();
        try
        {
            using var wal = FasterWriteAheadLog.Open(dir, Settings, create: true);
            long buffer = wal.BufferPages().Sum(p => (long)p.Length);
            long empty = ResidentBytes(wal);
            output.WriteLine($"buffer {buffer:N0} B, resident after open {empty:N0} B");
            Assert.True(buffer >= 2L << Settings.PageSizeBits);
            // FASTER cleared both pages when it opened the log; only the partial pages at the arrays' ends may stay.
            Assert.True(empty <= 4 * Environment.SystemPageSize, $"{empty} bytes of an unwritten log's buffer are resident");

            var entries = Entries(100, 10_000, seed: 1); // about 0.5 MB, in the first page
            foreach (var e in entries) wal.Append(e);
            wal.Commit();
            long used = entries.Sum(e => (long)e.Length);
            // Appending faulted in only the pages the entries went to.
            long written = ResidentBytes(wal);
            Assert.InRange(written, used, used + 16 * Environment.SystemPageSize);
            // FASTER clears a page when it reuses it: zeros faulted in, which a release gives back.
            var next = wal.BufferPages().Single(p => ResidentBytes(wal, p) < Environment.SystemPageSize * 4);
            next.AsSpan().Clear();
            long cleared = ResidentBytes(wal);
            long released = wal.ReleaseUnusedBuffer();
            long after = ResidentBytes(wal);
            output.WriteLine($"{used:N0} B appended: resident {written:N0} B; {cleared:N0} B with the next page cleared, {released:N0} B released, then {after:N0} B");
            Assert.True(cleared >= written + (1L << Settings.PageSizeBits) - 2 * Environment.SystemPageSize);
            Assert.InRange(after, used, used + 16 * Environment.SystemPageSize);

            // The log goes on as before: the next entries land after the released pages' zeros.
            var more = Entries(100, 10_000, seed: 2);
            foreach (var e in more) wal.Append(e);
            wal.Commit();
            entries.AddRange(more);
            wal.Dispose();
            AssertEntries(dir, entries);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [SkippableFact]
    public async Task ReleasesRacingAppendsLoseNoEntry()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "pages are released on Linux only");
        var dir = TestData.TempDir();
        try
        {
            // About 20 MB of entries: five page changes, two segment files.
            var entries = Entries(2_000, 20_000, seed: 3);
            long releases = 0, releasedBytes = 0;
            int kept = 0;
            using (var wal = FasterWriteAheadLog.Open(dir, Settings, create: true))
            {
                using var done = new CancellationTokenSource();
                var releaser = Task.Run(() =>
                {
                    while (!done.IsCancellationRequested)
                    {
                        releasedBytes += wal.ReleaseUnusedBuffer();
                        releases++;
                    }
                });
                // Truncations as checkpoints make them, a step behind the tail: the releases then also give back
                // the tail page's truncated entries while appends and flushes continue above them.
                long boundary = wal.CaptureBoundary();
                int boundaryEntry = 0;
                for (int i = 0; i < entries.Count; i++)
                {
                    wal.Append(entries[i]);
                    if (i % 50 == 49) wal.Commit();
                    if (i % 300 == 299)
                    {
                        wal.Commit();
                        wal.TruncateBefore(boundary);
                        kept = boundaryEntry;
                        boundary = wal.CaptureBoundary();
                        boundaryEntry = i + 1;
                    }
                }
                wal.Commit();
                done.Cancel();
                await releaser;
            }
            output.WriteLine($"{releases:N0} releases during the appends, {releasedBytes:N0} B in all; entries from {kept} on kept");
            Assert.True(releases >= 2 && releasedBytes > 0 && kept > 0);
            AssertEntries(dir, entries.GetRange(kept, entries.Count - kept));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// After a checkpoint's truncation FASTER reads the tail page's older entries from the segment file, so a release
    /// gives their memory back too: what stays resident is about the entries after the truncation point, and those
    /// (with the ones appended after the release) come back byte for byte after a reopen.
    /// </summary>
    [SkippableFact]
    public void EntriesBeforeATruncationLeaveTheTailPage()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "page residency is read from /proc/self/pagemap");
        var dir = TestData.TempDir();
        try
        {
            long page = 1L << Settings.PageSizeBits, system = Environment.SystemPageSize;
            // About 6 MB before the truncation point (the tail then sits about 2 MB into the second page), 0.1 MB after.
            var before = Entries(600, 20_000, seed: 4);
            var after = Entries(20, 10_000, seed: 5);
            using (var wal = FasterWriteAheadLog.Open(dir, Settings, create: true))
            {
                foreach (var e in before) wal.Append(e);
                wal.Commit();
                long boundary = wal.CaptureBoundary();
                foreach (var e in after) wal.Append(e);
                wal.Commit();
                Assert.True((boundary & (page - 1)) > page / 4, $"the truncation point {boundary} should lie well inside a page");
                long kept = after.Sum(e => (long)e.Length + 24);
                long resident = ResidentBytes(wal);
                Assert.True(resident > (boundary & (page - 1)), $"{resident} bytes resident before the truncation");
                wal.TruncateBefore(boundary);
                // FASTER closes the truncated range on its own thread, a moment later.
                long bound = kept + 2 * system + wal.BufferPages().Length * 2 * system;
                var watch = System.Diagnostics.Stopwatch.StartNew();
                long now;
                do
                {
                    wal.ReleaseUnusedBuffer();
                    now = ResidentBytes(wal);
                } while (now > bound && watch.Elapsed < TimeSpan.FromSeconds(10) && Sleep());
                output.WriteLine($"tail page offset {wal.TailAddress & (page - 1):N0}: resident {resident:N0} B before the truncation, {now:N0} B after (bound {bound:N0})");
                Assert.True(now <= bound, $"{now} bytes of the log's buffer are resident after the truncation, over {bound}");

                var more = Entries(50, 10_000, seed: 6);
                foreach (var e in more) wal.Append(e);
                wal.Commit();
                after.AddRange(more);
            }
            AssertEntries(dir, after);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static bool Sleep()
    {
        Thread.Sleep(50);
        return true;
    }

    /// <summary>Entries of 1..<paramref name="maxBytes"/> bytes, none of them zero.</summary>
    private static List<byte[]> Entries(int count, int maxBytes, int seed)
    {
        var random = new Random(seed);
        var entries = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
        {
            var e = new byte[random.Next(1, maxBytes + 1)];
            random.NextBytes(e);
            for (int b = 0; b < e.Length; b++) e[b] |= 1;
            entries.Add(e);
        }
        return entries;
    }

    private static void AssertEntries(string dir, List<byte[]> expected)
    {
        using var wal = FasterWriteAheadLog.Open(dir, Settings, create: false);
        var read = wal.Scan(wal.BeginAddress, wal.TailAddress).Select(e => e.Data).ToList();
        Assert.Equal(expected.Count, read.Count);
        for (int i = 0; i < expected.Count; i++) Assert.True(expected[i].AsSpan().SequenceEqual(read[i]), $"entry {i} differs after reopening");
    }

    /// <summary>Bytes of the log's page buffer (or of one of its pages) resident now, per /proc/self/pagemap (bit 63: present).</summary>
    internal static unsafe long ResidentBytes(FasterWriteAheadLog wal, byte[]? only = null)
    {
        long page = Environment.SystemPageSize, resident = 0;
        using var map = new FileStream("/proc/self/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        Span<byte> entry = stackalloc byte[8];
        foreach (var array in only is null ? wal.BufferPages() : [only])
        {
            long start = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
            for (long p = start & ~(page - 1); p < start + array.Length; p += page)
            {
                map.Position = p / page * 8;
                map.ReadExactly(entry);
                if ((BinaryPrimitives.ReadUInt64LittleEndian(entry) & (1UL << 63)) != 0) resident += page;
            }
        }
        return resident;
    }
}
