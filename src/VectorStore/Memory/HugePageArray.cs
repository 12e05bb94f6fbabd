using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VectorStore.Memory;

/// <summary>
/// Large float arrays whose data sits on 2 MiB-aligned, transparent-huge-page backed memory on Linux. Re-ranking
/// reads random vectors of a store far larger than the TLB covers with 4 KiB pages (77 MB for 50k×384, a TLB miss
/// and, under a hypervisor, a two-level page walk per candidate); with 2 MiB pages the walks mostly disappear.
/// Measured in the real search flow (notes/rerankfast.md): re-ranking 100 prefetched candidates ≈ 1.6× faster.
/// </summary>
/// <remarks>
/// The array is an ordinary pinned (never moved) managed array, so its lifetime stays with the GC and spans over it
/// are safe; it is over-allocated by 2 MiB so that the used window can start on a 2 MiB boundary, and only that
/// window is advised (<c>madvise(MADV_HUGEPAGE)</c>, needed because THP is usually in <c>madvise</c> mode) and then
/// written. The slack before the window is virtual address space that is never touched. Anywhere else (other
/// systems, small arrays, madvise unavailable or refused) this is a plain zeroed array with offset 0: huge pages are
/// an optimization, never a requirement. The advice outlives the array: once the GC frees it, later objects placed in
/// that range may also get huge pages, which is harmless (the GC's decommit splits or drops them). Thread-safe.
/// </remarks>
internal static partial class HugePageArray
{
    private const int HugePageBytes = 2 << 20;
    private const int MadvHugePage = 14;
    private const int MadvDontNeed = 4;
    private static bool _madviseUnavailable;

    /// <summary>
    /// A zeroed array holding at least <paramref name="length"/> floats from <paramref name="offset"/> on; the window
    /// starts on a huge-page boundary when huge pages apply. With <paramref name="zeroed"/> false the window's values
    /// are unspecified, for a caller that writes every value before reading it (the kernel still hands out zeroed
    /// pages, so this saves a second pass over fresh memory, not a leak guard).
    /// </summary>
    public static float[] Allocate(int length, out int offset, bool zeroed = true)
    {
        offset = 0;
        long bytes = (long)length * sizeof(float);
        if (!OperatingSystem.IsLinux() || bytes < HugePageBytes || Volatile.Read(ref _madviseUnavailable))
            return zeroed ? new float[length] : GC.AllocateUninitializedArray<float>(length);
        var array = GC.AllocateUninitializedArray<float>(length + HugePageBytes / sizeof(float), pinned: true);
        nint start = Address(array);
        nint aligned = AlignUp(start);
        offset = (int)((aligned - start) / sizeof(float));
        // Only whole huge pages inside the window: the rest stays on small pages and wastes nothing.
        Advise(aligned, (nuint)(bytes & ~(long)(HugePageBytes - 1)));
        // Uninitialized memory must not leak into never-written slots; zeroing after the advice is also what faults
        // the window in as huge pages (without it, the caller's first writes do).
        if (zeroed) array.AsSpan(offset, length).Clear();
        return array;
    }

    /// <summary>
    /// A zeroed byte array of <paramref name="length"/> whose whole 2 MiB pages are advised for huge pages before
    /// anything touches them (no offset: the first and last partial pages stay small). For arrays that grow by
    /// doubling (a flat index's first chunk of codes): each growth otherwise faults in every 4 KiB page of the new
    /// array, which on a virtual machine costs more than the copy (notes/issue-13.md, fifth session). Pinned, so the
    /// advice stays with the array. Elsewhere, or below two huge pages, a plain zeroed array.
    /// </summary>
    public static byte[] AllocateBytes(int length) => AllocateAdvised<byte>(length, zeroed: true);

    /// <summary>
    /// An array of exactly <paramref name="length"/> elements, every one of them usable, whose whole 2 MiB pages are
    /// advised for huge pages before anything touches them; the partial pages at either end stay small. Unlike
    /// <see cref="Allocate"/> nothing is reserved for alignment: under a heap limit (a container's memory limit, which
    /// .NET turns into one) the garbage collector counts the whole array, touched or not, so 2 MiB of alignment slack
    /// on a 4 MiB block is half as much again counted against the limit for nothing. Pinned, so the advice stays with
    /// the array. With <paramref name="zeroed"/> false the values are unspecified (for a caller that writes each
    /// before reading it). Elsewhere, or below two huge pages, a plain array.
    /// </summary>
    public static T[] AllocateAdvised<T>(int length, bool zeroed) where T : unmanaged
    {
        long bytes = (long)length * Unsafe.SizeOf<T>();
        if (!OperatingSystem.IsLinux() || bytes < 2 * HugePageBytes || Volatile.Read(ref _madviseUnavailable))
            return zeroed ? new T[length] : GC.AllocateUninitializedArray<T>(length);
        // Zeroed by the GC, which clears only memory it used before: fresh memory from the system is left untouched,
        // so the advice below still comes before the first touch, and pages the caller never writes (the unused half
        // of a doubled array) are never faulted in at all.
        var array = zeroed ? GC.AllocateArray<T>(length, pinned: true) : GC.AllocateUninitializedArray<T>(length, pinned: true);
        nint start = Address(array);
        nint aligned = AlignUp(start), end = (start + (nint)bytes) & ~(nint)(HugePageBytes - 1);
        if (end > aligned) Advise(aligned, (nuint)(end - aligned));
        return array;
    }

