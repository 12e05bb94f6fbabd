using Microsoft.Extensions.VectorData;

/// <summary>A record as Semantic Kernel samples declare them: VectorData attributes, indexed data properties for filters.</summary>
public sealed class Hotel
{
    [VectorStoreKey]
    public ulong HotelId { get; set; }

    [VectorStoreData(IsIndexed = true)]
    public string HotelName { get; set; } = "";

    [VectorStoreData(IsIndexed = true)]
    public string City { get; set; } = "";

    [VectorStoreData(IsIndexed = true)]
    public string[] Tags { get; set; } = [];

    [VectorStoreData(IsIndexed = true)]
    public double Rating { get; set; }

    [VectorStoreData]
    public string Description { get; set; } = "";

    [VectorStoreVector(4, DistanceFunction = DistanceFunction.CosineSimilarity)]
    public ReadOnlyMemory<float>? DescriptionEmbedding { get; set; }
}
