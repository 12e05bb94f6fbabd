using Microsoft.Extensions.VectorData.ProviderServices;
using VectorStore.Filtering;

namespace VectorStore.VectorData;

/// <summary>
/// The engine fields of a record model: every data property marked <c>IsIndexed</c> becomes a declared field named
/// by its storage name, so filters on it are answered by the engine's field indexes. Builds the definitions at
/// collection creation, a record's values at upsert, and a filter literal's value at translation, with one type
/// mapping for all three so what is stored and what is compared cannot disagree. Thread-safety: immutable.
/// </summary>
/// <remarks>
/// Mapping: <c>string</c> → keyword; <c>string[]</c>, <c>List&lt;string&gt;</c>, <c>IEnumerable&lt;string&gt;</c> →
/// tags; <c>int</c>, <c>long</c>, <c>short</c> → int; <c>float</c>, <c>double</c> → double; <c>bool</c> → bool;
/// <c>DateTime</c>, <c>DateTimeOffset</c> → timestamp (UTC; a <c>DateTime</c> of unspecified kind is taken as UTC,
/// a local one converted; microsecond resolution). A null value is stored as no value: every comparison with it is
/// false and <c>!=</c> true, as in C#.
/// </remarks>
internal sealed class RecordFields
{
    /// <summary>The types an indexed property may have, for error messages.</summary>
    public const string IndexableTypes =
        "string (keyword), string[] / List<string> / IEnumerable<string> (tags), int / long / short (int), float / double (double), bool, DateTime / DateTimeOffset (timestamp), and their nullable forms";

    private readonly (DataPropertyModel Property, FieldDefinition Field)[] _indexed;
    private readonly Dictionary<PropertyModel, FieldDefinition> _byProperty = new(ReferenceEqualityComparer.Instance);

    public RecordFields(CollectionModel model)
    {
        var indexed = new List<(DataPropertyModel, FieldDefinition)>();
        foreach (var p in model.DataProperties)
        {
            if (!p.IsIndexed) continue;
            var type = TypeOf(p.Type)
                ?? throw new NotSupportedException($"data property '{p.ModelName}' is marked IsIndexed, but VectorStore cannot index a {p.Type.Name}; indexable types: {IndexableTypes}");
            if (!FieldDefinition.IsValidName(p.StorageName))
                throw new NotSupportedException($"indexed data property '{p.ModelName}' has the storage name '{p.StorageName}', which is not a valid VectorStore field name " +
                    $"(1..{FieldDefinition.MaxNameLength} letters, digits, '_', '-' or '.', starting with a letter or '_'); give it a StorageName that is");
            var field = new FieldDefinition(p.StorageName, type);
            indexed.Add((p, field));
            _byProperty.Add(p, field);
        }
        if (indexed.Count > FieldDefinition.MaxFields)
            throw new NotSupportedException($"the record has {indexed.Count} indexed data properties; a VectorStore collection declares at most {FieldDefinition.MaxFields} fields");
        _indexed = indexed.ToArray();
        Definitions = _indexed.Length == 0 ? null : _indexed.Select(x => x.Field).ToArray();
    }

    /// <summary>The collection's field definitions, in property order; null when no property is indexed.</summary>
    public IReadOnlyList<FieldDefinition>? Definitions { get; }

    /// <summary>The field of an indexed data property; null for any other property.</summary>
    public FieldDefinition? FieldOf(PropertyModel property) => _byProperty.GetValueOrDefault(property);

