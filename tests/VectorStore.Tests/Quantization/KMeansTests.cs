using VectorStore.Clustering;
using VectorStore.Distance;
using VectorStore.Evaluation;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

public class KMeansTests
{
    private static VectorMatrix Blobs(int perBlob, int blobs, int dim, int seed, out VectorMatrix centers)
    {
        var rng = new Random(seed);
        centers = new VectorMatrix(blobs, dim);
        for (int b = 0; b < blobs; b++)
            for (int d = 0; d < dim; d++) centers[b][d] = (float)(rng.NextDouble() * 100);
        var m = new VectorMatrix(perBlob * blobs, dim);
        for (int i = 0; i < m.Count; i++)
            for (int d = 0; d < dim; d++) m[i][d] = centers[i % blobs][d] + (float)(rng.NextDouble() - 0.5);
        return m;
    }

    [Fact]
    public void SameSeedGivesSameCentroidsOnAnyThreadCount()
    {
        var data = SyntheticData.Clustered(6000, 24, seed: 3);
        var a = KMeans.Train(data, 64, new TrainingContext { Seed = 5, Threads = 1 });
        var b = KMeans.Train(data, 64, new TrainingContext { Seed = 5, Threads = 2 });
        Assert.Equal(a.Centroids.Data, b.Centroids.Data);
        var c = KMeans.Train(data, 64, new TrainingContext { Seed = 6, Threads = 2 });
        Assert.NotEqual(a.Centroids.Data, c.Centroids.Data);
    }

    [Fact]
    public void FindsWellSeparatedClusters()
    {
        var data = Blobs(60, 16, 10, 1, out var centers);
        var r = KMeans.Train(data, 16, new TrainingContext { Seed = 1 });
        // Every true centre has a trained centroid within the blob's noise radius.
        var set = new CentroidSet(r.Centroids);
        for (int b = 0; b < centers.Count; b++)
        {
            set.Nearest(centers.Row(b), out float d);
            Assert.True(d < 1.0f, $"centre {b} is {d} from its nearest centroid");
        }
        // Inertia is the noise: 10 dims × uniform(−0.5, 0.5) variance 1/12 per point.
        Assert.InRange(r.Inertia / data.Count, 0.5, 1.2);
    }

    [Fact]
    public void RepairsEmptyClusters()
    {
        var data = Blobs(50, 8, 6, 2, out _);
        // All initial centroids identical: every cluster but one starts empty.
        var init = new VectorMatrix(8, 6);
        for (int c = 0; c < 8; c++) data.Row(0).CopyTo(init[c]);
        var r = KMeans.Train(data, 8, new TrainingContext { Seed = 1 }, new KMeansOptions { InitialCentroids = init, Iterations = 40 });
        Assert.True(r.RepairedClusters > 0);
        var asg = new int[data.Count];
        new CentroidSet(r.Centroids).AssignBatch(data, asg, default);
        Assert.Equal(8, asg.Distinct().Count());
    }

    [Fact]
    public void WarnsOnSmallSampleAndRejectsTooFewPoints()
    {
        var data = SyntheticData.Clustered(300, 8, seed: 4);
        var warnings = new List<string>();
        var progress = new List<double>();
        var ctx = new TrainingContext { Warn = warnings.Add, Progress = new SyncProgress(p => progress.Add(p.Fraction)) };
        KMeans.Train(data, 64, ctx);
        Assert.Contains(warnings, w => w.Contains("per centroid"));
        Assert.NotEmpty(progress);
        Assert.Throws<InvalidArgumentException>(() => KMeans.Train(data.Slice(0, 10), 64));
    }

    [Fact]
    public void SubsamplesLargeInputs()
    {
        var data = SyntheticData.Clustered(5000, 8, seed: 4);
        var r = KMeans.Train(data, 4, options: new KMeansOptions { MaxPointsPerCentroid = 100 });
        Assert.Equal(400, r.TrainingPoints);
    }

    internal sealed class SyncProgress(Action<(string Stage, double Fraction)> onReport) : IProgress<(string Stage, double Fraction)>
    {
        public void Report((string Stage, double Fraction) value) => onReport(value);
    }
}

public class CentroidKernelTests
{
    [Theory]
    [InlineData(4, 256)]
    [InlineData(8, 100)]
    [InlineData(31, 17)]
    [InlineData(96, 40)]
    public void NearestMatchesBruteForce(int dim, int k)
    {
        var rng = new Random(dim * 1000 + k);
        var cents = new VectorMatrix(k, dim);
        for (int i = 0; i < cents.Data.Length; i++) cents.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        var set = new CentroidSet(cents);
        var x = new float[dim];
        for (int t = 0; t < 200; t++)
        {
            for (int d = 0; d < dim; d++) x[d] = (float)(rng.NextDouble() * 2 - 1);
            int best = 0;
            double bestD = double.MaxValue;
            for (int c = 0; c < k; c++)
            {
                double dd = SquaredL2.ComputeScalar(x, cents.Row(c));
                if (dd < bestD) { bestD = dd; best = c; }
            }
            int got = set.Nearest(x, out float dist);
            // The expansion ‖x‖²−2x·c+‖c‖² may flip a near-tie; the chosen centroid must be as close within rounding.
            double gotD = SquaredL2.ComputeScalar(x, cents.Row(got));
            Assert.True(got == best || Math.Abs(gotD - bestD) <= 1e-4 * (1 + bestD), $"got {got} ({gotD}), expected {best} ({bestD})");
            Assert.InRange(dist, gotD - 1e-3 * (1 + gotD), gotD + 1e-3 * (1 + gotD));
        }
    }
}
