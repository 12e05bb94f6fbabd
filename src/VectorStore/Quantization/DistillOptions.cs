using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>Settings of <see cref="DistillTransform"/> training, with their defaults. Immutable, so thread-safe.</summary>
public sealed record DistillOptions
{
    /// <summary>Training queries drawn from the sample. Default 2,000.</summary>
    public int Queries { get; init; } = 2_000;

    /// <summary>Pool of sample vectors the teacher ranks for each query. Default 10,000.</summary>
    public int Pool { get; init; } = 10_000;

    /// <summary>Teacher neighbours per query used as the candidate list (the ranks that matter). Default 100.</summary>
    public int Neighbours { get; init; } = 100;

    /// <summary>Random pool vectors added to each candidate list, so the map keeps far points far. Default 28.</summary>
    public int RandomNegatives { get; init; } = 28;

    /// <summary>Passes over the training queries. Default 4.</summary>
    public int Epochs { get; init; } = 4;

    /// <summary>Queries per Adam step. Default 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Adam learning rate. Default 0.002.</summary>
    public double LearningRate { get; init; } = 0.002;

    /// <summary>Softmax temperature of the listwise ranking loss, in similarity units. Default 0.05.</summary>
    public double Temperature { get; init; } = 0.05;

    /// <summary>Weight of the similarity-matching (squared error) term next to the ranking loss. Default 1.</summary>
    public double SimilarityWeight { get; init; } = 1.0;
}
