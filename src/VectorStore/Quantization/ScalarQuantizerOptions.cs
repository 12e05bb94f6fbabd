using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>Settings of <see cref="ScalarQuantizer"/> training, with their defaults.</summary>
public sealed record ScalarQuantizerOptions
{
    /// <summary>
    /// Fraction of values clipped at each end of every dimension's range (0.0005 → the 0.05 % and 99.95 %
    /// quantiles). Clipping a handful of outliers buys resolution for every other value; 0 keeps min/max.
    /// </summary>
    public double ClipQuantile { get; init; } = 0.0005;

    /// <summary>
    /// Per-vector scale: each vector is divided by its own scale before per-dimension quantization, and the scale is
    /// stored in the code (4 more bytes). Helps when vector norms vary widely (un-normalized embeddings). Default off.
    /// </summary>
    public bool PerVectorScale { get; init; }

    /// <summary>Most training vectors used to estimate the quantiles. Default 65,536.</summary>
    public int MaxTrainingVectors { get; init; } = 65_536;
}
