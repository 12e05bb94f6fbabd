using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// sq8 scoring with a symmetric int8 inner loop. The query with the codec's steps folded in (u_d = q_d·step_d) is
/// itself quantized to int8 with one scale α = max|u|/127, so q·x̂ = q·mid + Σ u_d·c_d ≈ q·mid + α·Σ v_d·c_d, and the
/// sum is an exact integer kernel (<see cref="DotProductI8"/>, four times fewer bytes per lane than float). The
/// query-side rounding (≤ α/2 per dimension) only perturbs traversal; the collection re-ranks on full precision.
/// <see cref="ScalarQuantizer.CreateTraversalScorer"/> hands it out. Not thread-safe: one per thread.
/// </summary>
internal sealed class Sq8TraversalScorer : CodeScorer
{
    private readonly float[] _mid;
    private readonly float[] _step;
    private readonly float[] _midStep;
    private readonly float[] _step2;
    private readonly float[] _u;
    private readonly float _midNorm;
    private readonly sbyte[] _q;
    private readonly bool _perVector;
    private readonly bool _l2;
    private float _alpha;
    private float _qMid;
    private float _qNorm;

    public Sq8TraversalScorer(ScalarQuantizer codec, DistanceKind kind) : base(codec)
    {
        _mid = codec.Mid.ToArray();
        _step = codec.Step.ToArray();
        _q = new sbyte[_mid.Length];
        _u = new float[_mid.Length];
        _midStep = new float[_mid.Length];
        _step2 = new float[_mid.Length];
        for (int d = 0; d < _mid.Length; d++)
        {
            _midStep[d] = _mid[d] * _step[d];
            _step2[d] = _step[d] * _step[d];
        }
        _midNorm = DotProduct.Compute(_mid, _mid);
        _perVector = codec.PerVectorScale;
        _l2 = kind == DistanceKind.L2;
    }

    public override void SetQuery(ReadOnlySpan<float> query)
    {
        int dim = _q.Length;
        if (query.Length != dim) throw new InvalidVectorException($"expected dimension {dim}, got {query.Length}");
        var u = _u;
        float max = 0;
        int d = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float pq = ref MemoryMarshal.GetReference(query);
            ref float ps = ref MemoryMarshal.GetArrayDataReference(_step);
            ref float pu = ref MemoryMarshal.GetArrayDataReference(u);
            var vmax = Vector256<float>.Zero;
            for (; d <= dim - 8; d += 8)
            {
                var v = Vector256.LoadUnsafe(ref pq, (nuint)d) * Vector256.LoadUnsafe(ref ps, (nuint)d);
                v.StoreUnsafe(ref pu, (nuint)d);
                vmax = Vector256.Max(vmax, Vector256.Abs(v));
            }
            max = HorizontalMax(vmax);
        }
        for (; d < dim; d++)
        {
            u[d] = query[d] * _step[d];
            max = MathF.Max(max, MathF.Abs(u[d]));
        }
        Quantize(max);
        _qMid = DotProduct.Compute(query, _mid);
        _qNorm = DotProduct.Compute(query, query);
    }

    private static float HorizontalMax(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        return MathF.Max(MathF.Max(m[0], m[1]), MathF.Max(m[2], m[3]));
    }

    /// <summary>Rounds <see cref="_u"/> to int8 with the scale that maps <paramref name="max"/> to 127.</summary>
    private void Quantize(float max)
    {
        int dim = _q.Length;
        _alpha = max > 0 ? max / 127f : 1f;
        float inv = 1f / _alpha;
        var u = _u;
        int d = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float pu = ref MemoryMarshal.GetArrayDataReference(u);
            ref sbyte pq = ref MemoryMarshal.GetArrayDataReference(_q);
            var vinv = Vector256.Create(inv);
            for (; d <= dim - 8; d += 8)
            {
                var r = Vector256.ConvertToInt32(Vector256.Round(Vector256.LoadUnsafe(ref pu, (nuint)d) * vinv));
                var s16 = Vector128.Narrow(r.GetLower(), r.GetUpper());
                var s8 = Vector128.Narrow(s16, s16);
                Unsafe.WriteUnaligned(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref pq, d)), s8.AsInt64().ToScalar());
            }
        }
        for (; d < dim; d++) _q[d] = (sbyte)(int)MathF.Round(u[d] * inv);
    }

    /// <summary>
    /// Sets the query to the reconstruction x̂ of <paramref name="code"/> without materialising it:
    /// x̂_d·step_d = (mid_d·step_d + step_d²·c_d)·s, x̂·mid = s·(‖mid‖² + Σ mid_d·step_d·c_d), ‖x̂‖² is stored in the code.
    /// </summary>
    public override void SetQueryFromCode(ReadOnlySpan<byte> code)
    {
        int dim = _q.Length;
        var c = MemoryMarshal.Cast<byte, sbyte>(code[..dim]);
        float scale = _perVector ? BinaryPrimitives.ReadSingleLittleEndian(code[(dim + 4)..]) : 1f;
        float max = 0;
        var u = _u;
        int d = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref sbyte pc = ref MemoryMarshal.GetReference(c);
            ref float pms = ref MemoryMarshal.GetArrayDataReference(_midStep);
            ref float ps2 = ref MemoryMarshal.GetArrayDataReference(_step2);
            ref float pu = ref MemoryMarshal.GetArrayDataReference(u);
            var vs = Vector256.Create(scale);
            var vmax = Vector256<float>.Zero;
            for (; d <= dim - 8; d += 8)
            {
                long raw = Unsafe.ReadUnaligned<long>(ref Unsafe.As<sbyte, byte>(ref Unsafe.Add(ref pc, d)));
                var s16 = Vector128.WidenLower(Vector128.CreateScalar(raw).AsSByte());
                var f = Vector256.ConvertToSingle(Vector256.Create(Vector128.WidenLower(s16), Vector128.WidenUpper(s16)));
                var v = (Vector256.LoadUnsafe(ref pms, (nuint)d) + Vector256.LoadUnsafe(ref ps2, (nuint)d) * f) * vs;
                v.StoreUnsafe(ref pu, (nuint)d);
                vmax = Vector256.Max(vmax, Vector256.Abs(v));
            }
            max = HorizontalMax(vmax);
        }
        for (; d < dim; d++)
        {
            float v = (_midStep[d] + _step2[d] * c[d]) * scale;
            u[d] = v;
            max = MathF.Max(max, MathF.Abs(v));
        }
        Quantize(max);
        _qMid = scale * (_midNorm + DotProductF32I8.Compute(_midStep, c));
        _qNorm = BinaryPrimitives.ReadSingleLittleEndian(code[dim..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override float Distance(ReadOnlySpan<byte> code)
    {
        int dim = _q.Length;
        float dot = _qMid + _alpha * DotProductI8.Compute(_q, MemoryMarshal.Cast<byte, sbyte>(code[..dim]));
        if (_perVector) dot *= BinaryPrimitives.ReadSingleLittleEndian(code[(dim + 4)..]);
        if (!_l2) return -dot;
        return _qNorm - 2 * dot + BinaryPrimitives.ReadSingleLittleEndian(code[dim..]);
    }
}
