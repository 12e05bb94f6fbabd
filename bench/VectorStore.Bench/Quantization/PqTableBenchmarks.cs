using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using VectorStore.Distance;
using VectorStore.Quantization;

namespace VectorStore.Bench.Quantization;

/// <summary>
/// Per-query PQ set-up on 384-d: the 4-bit <c>pq:96x4</c> <see cref="PqFastScanScorer.SetQuery"/> (float table +
/// byte quantization) and the 8-bit <c>pq:48</c> float table, each against the former code (one
/// <see cref="SquaredL2"/>/<see cref="DotProduct"/> call per centroid, scalar quantization; kept here as the
/// baseline) and the scalar references, in the same run. Times are per query. The kernels are data-oblivious, so
/// centroids and queries are random. Run:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*PqTableBenchmarks*' --job short</c>
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PqTableBenchmarks
{
    private const int Dim = 384;
    private const int Queries = 64;
    private float[][] _queries = [];
    private PqCodebook _book4 = null!;
    private PqCodebook _book8 = null!;
    private PqFastScanScorer _scorer4 = null!;
    private float[] _table4 = [];
    private float[] _table8 = [];
    private byte[] _lut4 = [];
    private float[] _byDim4 = [];
    private float[] _byDim8 = [];
    private int[] _offsets4 = [];
    private int[] _offsets8 = [];

    /// <summary>Squared L2 or negative dot (cosine collections use the latter).</summary>
    [Params(DistanceKind.NegativeDot, DistanceKind.L2)]
    public DistanceKind Kind { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _queries = new float[Queries][];
        for (int i = 0; i < Queries; i++) _queries[i] = Random(rng, Dim);
        _book4 = Book(rng, 96, 4);
        _book8 = Book(rng, 48, 8);
        _scorer4 = (PqFastScanScorer)new PqFastScanCodec(_book4).CreateScorer(Kind);
        _table4 = new float[96 * 16];
        _lut4 = new byte[96 * 16];
        _table8 = new float[48 * 256];
        (_byDim4, _offsets4) = ByDimension(_book4);
        (_byDim8, _offsets8) = ByDimension(_book8);
    }

    private static float[] Random(Random rng, int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)(rng.NextDouble() * 2 - 1) * 0.1f;
        return v;
    }

    private static PqCodebook Book(Random rng, int m, int bits)
    {
        var centroids = new float[m][];
        for (int s = 0; s < m; s++) centroids[s] = Random(rng, (1 << bits) * (Dim / m));
        return new PqCodebook(Dim, m, bits, centroids);
    }

    // The same dimension-major layout the codebook keeps privately, for calling the scalar references directly.
    private static (float[] ByDimension, int[] Offsets) ByDimension(PqCodebook book)
    {
        int ksub = book.CentroidsPerSubspace;
        var t = new float[book.Dimension * ksub];
        var offsets = new int[book.SubQuantizers + 1];
        for (int m = 0; m < book.SubQuantizers; m++)
        {
            int off = book.SubOffset(m), sd = book.SubDimension(m);
            offsets[m + 1] = off + sd;
            var c = book.Centroids(m);
            for (int j = 0; j < ksub; j++)
                for (int d = 0; d < sd; d++) t[(off + d) * ksub + j] = c[j * sd + d];
        }
        return (t, offsets);
    }

    /// <summary>The float table as it was computed before the table kernels: one short-vector call per centroid.</summary>
    private void FormerTable(PqCodebook book, float[] query, float[] table)
    {
        int ksub = book.CentroidsPerSubspace;
        for (int m = 0; m < book.SubQuantizers; m++)
        {
            int sd = book.SubDimension(m);
            var q = query.AsSpan(book.SubOffset(m), sd);
            var c = book.Centroids(m);
            var t = table.AsSpan(m * ksub, ksub);
            if (Kind == DistanceKind.L2)
                for (int j = 0; j < ksub; j++) t[j] = SquaredL2.Compute(q, c.Slice(j * sd, sd));
            else
                for (int j = 0; j < ksub; j++) t[j] = -DotProduct.Compute(q, c.Slice(j * sd, sd));
        }
    }

    /// <summary>The former scalar quantization loop of <c>SetQuery</c>.</summary>
    private static float FormerQuantize(float[] table, int m, byte[] lut)
    {
        float maxRange = 0, bias = 0;
        Span<float> mins = stackalloc float[m];
        for (int j = 0; j < m; j++)
        {
            var t = table.AsSpan(j * 16, 16);
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            foreach (var v in t) { lo = MathF.Min(lo, v); hi = MathF.Max(hi, v); }
            mins[j] = lo;
            bias += lo;
            maxRange = MathF.Max(maxRange, hi - lo);
        }
        float scale = maxRange > 0 ? 255f / maxRange : 1f;
        for (int j = 0; j < m; j++)
            for (int c = 0; c < 16; c++)
                lut[j * 16 + c] = (byte)Math.Clamp(MathF.Round((table[j * 16 + c] - mins[j]) * scale), 0f, 255f);
        return bias + scale;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Queries)]
    [BenchmarkCategory("pq96x4-setquery")]
    public float Former4()
    {
        float s = 0;
        foreach (var q in _queries)
        {
            FormerTable(_book4, q, _table4);
            s += FormerQuantize(_table4, 96, _lut4);
        }
        return s;
    }

    [Benchmark(OperationsPerInvoke = Queries)]
    [BenchmarkCategory("pq96x4-setquery")]
    public float ScalarReference4()
    {
        float s = 0;
        foreach (var q in _queries)
        {
            if (Kind == DistanceKind.L2) PqTableL2.ComputeScalar(q, _byDim4, _offsets4, 16, _table4);
            else PqTableDot.ComputeScalar(q, _byDim4, _offsets4, 16, _table4);
            s += PqLutQuantizer.QuantizeScalar(_table4, 96, _lut4, out float bias) + bias;
        }
        return s;
    }

    [Benchmark(OperationsPerInvoke = Queries)]
    [BenchmarkCategory("pq96x4-setquery")]
    public float SetQuery4()
    {
        float s = 0;
        foreach (var q in _queries)
        {
            _scorer4.SetQuery(q);
            s += _scorer4.Bias;
        }
        return s;
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Queries)]
    [BenchmarkCategory("pq48-table")]
    public float Former8()
    {
        foreach (var q in _queries) FormerTable(_book8, q, _table8);
        return _table8[0];
    }

    [Benchmark(OperationsPerInvoke = Queries)]
    [BenchmarkCategory("pq48-table")]
    public float ScalarReference8()
    {
        foreach (var q in _queries)
        {
            if (Kind == DistanceKind.L2) PqTableL2.ComputeScalar(q, _byDim8, _offsets8, 256, _table8);
            else PqTableDot.ComputeScalar(q, _byDim8, _offsets8, 256, _table8);
        }
        return _table8[0];
    }

    [Benchmark(OperationsPerInvoke = Queries)]
    [BenchmarkCategory("pq48-table")]
    public float Table8()
    {
        foreach (var q in _queries) _book8.ComputeTable(q, Kind, _table8);
        return _table8[0];
    }
}
