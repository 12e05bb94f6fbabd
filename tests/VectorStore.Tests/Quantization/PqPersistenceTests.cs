using VectorStore.Collections;
using VectorStore.Quantization;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Quantization;

/// <summary>PQ codebooks survive a snapshot and PQ codes a log replay: reopened collections search identically.</summary>
public class PqPersistenceTests
{
    [Theory]
    [InlineData("pq:4")]
    [InlineData("pq:8x4")]
    [InlineData("opq+pq:8x4")]
    public void ReopenAfterSnapshotAndLogTailSearchesIdentically(string compression)
    {
        var dir = TestData.TempDir();
        var db = Open(dir);
        var c = db.CreateCollection("c", Options(dim: 16, threshold: 400, compression: compression));
        var m = Vectors(900, 16, 5);
        Load(c, m.Slice(0, 600), 0, 100);
        db.Compact("c");
        Load(c, m.Slice(600, 300), 600, 100);
        Assert.Equal(compression, c.GetStats().Compression);
        var query = m.Row(11).ToArray();
        var options = new SearchOptions { K = 20 };
        var before = c.Search(query, options);
        var reranked = c.Search(query, options with { Rerank = 60 });
        var codec = Serialize(c.Index!.Codec);
        Crash(db);
        using var db2 = Open(dir);
        var c2 = db2.GetCollection("c");
        Assert.Equal(codec, Serialize(c2.Index!.Codec));
        Assert.Equal(before, c2.Search(query, options));
        Assert.Equal(reranked, c2.Search(query, options with { Rerank = 60 }));
    }

    private static byte[] Serialize(VectorCodec codec)
    {
        var ms = new MemoryStream();
        CodecRegistry.Write(codec, new BinaryWriter(ms));
        return ms.ToArray();
    }
}
