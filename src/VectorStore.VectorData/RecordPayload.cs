using System.Text.Json;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace VectorStore.VectorData;

/// <summary>
/// A record's data properties (and hashed key) as the engine payload: a UTF-8 JSON object
/// <c>{"key": "...", "data": {"storageName": value, ...}}</c>, written and read with a type switch (no reflection
/// serializer, so trimming- and AOT-safe). Supported types: <see cref="SupportedTypes"/>.
/// </summary>
internal static class RecordPayload
{
    public const string SupportedTypes = "string, bool, short, int, long, float, double, Guid, DateTime, DateTimeOffset, string[], List<string>, IEnumerable<string> (and their nullable forms)";

    public static bool IsSupported(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t == typeof(string) || t == typeof(bool) || t == typeof(short) || t == typeof(int) || t == typeof(long) || t == typeof(float) || t == typeof(double)
            || t == typeof(Guid) || t == typeof(DateTime) || t == typeof(DateTimeOffset) || t == typeof(string[]) || t == typeof(List<string>) || t == typeof(IEnumerable<string>);
    }

    public static byte[] Write(string? storedKey, IReadOnlyList<DataPropertyModel> properties, object record)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (storedKey is not null) w.WriteString("key", storedKey);
            w.WriteStartObject("data");
            foreach (var p in properties)
            {
                w.WritePropertyName(p.StorageName);
                WriteValue(w, p.GetValueAsObject(record));
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteValue(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case short h: w.WriteNumberValue(h); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            // JSON has no number for NaN or ±Infinity, which a C# float or double property may hold: those are written
            // as the strings "NaN", "Infinity", "-Infinity" (System.Text.Json's named floating-point literals).
            case float f when !float.IsFinite(f): w.WriteStringValue(NamedLiteral(f)); break;
            case double d when !double.IsFinite(d): w.WriteStringValue(NamedLiteral(d)); break;
            case float f: w.WriteNumberValue(f); break;
            case double d: w.WriteNumberValue(d); break;
            case Guid g: w.WriteStringValue(g); break;
            case DateTime dt: w.WriteStringValue(dt); break;
            case DateTimeOffset dto: w.WriteStringValue(dto); break;
            case IEnumerable<string> list:
                w.WriteStartArray();
                foreach (var s in list) w.WriteStringValue(s);
                w.WriteEndArray();
                break;
            default: throw new NotSupportedException($"data property value of type {value.GetType().Name} is not supported ({SupportedTypes})");
        }
    }

    private static string NamedLiteral(double value) =>
        double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";

    private static double FromNamedLiteral(JsonElement v) => v.GetString() switch
    {
        "NaN" => double.NaN,
        "Infinity" => double.PositiveInfinity,
        "-Infinity" => double.NegativeInfinity,
        var other => throw new FormatException($"'{other}' is neither a number nor NaN, Infinity or -Infinity"),
    };

    /// <summary>The stored key (null for ulong keys) of a payload written by <see cref="Write"/>.</summary>
    public static string? ReadKey(byte[] payload)
    {
        if (payload.Length == 0) return null;
        using var doc = JsonDocument.Parse(payload);
        return doc.RootElement.TryGetProperty("key", out var k) ? k.GetString() : null;
    }

    /// <summary>Sets every data property of <paramref name="record"/> from the payload (absent ones stay default).</summary>
    public static void Read(byte[] payload, IReadOnlyList<DataPropertyModel> properties, object record)
    {
        if (payload.Length == 0) return;
        using var doc = JsonDocument.Parse(payload);
        if (!doc.RootElement.TryGetProperty("data", out var data)) return;
        foreach (var p in properties)
            if (data.TryGetProperty(p.StorageName, out var v)) p.SetValueAsObject(record, ReadValue(v, p.Type));
    }

    private static object? ReadValue(JsonElement v, Type type)
    {
        if (v.ValueKind == JsonValueKind.Null) return null;
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string)) return v.GetString();
        if (t == typeof(bool)) return v.GetBoolean();
        if (t == typeof(short)) return v.GetInt16();
        if (t == typeof(int)) return v.GetInt32();
        if (t == typeof(long)) return v.GetInt64();
        if (t == typeof(float)) return v.ValueKind == JsonValueKind.String ? (float)FromNamedLiteral(v) : v.GetSingle();
        if (t == typeof(double)) return v.ValueKind == JsonValueKind.String ? FromNamedLiteral(v) : v.GetDouble();
        if (t == typeof(Guid)) return v.GetGuid();
        if (t == typeof(DateTime)) return v.GetDateTime();
        if (t == typeof(DateTimeOffset)) return v.GetDateTimeOffset();
        var strings = v.EnumerateArray().Select(e => e.GetString()!);
        if (t == typeof(string[]) || t == typeof(IEnumerable<string>)) return strings.ToArray();
        if (t == typeof(List<string>)) return strings.ToList();
        throw new NotSupportedException($"data property type {type.Name} is not supported ({SupportedTypes})");
    }
}
