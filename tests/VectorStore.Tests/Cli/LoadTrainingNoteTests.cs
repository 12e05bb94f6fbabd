using VectorStore.Cli.Commands;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.IO;
using Xunit;

namespace VectorStore.Tests.Cli;

/// <summary><c>load</c> says when the collection it filled could not train, instead of reporting plain success.</summary>
public sealed class LoadTrainingNoteTests
{
    [Theory]
    [InlineData("pq:4", true)]  // 8-bit codes need 256 training vectors: 40 cannot train them
    [InlineData("sq8", false)]
    public async Task AFailedTrainingIsNotedOnStderr(string compression, bool fails)
    {
        string dir = TestData.TempDir();
        string vectors = Path.Combine(dir, "v.fvecs");
        VectorFiles.WriteFvecs(vectors, SyntheticData.Clustered(40, 8, seed: 3));
        using var db = VectorDatabase.CreateInMemory();
        using var client = new InProcessDatabaseClient(db);
        db.CreateCollection("c", new CollectionOptions { Dimension = 8, Metric = Metric.L2, Compression = compression, TrainingThreshold = 20 });
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        await LoadCommand.LoadAsync(client, "c", vectors, 0, 10, stdout, stderr: stderr);

        Assert.Equal(4, stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // every batch acked
        Assert.Equal(40, db.GetCollection("c").Count);
        if (fails)
        {
            Assert.NotNull(db.GetCollection("c").GetStats().TrainingError);
            Assert.StartsWith("note: 'c' holds the vectors but training its compression and index failed", stderr.ToString());
        }
        else Assert.Equal("", stderr.ToString());
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>
    /// <c>load</c> reads its file a batch at a time, but checks it whole first: a malformed row in the last batch fails
    /// the load before the first batch is written, as a whole-file read did.
    /// </summary>
    [Fact]
    public async Task AMalformedLastRowFailsTheLoadBeforeAnyBatchIsWritten()
    {
        string dir = TestData.TempDir();
        string vectors = Path.Combine(dir, "v.fvecs");
        var m = SyntheticData.Clustered(1_000, 8, seed: 5);
        m[999][3] = float.NaN;
        VectorFiles.WriteFvecs(vectors, m);
        using var db = VectorDatabase.CreateInMemory();
        using var client = new InProcessDatabaseClient(db);
        db.CreateCollection("c", new CollectionOptions { Dimension = 8, Metric = Metric.L2, Compression = "none" });
        var stdout = new StringWriter();
        var e = await Assert.ThrowsAsync<VectorFileException>(() => LoadCommand.LoadAsync(client, "c", vectors, 0, 100, stdout, writers: 3));
        Assert.Equal(999L, e.Row);
        Assert.Equal("", stdout.ToString());
        Assert.Equal(0, db.GetCollection("c").Count);

        // Mended, the same file loads in batches by three writers, each row under its id.
        m[999][3] = 1;
        VectorFiles.WriteFvecs(vectors, m);
        await LoadCommand.LoadAsync(client, "c", vectors, 7, 64, stdout, writers: 3);
        Assert.Equal(16, stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var c = db.GetCollection("c");
        Assert.Equal(1_000, c.Count);
        foreach (int i in new[] { 0, 63, 64, 500, 999 }) Assert.Equal(m.Row(i).ToArray(), c.Get(7 + (ulong)i)!.Vector);
        Directory.Delete(dir, recursive: true);
    }
}
