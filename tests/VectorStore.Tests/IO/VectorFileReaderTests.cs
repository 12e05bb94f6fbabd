using VectorStore.Evaluation;
using VectorStore.IO;
using Xunit;

namespace VectorStore.Tests.IO;

/// <summary>
/// The block-at-a-time reader <c>load</c> streams files through: any range of rows reads as the same rows of a whole-file
/// read, across the reader's internal block boundary, concurrently, and every malformation names its row.
/// </summary>
public sealed class VectorFileReaderTests : IDisposable
{
    private readonly string _dir = TestData.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>3,000 rows of 100 dimensions: 1.2 MB, so reads cross the reader's 1 MiB block.</summary>
    private static VectorMatrix Big() => SyntheticData.Clustered(3_000, 100, seed: 9);

    [Theory]
    [InlineData("f.fvecs", false)]
    [InlineData("f.npy", false)]
    [InlineData("h.npy", true)]
    public void AnyRangeReadsAsTheSameRowsOfAWholeFileRead(string name, bool half)
    {
        var m = Big();
        var path = Path.Combine(_dir, name);
        if (name.EndsWith(".npy")) VectorFiles.WriteNpy(path, m, half); else VectorFiles.WriteFvecs(path, m);
        var whole = VectorFiles.ReadVectors(path);
        using var reader = VectorFileReader.Open(path);
        Assert.Equal((m.Count, m.Dimension), (reader.Count, reader.Dimension));
        reader.Validate();
        foreach (var (start, count) in new[] { (0, 3_000), (0, 1), (2_999, 1), (1_000, 1_700), (2_621, 5), (17, 0) })
        {
            var part = new VectorMatrix(count, m.Dimension);
            reader.ReadRows(start, part);
            Assert.Equal(whole.Slice(start, count).Data, part.Data);
        }
    }

    [Fact]
    public void ConcurrentReadsGetTheirOwnRows()
    {
        var m = Big();
        var path = Path.Combine(_dir, "c.fvecs");
        VectorFiles.WriteFvecs(path, m);
        using var reader = VectorFileReader.Open(path);
        Parallel.For(0, 300, new ParallelOptions { MaxDegreeOfParallelism = 4 }, b =>
        {
            var part = new VectorMatrix(10, m.Dimension);
            reader.ReadRows(b * 10, part);
            Assert.Equal(m.Slice(b * 10, 10).Data, part.Data);
        });
    }

    [Fact]
    public void RangesOutsideTheFileAndOtherDimensionsAreRefused()
    {
        var path = Path.Combine(_dir, "s.fvecs");
        VectorFiles.WriteFvecs(path, SyntheticData.Clustered(10, 4, seed: 1));
        using var reader = VectorFileReader.Open(path);
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadRows(8, new VectorMatrix(3, 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadRows(-1, new VectorMatrix(1, 4)));
        Assert.Throws<ArgumentException>(() => reader.ReadRows(0, new VectorMatrix(1, 5)));
    }

    /// <summary>A bad value or row header past the first block is found by <see cref="VectorFileReader.Validate"/>, named by its row.</summary>
    [Fact]
    public void ValidateNamesAMalformedRowNearTheEnd()
    {
        var m = Big();
        m[2_990][7] = float.PositiveInfinity;
        var path = Path.Combine(_dir, "inf.fvecs");
        VectorFiles.WriteFvecs(path, m);
        using (var reader = VectorFileReader.Open(path))
        {
            var e = Assert.Throws<VectorFileException>(() => reader.Validate());
            Assert.Equal((path, 2_990L), (e.Path, e.Row));
            Assert.Contains("non-finite value", e.Message);
            reader.Validate(allowNonFinite: true);
        }

        // A row header that says 99 where every other says 100 (the same byte size: only the header tells).
        m[2_990][7] = 0;
        VectorFiles.WriteFvecs(path, m);
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            fs.Position = 2_500L * (4 + 4 * 100);
            fs.Write(BitConverter.GetBytes(99));
        }
        using (var reader = VectorFileReader.Open(path))
        {
            var e = Assert.Throws<VectorFileException>(() => reader.Validate());
            Assert.Equal(2_500L, e.Row);
            Assert.Contains("dimension 99 differs from the first row's 100", e.Message);
        }
    }

    /// <summary>An .npy header cut off inside a value is a typed error, not an index exception.</summary>
    [Theory]
    [InlineData("{'descr': '<f4")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4")]
    [InlineData("{'descr'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1000000000), }")] // a crafted width must not size buffers
    public void AnUnclosedNpyHeaderValueIsATypedError(string header)
    {
        var path = Path.Combine(_dir, "cut.npy");
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 };
        bytes.AddRange(BitConverter.GetBytes((ushort)header.Length));
        bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(header));
        File.WriteAllBytes(path, bytes.ToArray());
        var e = Assert.Throws<VectorFileException>(() => VectorFileReader.Open(path));
        Assert.Equal(path, e.Path);
    }
}
