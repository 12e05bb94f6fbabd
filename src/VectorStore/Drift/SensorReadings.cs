namespace VectorStore.Drift;

/// <summary>
/// Per-batch sensor sums over a run of sampled vectors: what the window keeps per chunk and what a report adds up.
/// Arrays that a codec or index does not feed are null. Not thread-safe (the monitor's lock guards it).
/// </summary>
internal sealed class SensorReadings
{
    public SensorReadings(int subCodeCells, int lists, int distanceBins)
    {
        SubCodes = subCodeCells > 0 ? new int[subCodeCells] : null;
        Lists = lists > 0 ? new int[lists] : null;
        Distances = lists > 0 ? new int[distanceBins] : null;
    }

    /// <summary>Sampled vectors summed.</summary>
    public int Count { get; set; }

    /// <summary>Σ ‖input − decode(encode(input))‖ / ‖x‖.</summary>
    public double ErrorSum { get; set; }

    /// <summary>Σ saturated coordinates.</summary>
    public long Saturated { get; set; }

    /// <summary>Uses of each (sub-quantizer, entry): index m·entries + j.</summary>
    public int[]? SubCodes { get; }

    /// <summary>Vectors routed to each IVF list.</summary>
    public int[]? Lists { get; }

    /// <summary>Histogram of the distance to the nearest centroid (<see cref="DriftBaseline.DistanceBins"/> bins).</summary>
    public int[]? Distances { get; }

    public void Clear()
    {
        Count = 0;
        ErrorSum = 0;
        Saturated = 0;
        if (SubCodes is not null) Array.Clear(SubCodes);
        if (Lists is not null) Array.Clear(Lists);
        if (Distances is not null) Array.Clear(Distances);
    }

    public void AddTo(SensorReadings total)
    {
        total.Count += Count;
        total.ErrorSum += ErrorSum;
        total.Saturated += Saturated;
        Accumulate(SubCodes, total.SubCodes);
        Accumulate(Lists, total.Lists);
        Accumulate(Distances, total.Distances);
    }

    private static void Accumulate(int[]? from, int[]? into)
    {
        if (from is null || into is null) return;
        for (int i = 0; i < from.Length; i++) into[i] += from[i];
    }

    public void Write(BinaryWriter w)
    {
        w.Write(Count);
        w.Write(ErrorSum);
        w.Write(Saturated);
        WriteArray(w, SubCodes);
        WriteArray(w, Lists);
        WriteArray(w, Distances);
    }

    /// <summary>Reads what <see cref="Write"/> wrote into this (same shape); throws <see cref="InvalidDataException"/>.</summary>
    public void Read(BinaryReader r, int subQuantizers)
    {
        Count = r.ReadInt32();
        ErrorSum = r.ReadDouble();
        Saturated = r.ReadInt64();
        if (Count < 0 || !(ErrorSum >= 0) || double.IsInfinity(ErrorSum) || Saturated < 0)
            throw new InvalidDataException($"bad window chunk (count {Count}, error {ErrorSum}, saturated {Saturated})");
        ReadArray(r, SubCodes, (long)Count * subQuantizers);
        ReadArray(r, Lists, Count);
        ReadArray(r, Distances, Count);
    }

    private static void WriteArray(BinaryWriter w, int[]? a)
    {
        if (a is null) return;
        foreach (int v in a) w.Write(v);
    }

    private void ReadArray(BinaryReader r, int[]? a, long expectedSum)
    {
        if (a is null) return;
        long sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int v = r.ReadInt32();
            if (v < 0 || v > Count) throw new InvalidDataException($"bad window count {v} (chunk of {Count})");
            a[i] = v;
            sum += v;
        }
        if (sum != expectedSum) throw new InvalidDataException($"window histogram sums to {sum}, expected {expectedSum} for a chunk of {Count}");
    }
}
