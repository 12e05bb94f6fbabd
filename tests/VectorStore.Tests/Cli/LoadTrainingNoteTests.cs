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
}
