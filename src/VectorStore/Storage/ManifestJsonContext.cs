using System.Text.Json.Serialization;

namespace VectorStore.Storage;

/// <summary>
/// The manifest body's JSON serializer, generated at compile time so trimming and NativeAOT need no reflection over
/// <see cref="ManifestBody"/>. Same settings as the reflection serializer it replaced (compact, the property names of
/// the <c>JsonPropertyName</c> attributes), so the bytes on disk do not change. Thread-safe.
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(ManifestBody))]
[JsonSerializable(typeof(ManifestCollection))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
