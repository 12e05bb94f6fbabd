using System.IO.Hashing;

namespace VectorStore.Storage;

/// <summary>A write-only pass-through stream that hashes (xxHash64) and counts every byte. Not thread-safe.</summary>
internal sealed class HashingStream(Stream inner) : Stream
{
    private readonly XxHash64 _hash = new();

    public long Written { get; private set; }

    public ulong Hash => _hash.GetCurrentHashAsUInt64();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.Append(buffer);
        inner.Write(buffer);
        Written += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush() => inner.Flush();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => Written;

    public override long Position { get => Written; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