    /// <summary>The engine field type of an indexable property type; null when the type cannot be a field.</summary>
    public static FieldType? TypeOf(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string)) return FieldType.Keyword;
        if (t == typeof(string[]) || t == typeof(List<string>) || t == typeof(IEnumerable<string>)) return FieldType.Tags;
        if (t == typeof(int) || t == typeof(long) || t == typeof(short)) return FieldType.Int;
        if (t == typeof(float) || t == typeof(double)) return FieldType.Double;
        if (t == typeof(bool)) return FieldType.Bool;
        if (t == typeof(DateTime) || t == typeof(DateTimeOffset)) return FieldType.Timestamp;
        return null;
    }

    /// <summary>
    /// The field values of <paramref name="record"/> (absent for null values); null when no property is indexed. A
    /// value the engine cannot hold (NaN or an infinity, an over-long keyword, a null tag) is an
    /// <see cref="InvalidArgumentException"/> naming the property.
    /// </summary>
    public IReadOnlyDictionary<string, FieldValue>? ValuesOf(object record)
    {
        if (_indexed.Length == 0) return null;
        var values = new Dictionary<string, FieldValue>(_indexed.Length, StringComparer.Ordinal);
        foreach (var (property, field) in _indexed)
        {
            var value = property.GetValueAsObject(record);
            if (value is null) continue;
            try
            {
                values.Add(field.Name, ValueOf(field.Type, value));
            }
            catch (Exception e) when (e is InvalidArgumentException or ArgumentException)
            {
                throw new InvalidArgumentException($"indexed data property '{property.ModelName}': {e.Message}");
            }
        }
        return values;
    }

    /// <summary>
    /// <paramref name="value"/> (a filter's constant) as a literal of <paramref name="field"/>, or a
    /// <see cref="NotSupportedException"/> when no literal of the field's type means the same comparison.
    /// </summary>
    public static FieldValue Literal(FieldDefinition field, string propertyName, object value)
    {
        FieldValue? literal = (field.Type, value) switch
        {
            (FieldType.Keyword or FieldType.Tags, string s) => FieldValue.Keyword(s), // for tags: one tag of an in-list
            (FieldType.Bool, bool b) => FieldValue.Bool(b),
            (FieldType.Timestamp, DateTime or DateTimeOffset) => ValueOf(FieldType.Timestamp, value),
            (FieldType.Int, _) => IntegerOf(value) is { } i ? FieldValue.Int(i) : (FieldValue?)null,
            (FieldType.Double, _) => DoubleOf(value) is { } d && double.IsFinite(d) ? FieldValue.Double(d) : (FieldValue?)null,
            _ => (FieldValue?)null,
        };
        return literal ?? throw new NotSupportedException(
            $"property '{propertyName}' is a {field.Type.Name()} field and cannot be compared with the {value.GetType().Name} value {value} in a VectorStore filter");
    }

    private static FieldValue ValueOf(FieldType type, object value) => (type, value) switch
    {
        (FieldType.Keyword, string s) => FieldValue.Keyword(s),
        (FieldType.Tags, IEnumerable<string> tags) => FieldValue.Tags(tags),
        (FieldType.Int, int or long or short) => FieldValue.Int(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)),
        (FieldType.Double, float f) => FieldValue.Double(f),
        (FieldType.Double, double d) => FieldValue.Double(d),
        (FieldType.Bool, bool b) => FieldValue.Bool(b),
        (FieldType.Timestamp, DateTimeOffset t) => FieldValue.Timestamp(t),
        (FieldType.Timestamp, DateTime t) => FieldValue.Timestamp(new DateTimeOffset(t.Kind switch
        {
            DateTimeKind.Local => t.ToUniversalTime(),
            _ => DateTime.SpecifyKind(t, DateTimeKind.Utc),
        })),
        _ => throw new InvalidArgumentException($"a {value.GetType().Name} value cannot be stored in a {type.Name()} field"),
    };

    /// <summary>An integral constant, or a float/double holding an integer exactly (C# widened the property to compare with it).</summary>
    private static long? IntegerOf(object value) => value switch
    {
        sbyte or byte or short or ushort or int or uint or long => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        ulong u => u <= long.MaxValue ? (long)u : null,
        // 2^53: beyond it a double no longer tells neighbouring integers apart, so the comparison would not be exact.
        double d when Math.Abs(d) <= 9007199254740992.0 && d == Math.Floor(d) => (long)d,
        float f when Math.Abs(f) <= 16777216f && f == MathF.Floor(f) => (long)f,
        _ => null,
    };

    private static double? DoubleOf(object value) => value switch
    {
        float f => f,
        double d => d,
        decimal m => (double)m,
        sbyte or byte or short or ushort or int or uint or long or ulong => Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };
}