    /// <summary>
    /// Returns the whole pages of <paramref name="array"/>'s data to the system now (<c>madvise(MADV_DONTNEED)</c>):
    /// for an owner about to drop an array nobody reads any more. A dropped pinned array is never compacted away, and
    /// the garbage collector keeps the hole it leaves committed and resident until a later object reuses it; this way
    /// its memory leaves the process at once, without waiting for a collection. The values read as zeros afterwards
    /// (the first and last partial pages, holding the object header, keep theirs). Elsewhere, or below two pages, a
    /// no-op. The array is pinned for the call, so it may be any array.
    /// </summary>
    public static unsafe void Discard<T>(T[] array) where T : unmanaged
    {
        nint page = Environment.SystemPageSize;
        long bytes = (long)array.Length * sizeof(T);
        if (!OperatingSystem.IsLinux() || bytes < 2 * page || Volatile.Read(ref _madviseUnavailable)) return;
        fixed (T* data = array)
        {
            nint start = ((nint)data + page - 1) & ~(page - 1), end = ((nint)data + (nint)bytes) & ~(page - 1);
            // On failure the memory simply stays until the collector reuses it.
            if (end > start) Advise(start, (nuint)(end - start), MadvDontNeed);
        }
    }

    /// <summary>
    /// Returns to the system the whole pages of <paramref name="pinned"/> that hold only zeros; returns how many bytes
    /// the system accepted (pages given back before count again). Their values do not change (a discarded page reads
    /// as zeros), so this is safe for an array others still use, provided nobody writes anything but zeros to it
    /// during the call: a page is checked, then discarded.
    /// Reading a page that is not resident maps the kernel's shared zero page and costs no memory. The array must be
    /// pinned (on the pinned heap, or fixed by its owner for as long as it lives). Elsewhere a no-op returning 0.
    /// </summary>
    public static unsafe long DiscardZeroPages(byte[] pinned)
    {
        nint page = Environment.SystemPageSize;
        if (!OperatingSystem.IsLinux() || pinned.Length < 2 * page || Volatile.Read(ref _madviseUnavailable)) return 0;
        nint data = Address(pinned);
        nint first = (data + page - 1) & ~(page - 1), end = (data + pinned.Length) & ~(page - 1);
        long discarded = 0;
        nint run = 0;
        for (nint p = first; p <= end; p += page)
        {
            bool zero = p < end && new ReadOnlySpan<byte>((void*)p, (int)page).IndexOfAnyExcept((byte)0) < 0;
            if (zero && run == 0) run = p;
            else if (!zero && run != 0)
            {
                if (Advise(run, (nuint)(p - run), MadvDontNeed)) discarded += p - run;
                run = 0;
            }
        }
        return discarded;
    }

    /// <summary>
    /// Returns to the system the whole pages of <paramref name="pinned"/>'s data inside
    /// [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) (an address inside it, e.g. a
    /// pointer its owner aligned there); returns how many bytes the system accepted. They read as zeros afterwards: for
    /// bytes the owner knows nobody reads or rewrites from memory again. Partial pages at either end keep theirs. The
    /// array must be pinned. Elsewhere a no-op returning 0.
    /// </summary>
    public static long DiscardPages(byte[] pinned, nint start, long length)
    {
        nint page = Environment.SystemPageSize;
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref _madviseUnavailable)) return 0;
        nint data = Address(pinned), stop = data + pinned.Length;
        start = Math.Clamp(start, data, stop);
        nint first = (start + page - 1) & ~(page - 1), end = (start + (nint)Math.Min(length, stop - start)) & ~(page - 1);
        return end > first && Advise(first, (nuint)(end - first), MadvDontNeed) ? end - first : 0;
    }

    private static unsafe nint Address<T>(T[] pinned) where T : unmanaged =>
        (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));

    /// <summary>The first huge-page boundary at or after <paramref name="address"/>.</summary>
    private static nint AlignUp(nint address) => (address + (HugePageBytes - 1)) & ~(nint)(HugePageBytes - 1);

    /// <summary>Gives the advice; whether the system took it.</summary>
    private static bool Advise(nint address, nuint length, int advice = MadvHugePage)
    {
        if (length == 0) return false;
        try
        {
            // Callers other than the discard ignore the result on purpose: advice is an optimization (for huge pages,
            // EINVAL when THP is compiled out or "never" mode just means small pages).
            return madvise(address, length, advice) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref _madviseUnavailable, true);
            return false;
        }
    }

    [LibraryImport("libc")]
    private static partial int madvise(nint address, nuint length, int advice);
}
