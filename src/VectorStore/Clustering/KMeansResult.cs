namespace VectorStore.Clustering;

/// <summary>What <see cref="KMeans.Train"/> produced. Do not modify the centroids while a <see cref="CentroidSet"/> wraps them.</summary>
/// <param name="Centroids">The k centroids.</param>
/// <param name="Inertia">Sum over the training points actually used of the squared distance to their centroid.</param>
/// <param name="Iterations">Lloyd iterations run.</param>
/// <param name="RepairedClusters">How many times an empty cluster was re-seeded by splitting a large one.</param>
/// <param name="TrainingPoints">Points used (after subsampling).</param>
public sealed record KMeansResult(VectorMatrix Centroids, double Inertia, int Iterations, int RepairedClusters, int TrainingPoints);
