using System.Diagnostics;
using VectorStore.Server;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// What the idle trim's collection does to the large-object heap. A load leaves its long-lived large arrays (a flat
/// index's 1 MiB chunks of codes, id maps) between the holes of its requests' batches. Only a collection that compacts
/// the large-object heap gives those holes back: a plain compacting one (<see cref="GCCollectionMode.Forced"/>) leaves
/// it as it is, and a silo's dump showed 28 MB free beside 64 MB of live large arrays before its trim
/// (notes/memory-caps.md). Runs alone: it reads the process's last full blocking collection, which another test's
/// collection would replace.
/// </summary>
[Collection(nameof(IdleTrimCompactionTests))]
[CollectionDefinition(nameof(IdleTrimCompactionTests), DisableParallelization = true)]
public sealed class IdleTrimCompactionTests
{
    private const int LohGeneration = 3;

    [Fact]
    public void TheTrimCompactsTheLargeObjectHeap()
    {
        const int arrays = 64, size = 1 << 20;
        var kept = new List<byte[]>();
        var dropped = new List<byte[]>();
        for (int i = 0; i < arrays; i++)
        {
            var a = new byte[size];
            a[0] = (byte)i; // touched, as a load's arrays are
            (i % 2 == 0 ? kept : dropped).Add(a);
        }
        dropped.Clear(); // 32 MiB of holes between 32 MiB of live arrays

        var trim = new IdleTrim(TimeSpan.FromSeconds(1), long.MaxValue);
        trim.NoteRequest();
        Assert.True(trim.TryTrim(Stopwatch.GetTimestamp() + 2 * Stopwatch.Frequency, busy: false, 0));

        var info = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        Assert.True(info.Compacted);
        long fragmentation = info.GenerationInfo[LohGeneration].FragmentationAfterBytes;
        Assert.True(fragmentation < 8L << 20, $"{fragmentation >> 20} MiB of the large-object heap left free after the trim");
        for (int i = 0; i < kept.Count; i++) Assert.Equal((byte)(2 * i), kept[i][0]); // moved, not lost
        GC.KeepAlive(kept);
    }
}
