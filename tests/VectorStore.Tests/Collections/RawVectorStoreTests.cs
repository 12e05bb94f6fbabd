using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VectorStore.Collections;
using VectorStore.Storage;
using Xunit;
using VectorStore.Memory;

namespace VectorStore.Tests.Collections;

public class RawVectorStoreTests
{
    [Theory]
    [InlineData(384)] // 6 MiB chunks: the huge-page layout on Linux
    [InlineData(100)] // 1.6 MiB chunks: plain arrays
    public void VectorsReadBackExactlyAcrossChunks(int dim)
    {
        var store = new RawVectorStore(dim);
        var rng = new Random(dim);
        int count = 4096 * 2 + 17;
        var expected = new float[count][];
        for (int s = 0; s < count; s++)
        {
            expected[s] = Enumerable.Range(0, dim).Select(_ => (float)rng.NextDouble()).ToArray();
            store.Set(s, expected[s]);
        }
        store.Set(5000, expected[4999]); // overwrite in place
        expected[5000] = expected[4999];
        for (int s = 0; s < count; s++) Assert.True(store.Get(s).SequenceEqual(expected[s]), $"slot {s}");
        Assert.Equal(3L * 4096 * dim * sizeof(float), store.MemoryBytes);
    }

    [Fact]
    public void HugePageArraysAreZeroedAndAlignedWhereTheyApply()
    {
        const int floats = 3 * 1024 * 1024 / sizeof(float) + 5; // 3 MiB and a bit
        var array = HugePageArray.Allocate(floats, out int offset);
        Assert.True(array.Length >= offset + floats);
        Assert.True(array.AsSpan(offset, floats).IndexOfAnyExcept(0f) < 0, "window is not zeroed");
        if (OperatingSystem.IsLinux())
            Assert.Equal(0, Address(array, offset) % (2 << 20));
        var small = HugePageArray.Allocate(1000, out int smallOffset);
        Assert.Equal(0, smallOffset);
        Assert.Equal(1000, small.Length);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(5 * 1024 * 1024 + 17)] // whole huge pages inside, small pages at both ends
    public void HugePageByteArraysHaveTheExactLengthAndAreZeroed(int length)
    {
        // Dirty the pinned heap first, so a reused range would show.
        for (int i = 0; i < 4; i++) GC.AllocateUninitializedArray<byte>(length, pinned: true).AsSpan().Fill(0xAB);
        var array = HugePageArray.AllocateBytes(length);
        Assert.Equal(length, array.Length);
        Assert.True(array.AsSpan().IndexOfAnyExcept((byte)0) < 0, "not zeroed");
    }

    [Fact]
    public void DiscardedArraysReadZerosInsideAndKeepTheirEdges()
    {
        int page = Environment.SystemPageSize / sizeof(float);
        foreach (var array in new[] { HugePageArray.Allocate(1 << 20, out _), new float[5 * page + 7] })
        {
            Array.Fill(array, 3f);
            HugePageArray.Discard(array);
            if (!OperatingSystem.IsLinux()) continue;
            // Everything from the first whole page to the last whole page is gone; the partial pages at either end keep
            // their values (the first holds the object header, which the collector still reads).
            Assert.Equal(3f, array[0]);
            Assert.Equal(3f, array[^1]);
            int zeros = array.Count(v => v == 0f);
            Assert.True(zeros >= array.Length - 2 * page, $"{zeros} of {array.Length} values zero after discarding");
        }
        var small = new float[page];
        Array.Fill(small, 3f);
        HugePageArray.Discard(small); // under two pages: nothing to return
        Assert.All(small, v => Assert.Equal(3f, v));
    }

    [Fact]
    public void UnzeroedHugePageArraysStillHoldTheirWindow()
    {
        const int floats = 3 * 1024 * 1024 / sizeof(float) + 5;
        var array = HugePageArray.Allocate(floats, out int offset, zeroed: false);
        Assert.True(array.Length >= offset + floats);
        array.AsSpan(offset, floats).Fill(1.5f); // every value writable
        if (OperatingSystem.IsLinux()) Assert.Equal(0, Address(array, offset) % (2 << 20));
    }

    private static unsafe long Address(float[] array, int offset) =>
        (long)Unsafe.AsPointer(ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(array), offset));
}
