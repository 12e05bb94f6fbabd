using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using VectorStore.Threading;

namespace VectorStore.Quantization;

/// <summary>
/// Signed feature hashing of sparse inputs into a fixed D-dimensional dense vector: feature f adds
/// sign(f)·weight to slot h(f) mod (D − N), where h and sign come from one seeded 64-bit xxHash3 of the key. The
/// optional hybrid keeps the N heaviest features (chosen on a corpus by total |weight|) in dedicated exact slots
/// [0, N) and hashes the rest into [N, D).
/// </summary>
/// <remarks>
/// The signed hash makes the inner product of two hashed vectors an unbiased estimate of the sparse inner product;
/// each collision adds a zero-mean error, with variance roughly (‖a‖²‖b‖² + ⟨a,b⟩²)/(D − N). Two distinct features
/// collide with probability 1/(D − N), so a document of m hashed features expects m(m−1)/(2(D − N)) colliding pairs
/// (<see cref="ExpectedCollidingPairs"/>). Immutable and thread-safe.
/// </remarks>
public sealed class FeatureHasher
{
    private readonly Dictionary<string, int> _exact;

    /// <summary>A hasher into <paramref name="dimension"/> slots, with the given exact (heavy) features in the first slots.</summary>
    public FeatureHasher(int dimension, ulong seed = 0x5eed, IReadOnlyList<string>? exactFeatures = null)
    {
        exactFeatures ??= [];
        if (dimension <= exactFeatures.Count)
            throw new InvalidArgumentException($"feature hashing: dimension {dimension} must exceed the {exactFeatures.Count} exact features");
        Dimension = dimension;
        Seed = seed;
        _exact = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var f in exactFeatures)
            if (!_exact.TryAdd(f, _exact.Count)) throw new InvalidArgumentException($"exact feature '{f}' is listed twice");
        ExactFeatures = exactFeatures.ToArray();
    }

    /// <summary>Output dimension D.</summary>
    public int Dimension { get; }

    /// <summary>Seed of the hash.</summary>
    public ulong Seed { get; }

    /// <summary>Features kept exact, in slot order.</summary>
    public IReadOnlyList<string> ExactFeatures { get; }

    /// <summary>Slots shared by hashed features: D − N.</summary>
    public int HashedSlots => Dimension - ExactFeatures.Count;

    /// <summary>
    /// A hybrid hasher whose exact slots hold the <paramref name="heavy"/> features of <paramref name="corpus"/> with
    /// the largest total |weight| (ties by key, so the choice is deterministic).
    /// </summary>
    public static FeatureHasher WithHeavyFeatures(int dimension, int heavy, IEnumerable<IEnumerable<SparseFeature>> corpus, ulong seed = 0x5eed)
    {
        var mass = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var doc in corpus)
            foreach (var f in doc)
                mass[f.Key] = mass.GetValueOrDefault(f.Key) + Math.Abs(f.Weight);
        var top = mass.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(heavy).Select(kv => kv.Key).ToArray();
        return new FeatureHasher(dimension, seed, top);
    }

    /// <summary>The 64-bit hash of a key: low bits pick the slot, the top bit the sign.</summary>
    public static ulong Hash(ReadOnlySpan<byte> key, ulong seed) => XxHash3.HashToUInt64(key, unchecked((long)seed));

    /// <summary>Slot and sign of <paramref name="key"/>.</summary>
    public (int Slot, float Sign) Locate(string key)
    {
        if (_exact.TryGetValue(key, out int slot)) return (slot, 1f);
        int bytes = Encoding.UTF8.GetByteCount(key);
        Span<byte> buf = bytes <= 256 ? stackalloc byte[bytes] : new byte[bytes];
        Encoding.UTF8.GetBytes(key, buf);
        ulong h = Hash(buf, Seed);
        return (ExactFeatures.Count + (int)((h & 0x7FFF_FFFF_FFFF_FFFFUL) % (ulong)HashedSlots), (h >> 63) != 0 ? -1f : 1f);
    }

    /// <summary>Accumulates <paramref name="features"/> into <paramref name="output"/> (cleared first).</summary>
    public void Transform(IEnumerable<SparseFeature> features, Span<float> output)
    {
        if (output.Length != Dimension) throw new InvalidArgumentException($"output must have {Dimension} values, got {output.Length}");
        output.Clear();
        foreach (var f in features)
        {
            if (!float.IsFinite(f.Weight)) throw new InvalidVectorException($"feature '{f.Key}' has a non-finite weight");
            var (slot, sign) = Locate(f.Key);
            output[slot] += sign * f.Weight;
        }
    }

    /// <summary>The hashed dense vector of <paramref name="features"/>.</summary>
    public float[] Transform(IEnumerable<SparseFeature> features)
    {
        var v = new float[Dimension];
        Transform(features, v);
        return v;
    }

    /// <summary>Hashes every document into a matrix with one row per document.</summary>
    public VectorMatrix TransformBatch(IReadOnlyList<IReadOnlyList<SparseFeature>> documents)
    {
        var m = new VectorMatrix(documents.Count, Dimension);
        Parallel.For(0, documents.Count, EngineParallel.Options(), i => Transform(documents[i], m[i]));
        return m;
    }

    /// <summary>Expected number of colliding feature pairs in a document with <paramref name="hashedFeatures"/> hashed features.</summary>
    public double ExpectedCollidingPairs(int hashedFeatures) => hashedFeatures * (hashedFeatures - 1) / (2.0 * HashedSlots);

    /// <summary>
    /// Measured fraction of a document's hashed features that share their slot with another feature of the same
    /// document, averaged over <paramref name="documents"/>.
    /// </summary>
    public double MeasuredCollisionRate(IEnumerable<IEnumerable<SparseFeature>> documents)
    {
        double sum = 0;
        int docs = 0;
        var counts = new Dictionary<int, int>();
        foreach (var doc in documents)
        {
            counts.Clear();
            int m = 0;
            foreach (var f in doc.Select(f => f.Key).Distinct(StringComparer.Ordinal))
            {
                if (_exact.ContainsKey(f)) continue;
                var (slot, _) = Locate(f);
                counts[slot] = counts.GetValueOrDefault(slot) + 1;
                m++;
            }
            if (m == 0) continue;
            sum += (double)counts.Values.Where(c => c > 1).Sum() / m;
            docs++;
        }
        return docs == 0 ? 0 : sum / docs;
    }

    /// <summary>Slot and sign tables for dense inputs, where feature i is dimension i (used by <see cref="HashTransform"/>).</summary>
    internal static (int[] Slots, float[] Signs) DenseTables(int inputDimension, int outputDimension, ulong seed, IReadOnlyList<int> exactDimensions)
    {
        var slots = new int[inputDimension];
        var signs = new float[inputDimension];
        int hashed = outputDimension - exactDimensions.Count;
        var exact = new Dictionary<int, int>();
        for (int j = 0; j < exactDimensions.Count; j++) exact[exactDimensions[j]] = j;
        Span<byte> key = stackalloc byte[4];
        for (int i = 0; i < inputDimension; i++)
        {
            if (exact.TryGetValue(i, out int e)) { slots[i] = e; signs[i] = 1f; continue; }
            MemoryMarshal.Write(key, i);
            ulong h = Hash(key, seed);
            slots[i] = exactDimensions.Count + (int)((h & 0x7FFF_FFFF_FFFF_FFFFUL) % (ulong)hashed);
            signs[i] = (h >> 63) != 0 ? -1f : 1f;
        }
        return (slots, signs);
    }
}
