using System.CommandLine;
using System.Text.Json;
using VectorStore.Collections;

namespace VectorStore.Cli;

/// <summary>
/// Base of every CLI command: builds its System.CommandLine definition and maps VectorStore's typed errors to the
/// exit codes of the CLI contract (1 bad input, 2 data/IO) with one <c>error:</c> line on stderr.
/// </summary>
public abstract class CliCommand
{
    /// <summary>Builds the command with its options and action.</summary>
    public abstract Command Build();

    /// <summary>Every concrete command in this assembly.</summary>
    public static IEnumerable<CliCommand> Discover() =>
        typeof(CliCommand).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(CliCommand).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => (CliCommand)Activator.CreateInstance(t)!);

    /// <summary>Parses and runs; parse errors become exit code 1 with a single error line.</summary>
    public static int Run(RootCommand root, string[] args)
    {
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            Console.Error.WriteLine($"error: {result.Errors[0].Message}");
            return 1;
        }
        return result.Invoke();
    }

    /// <summary>Runs <paramref name="body"/>, turning expected failures into an exit code and one <c>error:</c> line.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            var (code, message) = Classify(e);
            Console.Error.WriteLine($"error: {message}");
            return code;
        }
    }

    /// <summary>The exit code and message for an exception.</summary>
    public static (int Code, string Message) Classify(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: > 0 } a => Classify(a.InnerExceptions[0]),
        VectorFileException f => (1, f.Message),
        InvalidArgumentException a => (1, a.Message),
        UsageException u => (1, u.Message),
        StoreCorruptedException s => (2, s.Message),
        VectorStoreException v => (2, v.Message),
        IOException io => (2, io.Message),
        UnauthorizedAccessException ua => (2, ua.Message),
        _ => (2, $"{e.GetType().Name}: {e.Message}"),
    };

    /// <summary>Options shared by many commands.</summary>
    protected static Option<T> Opt<T>(string name, string description, bool required = false) =>
        new(name) { Description = description, Required = required };

    /// <summary>An option with a default value.</summary>
    protected static Option<T> Opt<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary>Writes one JSON object on its own line to stdout.</summary>
    protected static void WriteJsonLine(object value)
    {
        Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));
        Console.Out.Flush();
    }

    /// <summary>
    /// Serializer settings for JSON output: keys as written, no indentation, and specs such as <c>opq+pq:48</c> printed
    /// as they are rather than with '+' escaped (the output goes to terminals and parsers, never into HTML).
    /// </summary>
    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Checks k, rerank and similar positive limits as usage errors.</summary>
    protected static void RequireRange(string flag, int value, int min, int max)
    {
        if (value < min || value > max) throw new UsageException($"{flag} must be in {min}..{max}, got {value}");
    }

    /// <summary>The limit on k shared by every command.</summary>
    protected const int MaxK = SearchOptions.MaxK;
}

/// <summary>A command-line usage error (exit code 1).</summary>
public sealed class UsageException(string message) : Exception(message);
