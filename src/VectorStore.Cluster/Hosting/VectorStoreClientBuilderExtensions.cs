using Orleans.Hosting;

namespace VectorStore.Cluster.Hosting;

/// <summary>Prepares an Orleans client to talk to VectorStore silos.</summary>
public static class VectorStoreClientBuilderExtensions
{
    /// <summary>Lets the cluster's typed errors reach the client as themselves (not as a generic fallback).</summary>
    public static IClientBuilder AddVectorStoreClusterClient(this IClientBuilder builder)
    {
        VectorStoreSiloBuilderExtensions.AllowVectorStoreExceptions(builder.Services);
        return builder;
    }
}
