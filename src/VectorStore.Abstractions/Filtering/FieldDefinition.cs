namespace VectorStore.Filtering;

/// <summary>A metadata field a collection declares at creation: records may carry a value for it, filters test it.</summary>
/// <param name="Name">Letters, digits, <c>_</c>, <c>-</c> and <c>.</c>, starting with a letter or <c>_</c>; at most 64 characters.</param>
/// <param name="Type">Its type.</param>
public sealed record FieldDefinition(string Name, FieldType Type)
{
    /// <summary>Most fields one collection may declare.</summary>
    public const int MaxFields = 64;

    /// <summary>Longest field name.</summary>
    public const int MaxNameLength = 64;

    /// <summary>Parses <c>NAME:TYPE</c> (the CLI's <c>--field</c>).</summary>
    public static FieldDefinition Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
            throw new InvalidArgumentException($"field '{text}': expected NAME:TYPE with TYPE keyword, tags, int, double, bool or timestamp");
        var def = new FieldDefinition(text[..colon].Trim(), FieldTypeNames.Parse(text[(colon + 1)..]));
        def.Validate();
        return def;
    }

    /// <summary>Throws <see cref="InvalidArgumentException"/> for a bad name or type.</summary>
    public void Validate()
    {
        if (!IsValidName(Name))
            throw new InvalidArgumentException($"field name '{Name}' is invalid: use 1..{MaxNameLength} letters, digits, '_', '-' or '.', starting with a letter or '_'");
        if (!Enum.IsDefined(Type)) throw new InvalidArgumentException($"field '{Name}' has unknown type {(int)Type}");
    }

    /// <summary>Whether <paramref name="name"/> is a valid field name.</summary>
    public static bool IsValidName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength) return false;
        if (!(char.IsAsciiLetter(name[0]) || name[0] == '_')) return false;
        foreach (char c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')) return false;
        return true;
    }

    /// <summary>Checks a list of definitions: each valid, names unique, at most <see cref="MaxFields"/>.</summary>
    public static void ValidateAll(IReadOnlyList<FieldDefinition>? fields)
    {
        if (fields is null) return;
        if (fields.Count > MaxFields) throw new InvalidArgumentException($"at most {MaxFields} fields may be declared, got {fields.Count}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in fields)
        {
            if (f is null) throw new InvalidArgumentException("a field definition is null");
            f.Validate();
            if (!seen.Add(f.Name)) throw new InvalidArgumentException($"field '{f.Name}' is declared twice");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}:{Type.Name()}";
}
