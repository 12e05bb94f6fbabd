using System.Text.Json;
using System.Text.Json.Serialization;
using VectorStore.Evaluation;

namespace VectorStore.Cli;

/// <summary>
/// Compile-time JSON metadata for everything the CLI prints (System.Text.Json source generation), so output needs no
/// reflection and works in the NativeAOT build. Output lines are string-keyed dictionaries whose values are boxed:
/// each value type a command puts in one is listed here, because serializing an <c>object</c> looks its runtime type
/// up in this context. A missing one fails the same way under the JIT as in the native build (the options below use
/// this context alone, never the reflection resolver), so the CLI tests catch it.
/// </summary>
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(Dictionary<string, object?>[]))]
[JsonSerializable(typeof(List<Dictionary<string, object?>>))]
[JsonSerializable(typeof(ReportRow))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(ulong))]
[JsonSerializable(typeof(float))]
[JsonSerializable(typeof(double))]
internal sealed partial class CliJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The context with the CLI's settings: keys as written, no indentation, and specs such as <c>opq+pq:48</c> printed
    /// as they are rather than with '+' escaped (the output goes to terminals and parsers, never into HTML).
    /// </summary>
    public static CliJsonContext Cli { get; } = new(new JsonSerializerOptions
    {
        WriteIndented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
