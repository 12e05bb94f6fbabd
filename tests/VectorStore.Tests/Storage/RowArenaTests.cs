using VectorStore.Storage;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// The arena that holds buffered vectors out of core: a row keeps its values until a checkpoint frees its block, a
/// freed block takes new rows before any new memory is taken, a block that still holds a buffered row is never
/// reused, and a checkpoint that leaves nothing buffered frees everything.
/// </summary>
public sealed class RowArenaTests
{
    // 4 KiB rows. Blocks grow 64 KiB, 128 KiB, … 4 MiB, 6 MiB: 16, 32, 64, 128, 256, 512, 1,024, then 1,536 rows each.
    private const int Dim = 1024;
    private const long RowBytes = Dim * sizeof(float);

    private static float[] Row(int i)
    {
        var row = new float[Dim];
        for (int d = 0; d < Dim; d++) row[d] = i * 10_000f + d;
        return row;
    }

    private static void AssertRows(IReadOnlyList<ReadOnlyMemory<float>> rows, int first, int from, int to, string what)
    {
        for (int i = from; i < to; i++) Assert.True(Row(first + i).AsSpan().SequenceEqual(rows[i].Span), $"{what} row {i}");
    }

    [Fact]
    public void FreedBlocksTakeNewRowsBeforeNewMemoryAndBufferedRowsStayIntact()
    {
        var arena = new RowArena(Dim);
        var rows = Enumerable.Range(0, 3000).Select(i => arena.Append(Row(i))).ToList();
        // Eight blocks: 16 + 32 + … + 512 + 1,024 + 1,536 = 3,568 rows.
        long held = arena.Bytes;
        Assert.Equal(3568 * RowBytes, held);
        // Row 5 (first block) is still buffered, the last block is being filled; the six between are freed.
        arena.Recycle([rows[5]]);
        Assert.Equal(held, arena.Bytes);
        // 568 rows finish the last block and 2,016 fit in the freed ones: no new memory.
        var later = Enumerable.Range(0, 2584).Select(i => arena.Append(Row(100_000 + i))).ToList();
        Assert.Equal(held, arena.Bytes);
        Assert.True(Row(5).AsSpan().SequenceEqual(rows[5].Span), "a buffered row was overwritten");
        AssertRows(rows, 0, 0, 16, "first block");
        AssertRows(rows, 0, 2032, 3000, "last block");
        AssertRows(later, 100_000, 0, later.Count, "later");
        arena.Append(Row(7));
        Assert.True(arena.Bytes > held);
    }

    [Fact]
    public void RecyclingWithEveryRowStillBufferedFreesNothing()
    {
        var arena = new RowArena(Dim);
        var rows = Enumerable.Range(0, 500).Select(i => arena.Append(Row(i))).ToList(); // six blocks, 1,008 rows
        long held = arena.Bytes;
        arena.Recycle(rows);
        var later = Enumerable.Range(0, 600).Select(i => arena.Append(Row(-1 - i))).ToList(); // 508 finish the block being filled
        Assert.True(arena.Bytes > held);
        AssertRows(rows, 0, 0, rows.Count, "buffered");
        for (int i = 0; i < later.Count; i++) Assert.True(Row(-1 - i).AsSpan().SequenceEqual(later[i].Span), $"later row {i}");
    }

    [Fact]
    public void NothingBufferedFreesEveryBlock()
    {
        var arena = new RowArena(Dim);
        for (int i = 0; i < 3000; i++) arena.Append(Row(i));
        arena.Recycle([]);
        Assert.Equal(0, arena.Bytes);
        var row = arena.Append(Row(9));
        Assert.True(Row(9).AsSpan().SequenceEqual(row.Span));
        Assert.Equal(16 * RowBytes, arena.Bytes); // starts small again
    }

    /// <summary>
    /// Freeing every block returns their pages to the system at once: a row handed out earlier now reads zeros in its
    /// blocks' interior pages (on Linux, where the advice applies). Nobody may read such a row any more (the owner
    /// recycles under its exclusive lock); the test does, to see the pages went.
    /// </summary>
    [Fact]
    public void NothingBufferedReturnsTheBlocksPagesAtOnce()
    {
        var arena = new RowArena(Dim);
        var rows = Enumerable.Range(0, 3000).Select(i => arena.Append(Row(i))).ToList();
        arena.Recycle([]);
        if (!OperatingSystem.IsLinux()) return;
        // Row 2,500 lies inside a 6 MiB block, far from its first and last page.
        Assert.True(rows[2500].Span.IndexOfAnyExcept(0f) < 0, "a discarded block's interior still holds its values");
    }

    [Fact]
    public void BlocksHoldWholeRowsAndReachWholeHugePages()
    {
        // 1,536-byte rows do not divide 2 MiB: rounding down would leave the 2 MiB step just short of a huge page.
        const int dim = 384;
        var arena = new RowArena(dim);
        var blocks = new List<long>();
        var row = new float[dim];
        for (long before = 0; blocks.Count < 8; )
        {
            arena.Append(row);
            if (arena.Bytes != before) blocks.Add(arena.Bytes - before);
            before = arena.Bytes;
        }
        Assert.All(blocks, b => Assert.Equal(0, b % (dim * sizeof(float))));
        Assert.Equal(64 << 10, blocks[0], 1536.0); // within a row of the first step
        Assert.True(blocks[5] >= 2 << 20, $"{blocks[5]}");
        Assert.True(blocks[6] >= 4 << 20 && blocks[7] >= 6 << 20, $"{blocks[6]}, {blocks[7]}");
    }

    /// <summary>
    /// A block takes no more memory than its rows: under a heap limit (a container's) the collector counts whole
    /// arrays, so a block aligned to a huge page by over-allocating would count 2 MiB more than it holds.
    /// </summary>
    [Fact]
    public void ALargeBlockAllocatesNoMoreThanItsRows()
    {
        var arena = new RowArena(Dim);
        var row = Row(1);
        for (int i = 0; i < 2032; i++) arena.Append(row); // fills the blocks up to the 4 MiB one exactly
        long before = GC.GetAllocatedBytesForCurrentThread(), held = arena.Bytes;
        arena.Append(row); // opens a 6 MiB block
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before, block = arena.Bytes - held;
        Assert.Equal(1536 * RowBytes, block);
        Assert.InRange(allocated, block, block + (64 << 10));
    }

    [Fact]
    public void ARowOfTheWrongLengthIsRefused() =>
        Assert.Throws<ArgumentException>(() => new RowArena(Dim).Append(new float[Dim - 1]));
}
