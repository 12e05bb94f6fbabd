using System.Text;
using VectorStore.Filtering;

namespace VectorStore.Evaluation;

/// <summary>
/// Reads a field table (<see cref="FieldTable"/>'s format) a row at a time, so a caller needs memory for the rows it
/// holds, not for the file: <c>load --fields</c> of a million rows would otherwise build a million dictionaries before
/// its first batch. The header is read and checked when it opens. Not thread-safe: one reader per pass.
/// </summary>
public sealed class FieldTableReader : IDisposable
{
    private readonly StreamReader _reader;
    private readonly string _path;
    private readonly int _cells;
    private readonly (int Column, FieldDefinition Field)[] _columns;
    private int _line = 1;

    private FieldTableReader(StreamReader reader, string path, int cells, (int, FieldDefinition)[] columns)
    {
        _reader = reader;
        _path = path;
        _cells = cells;
        _columns = columns;
    }

    /// <summary>The fields read, in header order.</summary>
    public IReadOnlyList<FieldDefinition> Fields => [.. _columns.Select(c => c.Field)];

    /// <summary>Rows returned so far.</summary>
    public int RowsRead { get; private set; }

    /// <summary>
    /// Opens <paramref name="path"/> and reads its header. <paramref name="declared"/> gives types; a column it does not
    /// name is a keyword field when <paramref name="undeclaredAsKeyword"/>, else an error naming the declared fields.
    /// With <paramref name="only"/>, other columns are skipped unread. Errors are <see cref="InvalidArgumentException"/>s
    /// naming the file.
    /// </summary>
    public static FieldTableReader Open(string path, IReadOnlyList<FieldDefinition>? declared, bool undeclaredAsKeyword, ISet<string>? only = null)
    {
        if (!File.Exists(path)) throw new InvalidArgumentException($"{path}: file not found");
        var reader = new StreamReader(path, Encoding.UTF8);
        try
        {
            var header = reader.ReadLine() is { } h ? FieldTable.Cells(h) : throw new InvalidArgumentException($"{path}: empty file; expected a header row of field names");
            var columns = new List<(int Column, FieldDefinition Field)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (int c = 0; c < header.Length; c++)
            {
                string name = header[c];
                if (!seen.Add(name)) throw new InvalidArgumentException($"{path}: column '{name}' appears twice in the header");
                if (only is not null && !only.Contains(name)) continue;
                var field = declared?.FirstOrDefault(f => f.Name == name);
                if (field is null)
                {
                    if (!undeclaredAsKeyword)
                        throw new InvalidArgumentException(declared is not { Count: > 0 }
                            ? $"{path}: column '{name}' is not a declared field: the collection declares no fields (create --field NAME:TYPE)"
                            : $"{path}: column '{name}' is not a declared field; the collection declares {string.Join(", ", declared)}");
                    if (!FieldDefinition.IsValidName(name)) throw new InvalidArgumentException($"{path}: column '{name}' is not a valid field name");
                    field = new FieldDefinition(name, FieldType.Keyword);
                }
                columns.Add((c, field));
            }
            if (only is not null)
                foreach (var name in only)
                    if (!seen.Contains(name)) throw new InvalidArgumentException($"{path}: no column '{name}' in the header ({string.Join(", ", header)})");
            return new FieldTableReader(reader, path, header.Length, [.. columns]);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>The next row's values (an empty dictionary: none), or null at the end of the file.</summary>
    public IReadOnlyDictionary<string, FieldValue>? Next()
    {
        if (_reader.ReadLine() is not { } line) return null;
        _line++;
        var cells = FieldTable.Cells(line);
        if (cells.Length != _cells)
        {
            // A final empty line is a trailing newline, not a row.
            if (line.Length == 0 && _reader.Peek() < 0) return null;
            throw new InvalidArgumentException($"{_path}:{_line}: {cells.Length} cells, but the header has {_cells}");
        }
        var values = new Dictionary<string, FieldValue>(StringComparer.Ordinal);
        foreach (var (c, field) in _columns)
        {
            if (cells[c].Length == 0) continue;
            try
            {
                values[field.Name] = FieldTable.Parse(cells[c], field.Type);
            }
            catch (InvalidArgumentException e)
            {
                throw new InvalidArgumentException($"{_path}:{_line}: column '{field.Name}' ({field.Type.Name()}): {e.Message}");
            }
        }
        RowsRead++;
        return values;
    }

    /// <inheritdoc />
    public void Dispose() => _reader.Dispose();
}
