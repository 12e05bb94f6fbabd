using VectorStore.Filtering;

namespace VectorStore.Protocol;

/// <summary>
/// Wire forms of field values, a record's field set and a collection's field declarations (data-format.md §5.7).
/// Decoders check every count against its limit and the bytes left before allocating and throw
/// <see cref="ProtocolException"/>; encoders throw <see cref="InvalidArgumentException"/> for values no decoder accepts.
/// Stateless, thread-safe.
/// </summary>
public static class FieldCodec
{
    /// <summary>Encoded size of <paramref name="value"/>.</summary>
    public static int ValueSize(FieldValue value) => 1 + value.Type switch
    {
        FieldType.Keyword => WireWriter.StrSize(value.AsKeyword()),
        FieldType.Tags => 2 + value.AsTags().Sum(WireWriter.StrSize),
        FieldType.Int or FieldType.Double or FieldType.Timestamp => 8,
        FieldType.Bool => 1,
        _ => throw new InvalidArgumentException("an uninitialized FieldValue cannot be sent"),
    };

    /// <summary>Writes <c>u8 type</c> then the type's form.</summary>
    public static void WriteValue(ref WireWriter w, FieldValue value)
    {
        w.U8((byte)value.Type);
        switch (value.Type)
        {
            case FieldType.Keyword: w.Str(value.AsKeyword()); break;
            case FieldType.Tags:
                var tags = value.AsTags();
                w.U16((ushort)tags.Count);
                foreach (var t in tags) w.Str(t);
                break;
            case FieldType.Int: w.I64(value.AsInt()); break;
            case FieldType.Double: w.F64(value.AsDouble()); break;
            case FieldType.Bool: w.Bool(value.AsBool()); break;
            case FieldType.Timestamp: w.I64(value.AsTimestampMicros()); break;
            default: throw new InvalidArgumentException("an uninitialized FieldValue cannot be sent");
        }
    }

    /// <summary>Reads one value; throws <see cref="ProtocolException"/>.</summary>
    public static FieldValue ReadValue(ref WireReader r, string field)
    {
        byte type = r.U8(field + " type");
        switch ((FieldType)type)
        {
            case FieldType.Keyword:
                return FieldValue.Keyword(r.Str(field, FieldValue.MaxStringBytes));
            case FieldType.Tags:
            {
                int n = r.U16(field + " tag count");
                if (n > FieldValue.MaxTags) throw new ProtocolException(ErrorCode.LimitExceeded, $"{field} holds {n} tags, the limit is {FieldValue.MaxTags}");
                if (n > r.Remaining / 2) throw new ProtocolException(ErrorCode.BadPayload, $"payload truncated: {field} announces {n} tags, {r.Remaining} bytes left");
                var tags = new string[n];
                for (int i = 0; i < n; i++) tags[i] = r.Str(field + " tag", FieldValue.MaxStringBytes);
                return FieldValue.Tags(tags);
            }
            case FieldType.Int:
                return FieldValue.Int(r.I64(field));
            case FieldType.Double:
            {
                double d = r.F64(field);
                return double.IsFinite(d) ? FieldValue.Double(d) : throw new ProtocolException(ErrorCode.BadPayload, $"{field} is not a finite double");
            }
            case FieldType.Bool:
                return FieldValue.Bool(r.Bool(field));
            case FieldType.Timestamp:
                return FieldValue.TimestampMicros(r.I64(field));
            default:
                throw new ProtocolException(ErrorCode.BadPayload, $"{field} has unknown type {type}");
        }
    }

    /// <summary>Encoded size of a field set (<c>u16 n</c>, n × (<c>str16 name</c>, value)); null or empty is 2 bytes.</summary>
    public static long FieldSetSize(IReadOnlyDictionary<string, FieldValue>? fields)
    {
        if (fields is null) return 2;
        if (fields.Count > FieldDefinition.MaxFields)
            throw new InvalidArgumentException($"a record carries at most {FieldDefinition.MaxFields} field values, got {fields.Count}");
        long size = 2;
        foreach (var (name, value) in fields) size += WireWriter.StrSize(name) + ValueSize(value);
        return size;
    }

    /// <summary>Writes a field set (null as empty).</summary>
    public static void WriteFieldSet(ref WireWriter w, IReadOnlyDictionary<string, FieldValue>? fields)
    {
        w.U16((ushort)(fields?.Count ?? 0));
        if (fields is null) return;
        foreach (var (name, value) in fields)
        {
            w.Str(name);
            WriteValue(ref w, value);
        }
    }

    /// <summary>Reads a field set: valid, distinct names; an empty set is <see cref="Collections.VectorRecord.EmptyFields"/>.</summary>
    public static IReadOnlyDictionary<string, FieldValue> ReadFieldSet(ref WireReader r)
    {
        int n = r.U16("field count");
        if (n == 0) return Collections.VectorRecord.EmptyFields;
        if (n > FieldDefinition.MaxFields) throw new ProtocolException(ErrorCode.LimitExceeded, $"a record carries {n} field values, the limit is {FieldDefinition.MaxFields}");
        var fields = new Dictionary<string, FieldValue>(n, StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            var name = ReadName(ref r);
            var value = ReadValue(ref r, $"field '{name}'");
            if (!fields.TryAdd(name, value)) throw new ProtocolException(ErrorCode.BadPayload, $"field '{name}' appears twice in one record");
        }
        return fields;
    }

    /// <summary>Encoded size of declarations (<c>u16 n</c>, n × (<c>str16 name</c>, <c>u8 type</c>)).</summary>
    public static int DefinitionsSize(IReadOnlyList<FieldDefinition>? fields)
    {
        FieldDefinition.ValidateAll(fields);
        int size = 2;
        if (fields is not null)
            foreach (var f in fields) size += WireWriter.StrSize(f.Name) + 1;
        return size;
    }

    /// <summary>Writes declarations (null as none).</summary>
    public static void WriteDefinitions(ref WireWriter w, IReadOnlyList<FieldDefinition>? fields)
    {
        w.U16((ushort)(fields?.Count ?? 0));
        if (fields is null) return;
        foreach (var f in fields)
        {
            w.Str(f.Name);
            w.U8((byte)f.Type);
        }
    }

    /// <summary>Reads declarations; none is null (as <see cref="Collections.CollectionOptions.Fields"/>' default).</summary>
    public static IReadOnlyList<FieldDefinition>? ReadDefinitions(ref WireReader r)
    {
        int n = r.U16("declared field count");
        if (n == 0) return null;
        if (n > FieldDefinition.MaxFields) throw new ProtocolException(ErrorCode.LimitExceeded, $"{n} declared fields, the limit is {FieldDefinition.MaxFields}");
        var defs = new FieldDefinition[n];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            var name = ReadName(ref r);
            byte type = r.U8("field type");
            if (!Enum.IsDefined((FieldType)type)) throw new ProtocolException(ErrorCode.BadPayload, $"field '{name}' has unknown type {type}");
            if (!seen.Add(name)) throw new ProtocolException(ErrorCode.BadPayload, $"field '{name}' is declared twice");
            defs[i] = new FieldDefinition(name, (FieldType)type);
        }
        return defs;
    }

    /// <summary>A <c>str16</c> that must be a valid field name.</summary>
    internal static string ReadName(ref WireReader r)
    {
        var name = r.Str("field name", FieldDefinition.MaxNameLength);
        return FieldDefinition.IsValidName(name) ? name : throw new ProtocolException(ErrorCode.BadPayload, $"'{name}' is not a valid field name");
    }
}
