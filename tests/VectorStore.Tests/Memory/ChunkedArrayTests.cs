using VectorStore.Memory;
using Xunit;

namespace VectorStore.Tests.Memory;

/// <summary><see cref="ChunkedArray{T}"/> against one flat array holding the same items.</summary>
public class ChunkedArrayTests
{
    [Theory]
    [InlineData(1, 64)]
    [InlineData(3, 100)]
    [InlineData(33, 4096)]
    [InlineData(388, 8192)]
    [InlineData(7, 1)] // a chunk smaller than one item holds one item
    public void ItemsWrittenWhileGrowingReadBackAcrossChunkEnds(int stride, int chunkBytes)
    {
        var chunked = new ChunkedArray<int>(stride, chunkBytes);
        const int Items = 5000;
        var flat = new int[Items * stride];
        var rng = new Random(stride);
        for (int item = 0; item < Items; item++)
        {
            chunked.EnsureCapacity(item + 1);
            Assert.True(chunked.Capacity > item);
            var span = chunked[item];
            Assert.Equal(stride, span.Length);
            for (int e = 0; e < stride; e++) span[e] = flat[item * stride + e] = rng.Next();
        }
        for (int item = 0; item < Items; item++)
            Assert.True(chunked[item].SequenceEqual(flat.AsSpan(item * stride, stride)), $"item {item}");
        Assert.Equal(flat[(Items - 1) * stride], chunked.First(Items - 1));
        // The segments, in order, are the flat array: how snapshots write and read them.
        var joined = new List<int>();
        for (int c = 0; c < chunked.SegmentCount(Items); c++)
        {
            var segment = chunked.Segment(c, Items);
            Assert.Equal(chunked.SegmentLength(c, Items), segment.Length);
            joined.AddRange(segment.ToArray());
        }
        Assert.Equal(flat, joined);
    }

    [Fact]
    public void GrowthCopiesOnlyTheLastChunkAndKeepsTheFullOnes()
    {
        var chunked = new ChunkedArray<byte>(100, 100 * 1024); // 1,024 items a chunk
        chunked.EnsureCapacity(1024);
        chunked[5][0] = 42;
        byte[] firstChunk = GetArrayOf(chunked, 0);
        chunked.EnsureCapacity(3000);
        Assert.Same(firstChunk, GetArrayOf(chunked, 0));
        Assert.Equal(42, chunked[5][0]);
        Assert.Equal(3, chunked.SegmentCount(3000));
    }

    [Fact]
    public void TheLastChunkGrowsByAQuarterFromAThousandItemsAndStopsAtAFullChunk()
    {
        var chunked = new ChunkedArray<byte>(1, 1 << 16);
        chunked.EnsureCapacity(1);
        Assert.Equal(1024, chunked.Capacity);
        chunked.EnsureCapacity(1025);
        Assert.Equal(1280, chunked.Capacity);
        chunked.EnsureCapacity(60_000);
        Assert.Equal(60_000, chunked.Capacity);
        chunked.EnsureCapacity(60_001);
        Assert.Equal(1 << 16, chunked.Capacity);
        Assert.Equal(1 << 16, chunked.MemoryBytes);
    }

    [Fact]
    public void ReserveLeavesNoSpareRoom()
    {
        var chunked = new ChunkedArray<int>(33, 33 * 4 * 256);
        chunked.Reserve(1000);
        Assert.Equal(1000, chunked.Capacity);
        Assert.Equal(1000L * 33 * sizeof(int), chunked.MemoryBytes);
        chunked.Reserve(10); // never shrinks
        Assert.Equal(1000, chunked.Capacity);
    }

    [Fact]
    public void ASegmentNotCoveredYetIsShorterThanItsLength()
    {
        var chunked = new ChunkedArray<byte>(4, 64); // 16 items a chunk
        chunked.Reserve(20);
        Assert.Equal(16 * 4, chunked.Segment(0, 40).Length);
        Assert.Equal(4 * 4, chunked.Segment(1, 40).Length);
        Assert.Equal(16 * 4, chunked.SegmentLength(1, 40));
        Assert.Equal(0, chunked.Segment(2, 40).Length);
        Assert.Equal(8 * 4, chunked.SegmentLength(2, 40));
    }

    private static byte[] GetArrayOf(ChunkedArray<byte> chunked, int c)
    {
        var field = typeof(ChunkedArray<byte>).GetField("_chunks", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        return ((byte[][])field.GetValue(chunked)!)[c];
    }
}
