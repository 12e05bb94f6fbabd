using System.CommandLine;
using System.Text.Json;
using VectorStore.Cli.Commands;
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

    /// <summary>
    /// Every command, listed explicitly (not discovered by reflection) so trimming and NativeAOT keep them; ordered by
    /// name as the help text shows them. A new command is a new file under Commands/ plus one line here.
    /// </summary>
    public static IEnumerable<CliCommand> All() =>
    [
        new BackupCommand(),
        new CompactCommand(),
        new CreateCommand(),
        new DemoCommand(),
        new DriftCommand(),
        new EvalCommand(),
        new ExportCommand(),
        new HashCommand(),
        new InfoCommand(),
        new LoadCommand(),
        new RecoverCommand(),
        new ReportCommand(),
        new SchemeCommand(),
        new SearchCommand(),
        new ServeCommand(),
        new SiloCommand(),
        new SubsetCommand(),
    ];

    /// <summary>The root command with every subcommand.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("VectorStore: embedded vector search over compressed embeddings");
        foreach (var command in All()) root.Subcommands.Add(command.Build());
        return root;
    }

    /// <summary>Parses and runs; parse errors become exit code 1 with a single error line.</summary>
    public static int Run(RootCommand root, string[] args)
    {
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            Console.Error.WriteLine($"error: {Describe(result.Errors[0])}");
            return 1;
        }
        return result.Invoke();
    }

    /// <summary>
    /// The message for a parse error. System.CommandLine names the CLR type of a value it cannot convert
    /// (<c>as expected type 'System.Int32'</c>), which means nothing to a user; a value of a numeric option is
    /// reported instead as the flag, the kind of number it takes and the text given.
    /// </summary>
    internal static string Describe(System.CommandLine.Parsing.ParseError error)
    {
        var option = error.SymbolResult switch
        {
            System.CommandLine.Parsing.OptionResult o => o,
            System.CommandLine.Parsing.ArgumentResult { Parent: System.CommandLine.Parsing.OptionResult o } => o,
            _ => null,
        };
        if (option is null || option.Tokens.Count == 0) return error.Message;
        var type = Nullable.GetUnderlyingType(option.Option.ValueType) ?? option.Option.ValueType;
        string? kind = Type.GetTypeCode(type) switch
        {
            TypeCode.Int32 => $"a whole number in {int.MinValue}..{int.MaxValue}",
            TypeCode.Int64 => $"a whole number in {(NonNegativeOptions.TryGetValue(option.Option, out _) ? 0 : long.MinValue)}..{long.MaxValue}",
            TypeCode.UInt64 => $"a whole number in 0..{ulong.MaxValue}",
            TypeCode.Double or TypeCode.Single => "a number (e.g. 0.5)",
            _ => null,
        };
        return kind is null ? error.Message : $"{option.Option.Name} expects {kind}, got '{option.Tokens[^1].Value}'";
    }

    /// <summary>Options registered by <see cref="NonNegative"/>.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Option, object> NonNegativeOptions = new();

    /// <summary>
    /// Marks a whole-number option whose negative values the command refuses, so that a value that does not parse is
    /// told the range the command accepts (<see cref="Describe"/>), not the type's.
    /// </summary>
    internal static Option<long> NonNegative(Option<long> option)
    {
        NonNegativeOptions.AddOrUpdate(option, true);
        return option;
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
        ClassifiedException c => (c.Code, c.Message),
        AggregateException { InnerExceptions.Count: > 0 } a => Classify(a.InnerExceptions[0]),
        VectorFileException f => (1, f.Message),
        InvalidArgumentException a => (1, a.Message),
        UsageException u => (1, u.Message),
        ReadOnlyDatabaseException ro => (1, ro.Message),
        StoreCorruptedException s => (2, s.Message),
        VectorStoreException v => (2, v.Message),
        IOException io => (2, io.Message),
        UnauthorizedAccessException ua => (2, ua.Message),
        // A user pass got only "OutOfMemoryException: Exception of type … was thrown" from a load under a container's
        // limit: say what ran out and what is safe.
        OutOfMemoryException oom => (2, "out of memory: this process's memory limit (a container's, or DOTNET_GCHeapHardLimit) is too small for what it "
            + "was doing; nothing acknowledged is lost (a load's 'acked' batches are durable, and the batch in flight may be stored too); give it more "
            + $"memory, or use smaller batches and fewer writers ({oom.Message})"),
        _ => (2, $"{e.GetType().Name}: {e.Message}"),
    };

    /// <summary>Options shared by many commands.</summary>
    internal static Option<T> Opt<T>(string name, string description, bool required = false) =>
        new(name) { Description = description, Required = required };

    /// <summary>An option with a default value.</summary>
    internal static Option<T> Opt<T>(string name, string description, T defaultValue) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue };

    /// <summary>Writes one JSON object on its own line to stdout.</summary>
    protected static void WriteJsonLine(Dictionary<string, object?> value) => WriteJsonLine(Console.Out, value);

    /// <summary>Writes one JSON object on its own line to <paramref name="writer"/> and flushes it.</summary>
    protected static void WriteJsonLine(TextWriter writer, Dictionary<string, object?> value)
    {
        writer.WriteLine(ToJson(value));
        writer.Flush();
    }

    /// <summary>One JSON object of output, on one line (see <see cref="CliJsonContext"/>).</summary>
    internal static string ToJson(Dictionary<string, object?> value) =>
        JsonSerializer.Serialize(value, CliJsonContext.Cli.DictionaryStringObject);

    /// <summary>A report row as one JSON line, the keys its <c>JsonPropertyName</c>s give.</summary>
    internal static string ToJson(Evaluation.ReportRow row) => JsonSerializer.Serialize(row, CliJsonContext.Cli.ReportRow);

    /// <summary>Writes a report row on its own line to <paramref name="writer"/> and flushes it.</summary>
    protected static void WriteJsonLine(TextWriter writer, Evaluation.ReportRow row)
    {
        writer.WriteLine(ToJson(row));
        writer.Flush();
    }

    /// <summary>Checks k, rerank and similar positive limits as usage errors.</summary>
    internal static void RequireRange(string flag, int value, int min, int max)
    {
        if (value < min || value > max) throw new UsageException($"{flag} must be in {min}..{max}, got {value}");
    }

    /// <summary>
    /// Refuses a search knob the index does not have (<c>--ef</c> is HNSW's beam, <c>--nprobe</c> IVF's lists): the
    /// engine would ignore it, and a run labelled with a setting that had no effect misleads whoever reads its numbers.
    /// 0 means "the index default" and always passes.
    /// </summary>
    internal static void RequireKnobApplies(string indexSpec, int ef, int nprobe)
    {
        string kind = Indexing.IndexSpec.Parse(indexSpec).Name;
        if (ef != 0 && kind != "hnsw")
            throw new UsageException($"--ef applies only to an hnsw index, and this one is {indexSpec}{(kind == "ivf" ? "; use --nprobe" : "")}");
        if (nprobe != 0 && kind != "ivf")
            throw new UsageException($"--nprobe applies only to an ivf index, and this one is {indexSpec}{(kind == "hnsw" ? "; use --ef" : "")}");
    }

    /// <summary>The limit on k shared by every command.</summary>
    internal const int MaxK = SearchOptions.MaxK;
}

/// <summary>A command-line usage error (exit code 1).</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// A failure whose exit code and message are already decided (a command's error with a later failure appended to it):
/// <see cref="CliCommand.Classify"/> reports it as it is.
/// </summary>
public sealed class ClassifiedException(int code, string message, Exception inner) : Exception(message, inner)
{
    /// <summary>The exit code.</summary>
    public int Code { get; } = code;
}
