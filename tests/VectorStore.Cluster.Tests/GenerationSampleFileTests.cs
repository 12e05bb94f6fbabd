using VectorStore.Cluster.Shards;
using Xunit;

namespace VectorStore.Cluster.Tests;

/// <summary>
/// The kept training sample of a cluster generation (data-format.md §6.3): what a copy gives a copy that lacks the
/// generation, whole (hash checked) or page by page (header checked), and refused, naming the file, when it is not
/// the sample asked for.
/// </summary>
[Trait("Category", "Cluster")]
public class GenerationSampleFileTests : IDisposable
{
    private const int Dim = 3;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "vectorstore-cluster-tests", Guid.NewGuid().ToString("N"));
    private readonly float[] _rows = Enumerable.Range(0, 10 * Dim).Select(i => i * 0.5f - 3).ToArray();

    public GenerationSampleFileTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private string Written()
    {
        string path = GenerationSampleFile.PathOf(_dir, "db.c.0.", 4);
        GenerationSampleFile.Write(path, 4, Dim, _rows);
        return path;
    }

    [Fact]
    public void RowsComeBackWholeAndPageByPage()
    {
        string path = Written();
        Assert.Equal(_rows, GenerationSampleFile.Read(path, 4, Dim));
        Assert.Equal(_rows.AsSpan(4 * Dim, 3 * Dim).ToArray(), GenerationSampleFile.ReadRows(path, 4, Dim, 4, 3));
        Assert.Equal(_rows.AsSpan(8 * Dim).ToArray(), GenerationSampleFile.ReadRows(path, 4, Dim, 8, 5)); // the last, short page
        Assert.Empty(GenerationSampleFile.ReadRows(path, 4, Dim, 10, 5)); // past the end
    }

    [Fact]
    public void AnotherGenerationOrDimensionIsRefusedNamingTheFile()
    {
        string path = Written();
        foreach (var read in new Func<float[]>[]
        {
            () => GenerationSampleFile.Read(path, 5, Dim),
            () => GenerationSampleFile.Read(path, 4, Dim + 1),
            () => GenerationSampleFile.ReadRows(path, 5, Dim, 1, 2),
            () => GenerationSampleFile.ReadRows(path, 4, Dim + 1, 1, 2),
        })
            Assert.Contains(path, Assert.Throws<InvalidOperationException>(read).Message);
    }

    [Fact]
    public void DamageIsRefused()
    {
        string path = Written();
        var bytes = File.ReadAllBytes(path);
        bytes[30] ^= 0x40; // a row value: only the whole file's hash sees it
        File.WriteAllBytes(path, bytes);
        Assert.Contains("damaged", Assert.Throws<InvalidOperationException>(() => GenerationSampleFile.Read(path, 4, Dim)).Message);

        bytes = File.ReadAllBytes(Written());
        bytes[8] ^= 1; // the format version
        File.WriteAllBytes(path, bytes);
        Assert.Contains("damaged", Assert.Throws<InvalidOperationException>(() => GenerationSampleFile.Read(path, 4, Dim)).Message);
        Assert.Contains("damaged", Assert.Throws<InvalidOperationException>(() => GenerationSampleFile.ReadRows(path, 4, Dim, 1, 2)).Message);

        File.WriteAllBytes(path, File.ReadAllBytes(Written())[..^4]); // cut short
        Assert.Contains("damaged", Assert.Throws<InvalidOperationException>(() => GenerationSampleFile.Read(path, 4, Dim)).Message);
        Assert.Contains("damaged", Assert.Throws<InvalidOperationException>(() => GenerationSampleFile.ReadRows(path, 4, Dim, 1, 2)).Message);
    }

    [Fact]
    public void AMissingFileIsRefusedNamingIt()
    {
        string path = GenerationSampleFile.PathOf(_dir, "db.c.0.", 9);
        Assert.Contains(path, Assert.Throws<InvalidOperationException>(() => GenerationSampleFile.Read(path, 9, Dim)).Message);
        Assert.Contains(path, Assert.Throws<InvalidOperationException>(() => GenerationSampleFile.ReadRows(path, 9, Dim, 0, 1)).Message);
    }
}
