using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace VectorStore.Protocol;

/// <summary>
/// Writes payload fields in wire order into a span sized beforehand (every message computes its exact size, so a
/// frame is written in one pass straight into the connection's output buffer).
/// </summary>
public ref struct WireWriter
{
    private readonly Span<byte> _dest;
    private int _pos;

    /// <summary>Writes into <paramref name="dest"/>.</summary>
    public WireWriter(Span<byte> dest)
    {
        _dest = dest;
        _pos = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Written => _pos;

    /// <summary>Encoded size of a <c>str16</c>; throws when the string is too long for the wire.</summary>
    public static int StrSize(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        if (n > ProtocolConstants.MaxStringBytes) throw new InvalidArgumentException($"string of {n} UTF-8 bytes exceeds the protocol limit {ProtocolConstants.MaxStringBytes}");
        return 2 + n;
    }

    /// <summary>A u8.</summary>
    public void U8(byte v) => _dest[_pos++] = v;

    /// <summary>A bool as u8 0/1.</summary>
    public void Bool(bool v) => _dest[_pos++] = v ? (byte)1 : (byte)0;

    /// <summary>A u16.</summary>
    public void U16(ushort v) { BinaryPrimitives.WriteUInt16LittleEndian(_dest[_pos..], v); _pos += 2; }

    /// <summary>A u32.</summary>
    public void U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(_dest[_pos..], v); _pos += 4; }

    /// <summary>An i32.</summary>
    public void I32(int v) { BinaryPrimitives.WriteInt32LittleEndian(_dest[_pos..], v); _pos += 4; }

    /// <summary>A u64.</summary>
    public void U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(_dest[_pos..], v); _pos += 8; }

    /// <summary>An i64.</summary>
    public void I64(long v) { BinaryPrimitives.WriteInt64LittleEndian(_dest[_pos..], v); _pos += 8; }

    /// <summary>An f32.</summary>
    public void F32(float v) { BinaryPrimitives.WriteSingleLittleEndian(_dest[_pos..], v); _pos += 4; }

    /// <summary>An f64.</summary>
    public void F64(double v) { BinaryPrimitives.WriteDoubleLittleEndian(_dest[_pos..], v); _pos += 8; }

    /// <summary>A <c>str16</c>.</summary>
    public void Str(string s)
    {
        int n = Encoding.UTF8.GetBytes(s, _dest[(_pos + 2)..]);
        BinaryPrimitives.WriteUInt16LittleEndian(_dest[_pos..], (ushort)n);
        _pos += 2 + n;
    }

    /// <summary>Raw bytes.</summary>
    public void Bytes(ReadOnlySpan<byte> b) { b.CopyTo(_dest[_pos..]); _pos += b.Length; }

    /// <summary>Little-endian f32 values.</summary>
    public void Floats(ReadOnlySpan<float> v) => Bytes(MemoryMarshal.AsBytes(v));

    /// <summary>Little-endian u64 values.</summary>
    public void U64s(ReadOnlySpan<ulong> v) => Bytes(MemoryMarshal.AsBytes(v));
}
