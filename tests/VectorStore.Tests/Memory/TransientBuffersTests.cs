using VectorStore.Memory;
using Xunit;

namespace VectorStore.Tests.Memory;

/// <summary>
/// The pool of request and log-batch buffers the idle trim empties: a released pool hands out none of the arrays it
/// held, an array rented before a release may still be returned, and arrays the pool never handed out are ignored.
/// Runs alone: the pool is process-wide, and other tests' requests and log batches use it.
/// </summary>
[Collection(nameof(TransientBuffersTests))]
[CollectionDefinition(nameof(TransientBuffersTests), DisableParallelization = true)]
public sealed class TransientBuffersTests
{
    [Fact]
    public void AReleasedPoolKeepsNoneOfItsArrays()
    {
        // The 1 MiB size, which payloads of 512 KiB-1 MiB also use: this class runs alone, after the others.
        const int size = 600_000;
        var first = TransientBuffers.Rent(size);
        Assert.Equal(1 << 20, first.Length);
        TransientBuffers.Return(first);
        Assert.Same(first, TransientBuffers.Rent(size)); // pooled
        TransientBuffers.Return(first);

        TransientBuffers.Release();
        var afterRelease = TransientBuffers.Rent(size);
        Assert.NotSame(first, afterRelease);

        // Rented before the next release, returned after it: accepted, and not handed out again by a pool that never
        // lent it (it goes to the collector).
        TransientBuffers.Release();
        TransientBuffers.Return(afterRelease);
        var fresh = TransientBuffers.Rent(size);
        Assert.NotSame(afterRelease, fresh);
        TransientBuffers.Return(fresh);
        Assert.Same(fresh, TransientBuffers.Rent(size));
    }

    [Fact]
    public void ArraysThePoolNeverHandedOutAreIgnored()
    {
        TransientBuffers.Return(new byte[1000]);   // not a pool size
        TransientBuffers.Return([]);
        TransientBuffers.Return(new byte[2 << 20]); // over the largest pooled size
        Assert.Equal((1 << 20) + 1, TransientBuffers.Rent((1 << 20) + 1).Length); // allocated at its length, not pooled
    }
}
