using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace VectorStore.Protocol;

/// <summary>
/// Reads payload fields in wire order. Every read checks the remaining length first (in 64-bit arithmetic, so a
/// hostile count cannot overflow) and throws <see cref="ProtocolException"/> with <see cref="ErrorCode.BadPayload"/>
/// instead of reading past the end. Spans returned alias the payload.
/// </summary>
public ref struct WireReader
{
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    /// <summary>Reads from <paramref name="data"/>.</summary>
    public WireReader(ReadOnlySpan<byte> data)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the wire protocol requires a little-endian host");
        _data = data;
        _pos = 0;
    }

    /// <summary>Bytes not yet read.</summary>
    public readonly int Remaining => _data.Length - _pos;

    private ReadOnlySpan<byte> Take(long n, string field)
    {
        if (n < 0 || n > Remaining)
            throw new ProtocolException(ErrorCode.BadPayload, $"payload truncated: {field} needs {n} bytes, {Remaining} left");
        var s = _data.Slice(_pos, (int)n);
        _pos += (int)n;
        return s;
    }

    /// <summary>A u8.</summary>
    public byte U8(string field) => Take(1, field)[0];

    /// <summary>A u8 that must be 0 or 1.</summary>
    public bool Bool(string field)
    {
        byte b = U8(field);
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw new ProtocolException(ErrorCode.BadPayload, $"{field} must be 0 or 1, got {b}"),
        };
    }

    /// <summary>A u16.</summary>
    public ushort U16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field));

    /// <summary>A u32.</summary>
    public uint U32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));

    /// <summary>A u32 that must not exceed <paramref name="max"/> (≤ int.MaxValue); the error names the limit.</summary>
    public int Count(string field, int max)
    {
        uint v = U32(field);
        if (v > (uint)max) throw new ProtocolException(ErrorCode.LimitExceeded, $"{field} {v} exceeds the limit {max}");
        return (int)v;
    }

    /// <summary>An i32.</summary>
    public int I32(string field) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, field));

    /// <summary>A u64.</summary>
    public ulong U64(string field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

    /// <summary>An i64.</summary>
    public long I64(string field) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, field));

    /// <summary>An f32.</summary>
    public float F32(string field) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, field));

    /// <summary>An f64.</summary>
    public double F64(string field) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, field));

    /// <summary>A <c>str16</c>: u16 byte length (≤ <see cref="ProtocolConstants.MaxStringBytes"/>) then strict UTF-8.</summary>
    public string Str(string field) => Str(field, ProtocolConstants.MaxStringBytes);

    /// <summary>A <c>str16</c> of at most <paramref name="maxBytes"/> bytes.</summary>
    public string Str(string field, int maxBytes)
    {
        int n = U16(field);
        if (n > maxBytes)
            throw new ProtocolException(ErrorCode.LimitExceeded, $"{field} is {n} bytes, the limit is {maxBytes}");
        var bytes = Take(n, field);
        try
        {
            return s_strictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ProtocolException(ErrorCode.BadPayload, $"{field} is not valid UTF-8");
        }
    }

    /// <summary><paramref name="count"/> raw bytes.</summary>
    public ReadOnlySpan<byte> Bytes(long count, string field) => Take(count, field);

    /// <summary><paramref name="count"/> little-endian f32 values, aliasing the payload (alignment is not required).</summary>
    public ReadOnlySpan<float> Floats(long count, string field) => MemoryMarshal.Cast<byte, float>(Take(count * sizeof(float), field));

    /// <summary><paramref name="count"/> little-endian u64 values, aliasing the payload.</summary>
    public ReadOnlySpan<ulong> U64s(long count, string field) => MemoryMarshal.Cast<byte, ulong>(Take(count * sizeof(ulong), field));

    /// <summary>Throws unless every byte was read: trailing garbage is a protocol error, not something to ignore.</summary>
    public readonly void End()
    {
        if (Remaining != 0) throw new ProtocolException(ErrorCode.BadPayload, $"{Remaining} unexpected trailing payload bytes");
    }
}
