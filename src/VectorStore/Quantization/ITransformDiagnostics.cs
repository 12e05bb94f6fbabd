using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>
/// A transform that can describe its fit in one line (explained variance, kept dimensions) for reports. Implementations
/// are immutable, so the summary may be read from any thread.
/// </summary>
public interface ITransformDiagnostics
{
    /// <summary>A short human-readable summary of the fit, e.g. <c>explained variance 0.871</c>.</summary>
    string Diagnostics { get; }
}
