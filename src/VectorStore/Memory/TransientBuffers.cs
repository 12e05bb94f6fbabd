using System.Buffers;
using System.Numerics;

namespace VectorStore.Memory;

/// <summary>
/// Byte arrays borrowed for the length of one request or one log batch, from a pool the process empties when it goes
/// quiet (<see cref="Release"/>: by a server's idle trim just before its full collection, and after a collection's
/// background checkpoint that no write raced, so an embedded process lets go of them too).
/// <see cref="ArrayPool{T}.Shared"/> keeps what it is given until gen-2 collections trim it, a few arrays at a time and
/// only arrays unused for about a minute; a quiet process has no gen-2 collections, so a load's buffers stayed
/// resident: 8–10 MB of 128 KiB–1 MiB arrays in a cluster silo after a bulk load, a fifth of all it held
/// (notes/issue-19-throughput.md).
/// </summary>
/// <remarks>
/// Thread-safe. An array rented before a release may be returned after it (the new pool keeps it only in place of one
/// it lent; otherwise it is left to the collector). Arrays over <see cref="MaxPooledBytes"/> are plain allocations and
/// are not kept.
/// </remarks>
internal static class TransientBuffers
{
    /// <summary>Largest array pooled (1 MiB).</summary>
    public const int MaxPooledBytes = 1 << 20;

    // Per size: the server's in-flight requests and the collections writing at once, with room to spare.
    private const int ArraysPerSize = 32;

    private static ArrayPool<byte> s_pool = NewPool();

    /// <summary>An array of at least <paramref name="length"/> bytes (contents unspecified).</summary>
    public static byte[] Rent(int length) =>
        length <= MaxPooledBytes ? Volatile.Read(ref s_pool).Rent(length) : GC.AllocateUninitializedArray<byte>(length);

    /// <summary>
    /// Gives back an array from <see cref="Rent"/>. Lengths the pool never hands out (over 1 MiB, or not a power of
    /// two from 16 on) are left to the collector.
    /// </summary>
    public static void Return(byte[] array)
    {
        // The pool hands out power-of-two lengths from 16 bytes on, and refuses any other array.
        if (array.Length is >= 16 and <= MaxPooledBytes && BitOperations.IsPow2(array.Length)) Volatile.Read(ref s_pool).Return(array);
    }

    /// <summary>Drops every array the pool holds, for the next full collection to take.</summary>
    public static void Release() => Volatile.Write(ref s_pool, NewPool());

    private static ArrayPool<byte> NewPool() => ArrayPool<byte>.Create(MaxPooledBytes, ArraysPerSize);
}
