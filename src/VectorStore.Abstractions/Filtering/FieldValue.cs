using System.Globalization;
using System.Text;

namespace VectorStore.Filtering;

/// <summary>
/// One typed value of a metadata field, or a literal in a filter expression. Immutable; compared by value.
/// </summary>
/// <remarks>
/// Limits keep a hostile record or request bounded: a keyword or tag is at most <see cref="MaxStringBytes"/> UTF-8
/// bytes, a tags value holds at most <see cref="MaxTags"/> distinct tags (duplicates are dropped, order kept).
/// </remarks>
public readonly struct FieldValue : IEquatable<FieldValue>
{
    /// <summary>Longest keyword or tag, in UTF-8 bytes.</summary>
    public const int MaxStringBytes = 1024;

    /// <summary>Most tags in one value.</summary>
    public const int MaxTags = 256;

    private readonly long _bits;
    private readonly object? _ref;

    private FieldValue(FieldType type, long bits, object? reference)
    {
        Type = type;
        _bits = bits;
        _ref = reference;
    }

    /// <summary>The value's type (default(FieldValue) has type 0 and is not a valid value).</summary>
    public FieldType Type { get; }

    /// <summary>A keyword.</summary>
    public static FieldValue Keyword(string value) => new(FieldType.Keyword, 0, CheckString(value, "keyword"));

    /// <summary>A set of tags (duplicates dropped, first occurrence order kept).</summary>
    public static FieldValue Tags(params IEnumerable<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var list = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tags)
        {
            CheckString(t, "tag");
            if (seen.Add(t))
            {
                if (list.Count == MaxTags) throw new InvalidArgumentException($"a tags value holds at most {MaxTags} distinct tags");
                list.Add(t);
            }
        }
        return new(FieldType.Tags, 0, list.ToArray());
    }

    /// <summary>A 64-bit integer.</summary>
    public static FieldValue Int(long value) => new(FieldType.Int, value, null);

    /// <summary>A finite double (NaN and infinities are refused).</summary>
    public static FieldValue Double(double value)
    {
        if (!double.IsFinite(value)) throw new InvalidArgumentException($"a double field value must be finite, got {value}");
        // -0.0 and 0.0 are one value: ranges and equality must not tell them apart.
        return new(FieldType.Double, BitConverter.DoubleToInt64Bits(value == 0 ? 0.0 : value), null);
    }

    /// <summary>A boolean.</summary>
    public static FieldValue Bool(bool value) => new(FieldType.Bool, value ? 1 : 0, null);

    /// <summary>An instant, kept at microsecond resolution in UTC.</summary>
    public static FieldValue Timestamp(DateTimeOffset value) =>
        new(FieldType.Timestamp, (value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (TimeSpan.TicksPerMillisecond / 1000), null);

    /// <summary>An instant given as microseconds since the Unix epoch (the stored form).</summary>
    public static FieldValue TimestampMicros(long micros) => new(FieldType.Timestamp, micros, null);

    /// <summary>The keyword (type <see cref="FieldType.Keyword"/>).</summary>
    public string AsKeyword() => Type == FieldType.Keyword ? (string)_ref! : throw WrongType(FieldType.Keyword);

    /// <summary>The tags (type <see cref="FieldType.Tags"/>).</summary>
    public IReadOnlyList<string> AsTags() => Type == FieldType.Tags ? (string[])_ref! : throw WrongType(FieldType.Tags);

    /// <summary>The integer (type <see cref="FieldType.Int"/>).</summary>
    public long AsInt() => Type == FieldType.Int ? _bits : throw WrongType(FieldType.Int);

    /// <summary>The double (type <see cref="FieldType.Double"/>).</summary>
    public double AsDouble() => Type == FieldType.Double ? BitConverter.Int64BitsToDouble(_bits) : throw WrongType(FieldType.Double);

    /// <summary>The boolean (type <see cref="FieldType.Bool"/>).</summary>
    public bool AsBool() => Type == FieldType.Bool ? _bits != 0 : throw WrongType(FieldType.Bool);

    /// <summary>Microseconds since the Unix epoch (type <see cref="FieldType.Timestamp"/>).</summary>
    public long AsTimestampMicros() => Type == FieldType.Timestamp ? _bits : throw WrongType(FieldType.Timestamp);

    /// <summary>The instant (type <see cref="FieldType.Timestamp"/>).</summary>
    public DateTimeOffset AsTimestamp()
    {
        long micros = AsTimestampMicros();
        return DateTimeOffset.UnixEpoch.AddTicks(checked(micros * (TimeSpan.TicksPerMillisecond / 1000)));
    }

    /// <summary>
    /// The value as the filter language writes a literal: <c>'text'</c>, <c>42</c>, <c>1.5</c>, <c>true</c>,
    /// <c>timestamp('2024-05-01T12:00:00.000000Z')</c>; a tag set as <c>('a', 'b')</c> (not a filter literal).
    /// </summary>
    public override string ToString() => Type switch
    {
        FieldType.Keyword => Quote((string)_ref!),
        FieldType.Tags => "(" + string.Join(", ", ((string[])_ref!).Select(Quote)) + ")",
        FieldType.Int => _bits.ToString(CultureInfo.InvariantCulture),
        FieldType.Double => FormatDouble(AsDouble()),
        FieldType.Bool => _bits != 0 ? "true" : "false",
        FieldType.Timestamp => "timestamp(" + Quote(FormatTimestamp(AsTimestampMicros())) + ")",
        _ => "(invalid)",
    };

    /// <summary>A single-quoted string literal; a quote inside is doubled (<c>'it''s'</c>).</summary>
    public static string Quote(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static readonly string[] s_isoFormats =
    [
        "yyyy-MM-dd", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mmK", "yyyy-MM-dd HH:mm:ssK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
    ];

    /// <summary>
    /// ISO 8601 UTC with six fractional digits, for microseconds since the epoch. Values beyond what
    /// <see cref="DateTimeOffset"/> holds (years outside 1..9999) are written as <c>@micros</c>, which
    /// <see cref="ParseTimestamp"/> reads back, so every stored value has a text form.
    /// </summary>
    public static string FormatTimestamp(long micros)
    {
        const long minMicros = -62135596800_000000L, maxMicros = 253402300799_999999L;
        if (micros is < minMicros or > maxMicros) return "@" + micros.ToString(CultureInfo.InvariantCulture);
        return DateTimeOffset.UnixEpoch.AddTicks(micros * (TimeSpan.TicksPerMillisecond / 1000))
            .ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Reads an ISO 8601 instant (a date, or date and time with an optional offset; no offset means UTC) or
    /// <c>@micros</c>; throws <see cref="InvalidArgumentException"/>.
    /// </summary>
    public static FieldValue ParseTimestamp(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.StartsWith('@') && long.TryParse(text.AsSpan(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long micros))
            return TimestampMicros(micros);
        if (DateTimeOffset.TryParseExact(text.Trim(), s_isoFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
            return Timestamp(t);
        throw new InvalidArgumentException($"'{text}' is not an ISO 8601 timestamp (e.g. 2024-05-01 or 2024-05-01T12:00:00Z)");
    }

    private static string FormatDouble(double d)
    {
        // Always with a '.' or exponent so the literal parses back as a double, not an int.
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s : s + ".0";
    }

    private InvalidArgumentException WrongType(FieldType wanted) =>
        new($"the value is {Type.Name()}, not {wanted.Name()}");

    private static string CheckString(string value, string what)
    {
        ArgumentNullException.ThrowIfNull(value, what);
        if (Encoding.UTF8.GetByteCount(value) > MaxStringBytes)
            throw new InvalidArgumentException($"a {what} is at most {MaxStringBytes} UTF-8 bytes, got {Encoding.UTF8.GetByteCount(value)}");
        return value;
    }

    /// <inheritdoc/>
    public bool Equals(FieldValue other)
    {
        if (Type != other.Type || _bits != other._bits) return false;
        return Type switch
        {
            FieldType.Keyword => string.Equals((string?)_ref, (string?)other._ref, StringComparison.Ordinal),
            FieldType.Tags => ((string[])_ref!).AsSpan().SequenceEqual((string[])other._ref!),
            _ => true,
        };
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is FieldValue v && Equals(v);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Type);
        h.Add(_bits);
        if (_ref is string s) h.Add(s, StringComparer.Ordinal);
        else if (_ref is string[] tags) foreach (var t in tags) h.Add(t, StringComparer.Ordinal);
        return h.ToHashCode();
    }

    /// <summary>A keyword.</summary>
    public static implicit operator FieldValue(string value) => Keyword(value);

    /// <summary>An int.</summary>
    public static implicit operator FieldValue(long value) => Int(value);

    /// <summary>A double.</summary>
    public static implicit operator FieldValue(double value) => Double(value);

    /// <summary>A bool.</summary>
    public static implicit operator FieldValue(bool value) => Bool(value);

    /// <summary>A timestamp.</summary>
    public static implicit operator FieldValue(DateTimeOffset value) => Timestamp(value);

    /// <summary>Value equality.</summary>
    public static bool operator ==(FieldValue left, FieldValue right) => left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(FieldValue left, FieldValue right) => !left.Equals(right);
}
