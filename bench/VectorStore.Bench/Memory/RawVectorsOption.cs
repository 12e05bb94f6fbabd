using VectorStore.Collections;

namespace VectorStore.Bench.Memory;

/// <summary>Maps the benchmark's <c>--raw-vectors disk|ram</c> onto the collection options of this build.</summary>
internal static class RawVectorsOption
{
    /// <summary>Returns <paramref name="options"/> with full-precision vectors placed as <paramref name="mode"/> asks.</summary>
    public static CollectionOptions Apply(CollectionOptions options, string mode) => mode switch
    {
        "ram" => options with { RawVectors = RawVectorResidency.Ram },
        "disk" => options with { RawVectors = RawVectorResidency.Disk },
        _ => throw new ArgumentException($"--raw-vectors {mode}: expected disk or ram"),
    };
}
