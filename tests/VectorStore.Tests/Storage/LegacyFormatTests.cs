using VectorStore.Collections;
using VectorStore.IO;
using VectorStore.Storage;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// A database directory written by the previous release (Fixtures/legacy-6fd8387: manifest and snapshots of format
/// version 1, vectors inside the snapshots) opens with every vector bit-identical to what that release exported,
/// migrates to segments on open, and reopens from the new layout.
/// </summary>
public sealed class LegacyFormatTests
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "Storage", "Fixtures", "legacy-6fd8387");

    private static string CopyFixture() => StorageTestKit.CopyDirectory(Path.Combine(Fixture, "db"));

    [Fact]
    public void PreviousReleaseDirectoryOpensMigratesAndReopens()
    {
        var dir = CopyFixture();
        Assert.Equal(1u, BitConverter.ToUInt32(File.ReadAllBytes(Path.Combine(dir, "MANIFEST")), 8));
        for (int open = 0; open < 2; open++)
        {
            using var db = VectorDatabase.Open(dir);
            Assert.Equal(["flat", "graph"], db.CollectionNames);
            foreach (var name in new[] { "flat", "graph" })
            {
                var c = db.GetCollection(name);
                Assert.Equal(RawVectorResidency.Disk, c.Options.RawVectors);
                var expected = VectorFiles.ReadVectors(Path.Combine(Fixture, name + ".fvecs"));
                var ids = File.ReadAllLines(Path.Combine(Fixture, name + ".ids")).Select(ulong.Parse).ToArray();
                Assert.Equal(ids.Length, c.Count);
                for (int i = 0; i < ids.Length; i++)
                    Assert.True(expected.Row(i).SequenceEqual(c.Get(ids[i])!.Vector), $"{name}: id {ids[i]} differs from the previous release's export");
                Assert.True(c.GetStats().Trained);
                // The index survived the migration: a stored vector finds itself.
                Assert.Equal(ids[7], c.Search(expected.Row(7), new SearchOptions { K = 1, Rerank = 10 })[0].Id);
                string cdir = Path.Combine(dir, "collections", name);
                Assert.Single(Directory.GetFiles(cdir, "seg-*.vsg"));
                var snap = Directory.GetFiles(cdir, "snap-*.vss").Single();
                Assert.Equal(SnapshotFile.FormatVersion, BitConverter.ToUInt32(File.ReadAllBytes(snap), 8));
            }
            Assert.Equal(Manifest.FormatVersion, BitConverter.ToUInt32(File.ReadAllBytes(Path.Combine(dir, "MANIFEST")), 8));
        }
    }
}
