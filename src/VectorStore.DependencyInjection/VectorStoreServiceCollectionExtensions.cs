using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace VectorStore.DependencyInjection;

/// <summary>Registers VectorStore with a host's service collection.</summary>
public static class VectorStoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="VectorDatabase"/> (opened on first use, disposed with the container, which
    /// snapshots it) whose meter comes from the container's <see cref="IMeterFactory"/> and whose logs go to its
    /// <see cref="ILoggerFactory"/> when those are registered, and an <see cref="IVectorDatabaseClient"/> over it.
    /// Idempotent: a second call leaves the first registration in place.
    /// </summary>
    public static IServiceCollection AddVectorStore(this IServiceCollection services, Action<VectorStoreRegistration>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var registration = new VectorStoreRegistration();
        configure?.Invoke(registration);
        services.TryAddSingleton(sp =>
        {
            var options = new DatabaseOptions
            {
                Threads = registration.Threads,
                MeterFactory = sp.GetService<IMeterFactory>(),
                LoggerFactory = sp.GetService<ILoggerFactory>(),
                TelemetryNamespace = registration.TelemetryNamespace,
            };
            return registration.Directory is null ? VectorDatabase.CreateInMemory(options) : VectorDatabase.Open(registration.Directory, options);
        });
        services.TryAddSingleton<IVectorDatabaseClient>(sp => new InProcessDatabaseClient(sp.GetRequiredService<VectorDatabase>()));
        return services;
    }
}
