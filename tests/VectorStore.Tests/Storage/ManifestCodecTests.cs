using System.Text;
using System.Text.Json;
using VectorStore.Storage;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// The manifest's compile-time JSON serializer (needed for trimming and NativeAOT) against the reflection serializer
/// it replaced: the same bytes on disk, and the same refusals. Named "Codec" so it also runs in the ARM64 pass.
/// </summary>
public class ManifestCodecTests
{
    private static ManifestBody Sample() => new()
    {
        Collections =
        [
            new ManifestCollection
            {
                Name = "docs \"ü\" 文", Directory = "c0", Dimension = 384, Metric = "cosine", Compression = "pca:128+pq:64x4",
                Index = "ivf:256,8", TrainingThreshold = 10_000, MaxTrainingSample = 50_000, Seed = 42,
                Snapshot = "snap-0000000003.vss", SnapshotLogAddress = 1L << 40, SnapshotSequence = 3,
            },
            new ManifestCollection
            {
                Name = "empty", Directory = "c1", Dimension = 2, Metric = "l2", Compression = "none", Index = "flat",
                TrainingThreshold = 0, MaxTrainingSample = 1, Seed = -1,
            },
        ],
    };

    private static string Body(string dir)
    {
        var bytes = File.ReadAllBytes(Path.Combine(dir, Manifest.FileName));
        return Encoding.UTF8.GetString(bytes, 16, bytes.Length - 20);
    }

    [Fact]
    public void BodyBytesEqualTheReflectionSerializers()
    {
        var dir = TestData.TempDir();
        var body = Sample();
        Manifest.Write(dir, body);
        string reflection = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(body, new JsonSerializerOptions { WriteIndented = false }));
        Assert.Equal(reflection, Body(dir));
        Assert.StartsWith("{\"collections\":[{\"name\":", Body(dir));
        Assert.Contains("\"snapshot\":null,\"snapshot_log_address\":0,", Body(dir));
    }

    [Fact]
    public void RoundTripsEveryField()
    {
        var dir = TestData.TempDir();
        var body = Sample();
        Manifest.Write(dir, body);
        var back = Manifest.Read(dir);
        Assert.NotNull(back);
        Assert.Equal(body.Collections, back.Collections);
    }

    [Fact]
    public void MissingRequiredFieldIsACorruptStore()
    {
        var dir = TestData.TempDir();
        Manifest.Write(dir, Sample());
        var path = Path.Combine(dir, Manifest.FileName);
        var json = Body(dir).Replace("\"dimension\":384,", "");
        var bytes = new byte[16 + Encoding.UTF8.GetByteCount(json) + 4];
        File.ReadAllBytes(path).AsSpan(0, 12).CopyTo(bytes);
        BitConverter.TryWriteBytes(bytes.AsSpan(12), bytes.Length - 20);
        Encoding.UTF8.GetBytes(json, bytes.AsSpan(16));
        Checksums.WriteCrc(bytes, bytes.Length - 4);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<StoreCorruptedException>(() => Manifest.Read(dir));
        Assert.Contains("dimension", e.Message);
    }
}
