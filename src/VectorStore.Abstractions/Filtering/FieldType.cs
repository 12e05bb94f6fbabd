namespace VectorStore.Filtering;

/// <summary>The type of a declared metadata field (data-format.md §4.9 gives each its stored form).</summary>
public enum FieldType : byte
{
    /// <summary>One exact-match string per record (e.g. a category). Indexed as one bitmap per distinct value.</summary>
    Keyword = 1,

    /// <summary>A set of strings per record; matched with <c>contains</c>. Indexed as one bitmap per distinct tag.</summary>
    Tags = 2,

    /// <summary>A signed 64-bit integer. Indexed as a sorted column for ranges.</summary>
    Int = 3,

    /// <summary>A finite 64-bit float (NaN is refused). Indexed as a sorted column for ranges.</summary>
    Double = 4,

    /// <summary>True or false. Indexed as two bitmaps.</summary>
    Bool = 5,

    /// <summary>A UTC instant with microsecond resolution (stored as microseconds since the Unix epoch).</summary>
    Timestamp = 6,
}

/// <summary>Names of <see cref="FieldType"/> as the CLI and error messages spell them.</summary>
public static class FieldTypeNames
{
    /// <summary>The lower-case name (<c>keyword</c>, <c>tags</c>, <c>int</c>, <c>double</c>, <c>bool</c>, <c>timestamp</c>).</summary>
    public static string Name(this FieldType type) => type switch
    {
        FieldType.Keyword => "keyword",
        FieldType.Tags => "tags",
        FieldType.Int => "int",
        FieldType.Double => "double",
        FieldType.Bool => "bool",
        FieldType.Timestamp => "timestamp",
        _ => $"type {(int)type}",
    };

    /// <summary>Parses a lower-case name; throws <see cref="InvalidArgumentException"/> listing the accepted names.</summary>
    public static FieldType Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "keyword" => FieldType.Keyword,
        "tags" => FieldType.Tags,
        "int" => FieldType.Int,
        "double" => FieldType.Double,
        "bool" => FieldType.Bool,
        "timestamp" => FieldType.Timestamp,
        _ => throw new InvalidArgumentException($"unknown field type '{name}': expected keyword, tags, int, double, bool or timestamp"),
    };
}
