using System.Buffers.Binary;
using System.Text;

namespace VectorStore.Filtering;

/// <summary>
/// The stored form of one record's field values (data-format.md §4.9), used by log records and snapshots:
/// <c>u8 version</c> = 1, <c>u8 count</c>, then per value <c>u8 field</c> (its position among the collection's
/// declared fields) and the value by type. Thread-safety: stateless.
/// </summary>
internal static class FieldRecordCodec
{
    public const byte Version = 1;

    /// <summary>
    /// Checks <paramref name="values"/> against the declared fields (known names, matching types) and encodes them;
    /// null for no values. Throws <see cref="InvalidArgumentException"/> naming the record and field.
    /// </summary>
    public static byte[]? Encode(IReadOnlyList<FieldDefinition> fields, IReadOnlyDictionary<string, FieldValue>? values, ulong id)
    {
        if (values is null || values.Count == 0) return null;
        if (values.Count > fields.Count)
            throw new InvalidArgumentException($"id {id}: {values.Count} field values, but the collection declares {fields.Count} fields");
        var entries = new (int Index, FieldValue Value)[values.Count];
        int n = 0;
        foreach (var (name, value) in values)
        {
            int index = IndexOf(fields, name);
            if (index < 0)
                throw new InvalidArgumentException($"id {id}: field '{name}' is not declared by the collection (declared: {string.Join(", ", fields)})");
            if (value.Type != fields[index].Type)
                throw new InvalidArgumentException($"id {id}: field '{name}' is {fields[index].Type.Name()}, got a {(value.Type == 0 ? "missing" : value.Type.Name())} value");
            entries[n++] = (index, value);
        }
        // Declared order: equal records encode to equal bytes whatever the dictionary's order.
        Array.Sort(entries, (a, b) => a.Index.CompareTo(b.Index));
        return Encode(entries);
    }

    /// <summary>Encodes checked values, in ascending field order (a record's, or one slot's read back from columns).</summary>
    public static byte[] Encode(ReadOnlySpan<(int Index, FieldValue Value)> entries)
    {
        int size = 2;
        foreach (var e in entries) size += 1 + ValueSize(e.Value);
        var buffer = new byte[size];
        buffer[0] = Version;
        buffer[1] = (byte)entries.Length;
        int pos = 2;
        foreach (var (index, value) in entries)
        {
            buffer[pos++] = (byte)index;
            pos = WriteValue(buffer, pos, value);
        }
        return buffer;
    }

    /// <summary>
    /// Decodes a stored record; <paramref name="where"/> names the file in the <see cref="StoreCorruptedException"/>
    /// thrown for anything malformed (the container's checksum makes that a bug or a newer format, never silent).
    /// </summary>
    public static void Decode(ReadOnlySpan<byte> data, IReadOnlyList<FieldDefinition> fields, string where, Action<int, FieldValue> value)
    {
        try
        {
            if (data.Length < 2) throw new FormatException("truncated header");
            if (data[0] != Version) throw new FormatException($"field record version {data[0]} is not supported (this build reads {Version})");
            int count = data[1], pos = 2;
            for (int i = 0; i < count; i++)
            {
                int index = data[pos++];
                if (index >= fields.Count) throw new FormatException($"field {index} is not declared");
                value(index, ReadValue(data, ref pos, fields[index].Type));
            }
            if (pos != data.Length) throw new FormatException($"{data.Length - pos} trailing bytes");
        }
        catch (Exception e) when (e is FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException or InvalidArgumentException)
        {
            throw new StoreCorruptedException(where, $"field values are malformed: {e.Message}");
        }
    }

    private static int IndexOf(IReadOnlyList<FieldDefinition> fields, string name)
    {
        for (int i = 0; i < fields.Count; i++)
            if (string.Equals(fields[i].Name, name, StringComparison.Ordinal)) return i;
        return -1;
    }

    private static int ValueSize(FieldValue v) => v.Type switch
    {
        FieldType.Keyword => 2 + Encoding.UTF8.GetByteCount(v.AsKeyword()),
        FieldType.Tags => 2 + v.AsTags().Sum(t => 2 + Encoding.UTF8.GetByteCount(t)),
        FieldType.Bool => 1,
        _ => 8,
    };

    private static int WriteValue(byte[] b, int pos, FieldValue v)
    {
        switch (v.Type)
        {
            case FieldType.Keyword:
                return WriteString(b, pos, v.AsKeyword());
            case FieldType.Tags:
                var tags = v.AsTags();
                BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(pos), (ushort)tags.Count);
                pos += 2;
                foreach (var t in tags) pos = WriteString(b, pos, t);
                return pos;
            case FieldType.Int:
                BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(pos), v.AsInt());
                return pos + 8;
            case FieldType.Timestamp:
                BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(pos), v.AsTimestampMicros());
                return pos + 8;
            case FieldType.Double:
                BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(pos), v.AsDouble());
                return pos + 8;
            case FieldType.Bool:
                b[pos] = v.AsBool() ? (byte)1 : (byte)0;
                return pos + 1;
            default:
                throw new InvalidOperationException($"field value type {(int)v.Type}");
        }
    }

    private static int WriteString(byte[] b, int pos, string s)
    {
        int n = Encoding.UTF8.GetBytes(s, b.AsSpan(pos + 2));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(pos), (ushort)n);
        return pos + 2 + n;
    }

    private static FieldValue ReadValue(ReadOnlySpan<byte> d, ref int pos, FieldType type)
    {
        switch (type)
        {
            case FieldType.Keyword:
                return FieldValue.Keyword(ReadString(d, ref pos));
            case FieldType.Tags:
                int n = BinaryPrimitives.ReadUInt16LittleEndian(d[pos..]);
                pos += 2;
                if (n > FieldValue.MaxTags) throw new FormatException($"{n} tags");
                var tags = new string[n];
                for (int i = 0; i < n; i++) tags[i] = ReadString(d, ref pos);
                return FieldValue.Tags(tags);
            case FieldType.Bool:
                byte b = d[pos++];
                return b <= 1 ? FieldValue.Bool(b == 1) : throw new FormatException($"bool byte {b}");
            case FieldType.Int:
                pos += 8;
                return FieldValue.Int(BinaryPrimitives.ReadInt64LittleEndian(d[(pos - 8)..]));
            case FieldType.Timestamp:
                pos += 8;
                return FieldValue.TimestampMicros(BinaryPrimitives.ReadInt64LittleEndian(d[(pos - 8)..]));
            case FieldType.Double:
                pos += 8;
                return FieldValue.Double(BinaryPrimitives.ReadDoubleLittleEndian(d[(pos - 8)..]));
            default:
                throw new FormatException($"type {(int)type}");
        }
    }

    private static string ReadString(ReadOnlySpan<byte> d, ref int pos)
    {
        int n = BinaryPrimitives.ReadUInt16LittleEndian(d[pos..]);
        pos += 2;
        var s = Encoding.UTF8.GetString(d.Slice(pos, n));
        pos += n;
        return s;
    }
}
