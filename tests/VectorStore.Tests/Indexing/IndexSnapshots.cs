using VectorStore.Indexing;

namespace VectorStore.Tests.Indexing;

/// <summary>An index's snapshot bytes (as a checkpoint writes them) and the index read back from them.</summary>
public static class IndexSnapshots
{
    public static byte[] Snapshot(VectorIndex index)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) IndexRegistry.Write(index, w);
        return ms.ToArray();
    }

    public static VectorIndex Restore(byte[] bytes)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        return IndexRegistry.Read(r);
    }
}
