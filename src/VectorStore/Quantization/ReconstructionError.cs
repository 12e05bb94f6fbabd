namespace VectorStore.Quantization;

/// <summary>Reconstruction error of a codec on a sample.</summary>
/// <param name="MeanSquaredError">Mean over vectors of ‖x − x̂‖².</param>
/// <param name="RelativeError">Mean over vectors of ‖x − x̂‖² / ‖x‖².</param>
/// <param name="MaxAbsoluteError">Largest |x_d − x̂_d| seen.</param>
public sealed record ReconstructionError(double MeanSquaredError, double RelativeError, double MaxAbsoluteError)
{
    /// <summary>Encodes and decodes every row of <paramref name="sample"/> with <paramref name="codec"/>.</summary>
    public static ReconstructionError Measure(VectorCodec codec, VectorMatrix sample)
    {
        var code = new byte[codec.CodeSize];
        var back = new float[codec.Dimension];
        double mse = 0, rel = 0, max = 0;
        for (int i = 0; i < sample.Count; i++)
        {
            var x = sample.Row(i);
            codec.Encode(x, code);
            codec.Decode(code, back);
            double err = 0, norm = 0;
            for (int d = 0; d < x.Length; d++)
            {
                double e = x[d] - back[d];
                err += e * e;
                norm += (double)x[d] * x[d];
                max = Math.Max(max, Math.Abs(e));
            }
            mse += err;
            rel += norm > 0 ? err / norm : 0;
        }
        int n = Math.Max(1, sample.Count);
        return new ReconstructionError(mse / n, rel / n, max);
    }
}
