namespace VectorStore;

/// <summary>
/// A dense row-major block of float32 vectors (<see cref="Count"/> × <see cref="Dimension"/>), the unit in which
/// training samples, datasets and batches move. Not thread-safe for writes; concurrent reads are safe.
/// </summary>
public sealed class VectorMatrix
{
    /// <summary>Wraps <paramref name="data"/> (not copied); its length must be a multiple of <paramref name="dimension"/>.</summary>
    public VectorMatrix(float[] data, int dimension)
    {
        if (dimension <= 0) throw new InvalidArgumentException($"dimension must be positive, got {dimension}");
        if (data.Length % dimension != 0)
            throw new InvalidArgumentException($"data length {data.Length} is not a multiple of dimension {dimension}");
        Data = data;
        Dimension = dimension;
        Count = data.Length / dimension;
    }

    /// <summary>Allocates a zeroed matrix.</summary>
    public VectorMatrix(int count, int dimension) : this(new float[checked((long)count * dimension)], dimension) { }

    /// <summary>The row-major values.</summary>
    public float[] Data { get; }

    /// <summary>Number of vectors.</summary>
    public int Count { get; }

    /// <summary>Values per vector.</summary>
    public int Dimension { get; }

    /// <summary>Row <paramref name="index"/>.</summary>
    public Span<float> this[int index] => Data.AsSpan(index * Dimension, Dimension);

    /// <summary>Row <paramref name="index"/>, read-only.</summary>
    public ReadOnlySpan<float> Row(int index) => new(Data, index * Dimension, Dimension);

    /// <summary>Row <paramref name="index"/> as memory, for asynchronous calls that cannot hold a span.</summary>
    public ReadOnlyMemory<float> RowMemory(int index) => new(Data, index * Dimension, Dimension);

    /// <summary>Copies rows [start, start+count).</summary>
    public VectorMatrix Slice(int start, int count)
    {
        var m = new VectorMatrix(count, Dimension);
        Array.Copy(Data, (long)start * Dimension, m.Data, 0, (long)count * Dimension);
        return m;
    }

    /// <summary>Copies the rows named by <paramref name="rows"/>.</summary>
    public VectorMatrix Select(ReadOnlySpan<int> rows)
    {
        var m = new VectorMatrix(rows.Length, Dimension);
        for (int i = 0; i < rows.Length; i++) Row(rows[i]).CopyTo(m[i]);
        return m;
    }

    /// <summary>A seeded uniform sample of at most <paramref name="max"/> rows (all rows, copied, when Count ≤ max).</summary>
    public VectorMatrix Sample(int max, int seed)
    {
        if (Count <= max) return Slice(0, Count);
        var rng = new Random(seed);
        var idx = new int[Count];
        for (int i = 0; i < idx.Length; i++) idx[i] = i;
        // Partial Fisher–Yates: the first `max` entries become a uniform sample without replacement.
        for (int i = 0; i < max; i++)
        {
            int j = rng.Next(i, Count);
            (idx[i], idx[j]) = (idx[j], idx[i]);
        }
        Array.Sort(idx, 0, max);
        return Select(idx.AsSpan(0, max));
    }
}
