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
    /// The context with the CLI's settings: keys as written, no indentation, specs such as <c>opq+pq:48</c> printed
    /// as they are rather than with '+' escaped (the output goes to terminals and parsers, never into HTML), and
    /// non-finite numbers as null (<see cref="NonFiniteAsNull"/>).
    /// </summary>
    public static CliJsonContext Cli { get; } = new(new JsonSerializerOptions
    {
        WriteIndented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new NonFiniteAsNull.DoubleConverter(), new NonFiniteAsNull.SingleConverter() },
    });
}

/// <summary>
/// Writes NaN and ±Infinity as JSON null. JSON has no literal for them and System.Text.Json refuses to write one, so a
/// single overflowing score (an inner product of huge vectors is +Infinity) would otherwise abort the whole command
/// after the search had run. Null rather than a string such as <c>"Infinity"</c>: a numeric key then holds a number
/// or null and nothing else, as the lifecycle figures without a value already print (docs/cli-contract.md). Doing it
/// here covers every number any command prints, boxed in an output dictionary or a property of a row.
/// </summary>
internal static class NonFiniteAsNull
{
    public sealed class DoubleConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }

    public sealed class SingleConverter : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? float.NaN : reader.GetSingle();

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
        {
            if (float.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }
}
