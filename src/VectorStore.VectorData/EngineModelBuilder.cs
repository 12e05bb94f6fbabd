using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace VectorStore.VectorData;

/// <summary>
/// Builds the record model (from attributes or a <c>VectorStoreCollectionDefinition</c>) with the engine's limits:
/// one vector property of float32 values, ulong/Guid/string keys, data properties the payload encoding supports.
/// </summary>
internal sealed class EngineModelBuilder() : CollectionModelBuilder(new CollectionModelBuildingOptions
{
    RequiresAtLeastOneVector = true,
    SupportsMultipleVectors = false,
})
{
    protected override bool IsDataPropertyTypeValid(Type type, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = RecordPayload.SupportedTypes;
        return RecordPayload.IsSupported(type);
    }

    protected override bool IsVectorPropertyTypeValid(Type type, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = "ReadOnlyMemory<float>, float[], Embedding<float> (and nullable ReadOnlyMemory<float>)";
        return type == typeof(ReadOnlyMemory<float>) || type == typeof(ReadOnlyMemory<float>?) || type == typeof(float[]) || type == typeof(Embedding<float>);
    }

    protected override void ValidateKeyProperty(KeyPropertyModel keyProperty)
    {
        var t = keyProperty.Type;
        if (t != typeof(ulong) && t != typeof(Guid) && t != typeof(string))
            throw new NotSupportedException($"key property '{keyProperty.ModelName}' is {t.Name}; VectorStore keys are ulong, Guid or string");
    }
}
