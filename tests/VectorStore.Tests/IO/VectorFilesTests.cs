using VectorStore.Evaluation;
using VectorStore.IO;
using Xunit;

namespace VectorStore.Tests.IO;

public class VectorFilesTests
{
    private readonly string _dir = TestData.TempDir();

    [Fact]
    public void FvecsRoundTripsBitIdentically()
    {
        var m = SyntheticData.Clustered(50, 12, seed: 3);
        var path = Path.Combine(_dir, "a.fvecs");
        VectorFiles.WriteFvecs(path, m);
        var back = VectorFiles.ReadVectors(path);
        Assert.Equal(m.Data, back.Data);
        Assert.Equal(12, back.Dimension);
        Assert.Equal(10, VectorFiles.ReadFvecs(path, maxRows: 10).Count);
    }

    [Fact]
    public void NpyRoundTripsFloat32AndFloat16()
    {
        var m = SyntheticData.Clustered(40, 10, seed: 4);
        var p32 = Path.Combine(_dir, "a.npy");
        var p16 = Path.Combine(_dir, "h.npy");
        VectorFiles.WriteNpy(p32, m);
        VectorFiles.WriteNpy(p16, m, half: true);
        Assert.Equal(m.Data, VectorFiles.ReadVectors(p32).Data);
        var h = VectorFiles.ReadVectors(p16);
        for (int i = 0; i < m.Data.Length; i++) Assert.Equal((float)(Half)m.Data[i], h.Data[i]);
    }

    [Fact]
    public void NpyReadsFromAStreamAsFromAFileAndNamesTheStreamInErrors()
    {
        var m = SyntheticData.Clustered(30, 6, seed: 5);
        var path = Path.Combine(_dir, "s.npy");
        VectorFiles.WriteNpy(path, m, half: true);
        var bytes = File.ReadAllBytes(path);
        using (var stream = new MemoryStream(bytes))
        {
            var fromStream = VectorFiles.ReadNpy(stream, "resource:s.npy", maxRows: 20);
            Assert.Equal(VectorFiles.ReadNpy(path, maxRows: 20).Data, fromStream.Data);
            Assert.Equal(20, fromStream.Count);
        }
        using var truncated = new MemoryStream(bytes, 0, bytes.Length - 1);
        var e = Assert.Throws<VectorFileException>(() => VectorFiles.ReadNpy(truncated, "resource:s.npy"));
        Assert.Contains("resource:s.npy", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void IvecsRoundTrips()
    {
        var path = Path.Combine(_dir, "g.ivecs");
        VectorFiles.WriteIvecs(path, [[1, 2, 3], [4, 5, 6]]);
        var rows = VectorFiles.ReadIvecs(path);
        Assert.Equal([4, 5, 6], rows[1]);
    }

    [Fact]
    public void TruncatedFvecsNamesFileAndRow()
    {
        var path = Path.Combine(_dir, "t.fvecs");
        VectorFiles.WriteFvecs(path, SyntheticData.Clustered(5, 8, seed: 1));
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^3]);
        var e = Assert.Throws<VectorFileException>(() => VectorFiles.ReadVectors(path));
        Assert.Equal(path, e.Path);
        Assert.Equal(4, e.Row);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void MixedDimensionsAreRejectedWithRow()
    {
        var path = Path.Combine(_dir, "mixed.fvecs");
        using (var w = new BinaryWriter(File.Create(path)))
        {
            w.Write(2); w.Write(1f); w.Write(2f);
            w.Write(2); w.Write(3f); w.Write(4f);
            w.Write(1); w.Write(5f); w.Write(6f); // same byte size, different dimension
        }
        var e = Assert.Throws<VectorFileException>(() => VectorFiles.ReadVectors(path));
        Assert.Equal(2, e.Row);
        Assert.Contains("dimension 1", e.Message);
    }

    /// <summary>Writes an .fvecs file of one row per entry of <paramref name="dims"/>, each that long.</summary>
    private string RaggedFvecs(string name, params int[] dims)
    {
        var path = Path.Combine(_dir, name);
        using var w = new BinaryWriter(File.Create(path));
        foreach (int d in dims)
        {
            w.Write(d);
            for (int j = 0; j < d; j++) w.Write((float)j);
        }
        return path;
    }

    /// <summary>
    /// A row of another dimension makes the file size no multiple of the first row's size; the error names that row,
    /// not a truncation at whatever row the size arithmetic points to.
    /// </summary>
    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void ADifferingDimensionIsNamedBeforeTruncation(int second)
    {
        var path = RaggedFvecs($"ragged{second}.fvecs", 4, second, 4);
        var e = Assert.Throws<VectorFileException>(() => VectorFiles.ReadVectors(path));
        Assert.Equal(1, e.Row);
        Assert.Contains($"dimension {second} differs from the first row's 4", e.Message);
        Assert.DoesNotContain("truncated", e.Message);
    }

    /// <summary>Rows that all agree but a short last one: that row is truncated (its header intact, or cut short too).</summary>
    [Theory]
    [InlineData(5)]
    [InlineData(2)]
    public void AShortLastRowIsTruncated(int cut)
    {
        var path = RaggedFvecs("short.fvecs", 4, 4, 4);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^(20 - cut)]);
        var e = Assert.Throws<VectorFileException>(() => VectorFiles.ReadVectors(path));
        Assert.Equal(2, e.Row);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void NonFiniteValuesAreRejectedUnlessAllowed()
    {
        var m = new VectorMatrix([1f, 2f, 3f, float.NaN, 5f, 6f], 3);
        var path = Path.Combine(_dir, "nan.fvecs");
        VectorFiles.WriteFvecs(path, m);
        var e = Assert.Throws<VectorFileException>(() => VectorFiles.ReadVectors(path));
        Assert.Equal(1, e.Row);
        Assert.True(float.IsNaN(VectorFiles.ReadVectors(path, allowNonFinite: true).Data[3]));
    }

    [Fact]
    public void MissingAndEmptyFilesAreTypedErrors()
    {
        Assert.Contains("not found", Assert.Throws<VectorFileException>(() => VectorFiles.ReadVectors(Path.Combine(_dir, "nope.fvecs"))).Message);
        var empty = Path.Combine(_dir, "empty.fvecs");
        File.WriteAllBytes(empty, []);
        Assert.Throws<VectorFileException>(() => VectorFiles.ReadVectors(empty));
        var badNpy = Path.Combine(_dir, "bad.npy");
        File.WriteAllBytes(badNpy, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        Assert.Contains("magic", Assert.Throws<VectorFileException>(() => VectorFiles.ReadVectors(badNpy)).Message);
    }

    [Fact]
    public void TruncatedIvecsIsRejected()
    {
        var path = Path.Combine(_dir, "t.ivecs");
        VectorFiles.WriteIvecs(path, [[1, 2, 3], [4, 5, 6]]);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^2]);
        Assert.Equal(1, Assert.Throws<VectorFileException>(() => VectorFiles.ReadIvecs(path)).Row);
    }
}
