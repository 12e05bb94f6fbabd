using System.IO.Hashing;
using System.Text;

namespace VectorStore.VectorData;

/// <summary>
/// Maps a VectorData key to the engine's <see cref="ulong"/> id. <see cref="ulong"/> keys are the id; <see cref="Guid"/>
/// and <see cref="string"/> keys are hashed (XxHash64) and also stored in the record's payload, so a read verifies
/// that the id holds this very key and a write refuses to replace a different key that hashed alike.
/// </summary>
internal static class RecordKeys
{
    /// <summary>The engine id of <paramref name="key"/>, and its text form when it is hashed (null for ulong keys).</summary>
    public static (ulong Id, string? Stored) Map(object key) => key switch
    {
        ulong u => (u, null),
        Guid g => (Hash("g:" + g.ToString("D")), g.ToString("D")),
        string s => (Hash("s:" + s), s),
        null => throw new ArgumentNullException(nameof(key)),
        _ => throw new NotSupportedException($"key type {key.GetType().Name} is not supported; use ulong, Guid or string"),
    };

    /// <summary>The key object of type <paramref name="keyType"/> for a stored id / text.</summary>
    public static object FromStored(Type keyType, ulong id, string? stored)
    {
        if (keyType == typeof(ulong)) return id;
        if (stored is null) throw new InvalidOperationException($"record {id} has no stored key");
        if (keyType == typeof(Guid)) return Guid.Parse(stored);
        if (keyType == typeof(string)) return stored;
        throw new NotSupportedException($"key type {keyType.Name} is not supported; use ulong, Guid or string");
    }

    private static ulong Hash(string text) => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(text));
}
