using System.CommandLine;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Hosting;
using VectorStore.Cluster;
using VectorStore.Cluster.Hosting;
using VectorStore.Server;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>vectorstore silo --data DIR --metadata DIR [--silo-port 11111] [--gateway-port 30000] [--membership file|primary]
/// [--primary-port 11111] [--name NAME] [--port P …serve's flags]</c>: runs one Orleans silo of a VectorStore cluster on
/// 127.0.0.1 (membership in a file of the shared metadata directory, so any silo may die; or development clustering,
/// where the silo on <c>--primary-port</c> keeps the membership table) holding shards in its own database
/// directory, and with <c>--port</c> also serves the whole cluster over the TCP protocol — any silo's listener answers
/// every request, so <c>--server HOST:PORT</c> of the database commands and the thin client work unchanged. Prints
/// <c>listening HOST:PORT</c> (or <c>silo ready</c> without <c>--port</c>); SIGINT/SIGTERM drains the listener and
/// leaves the cluster gracefully.
/// </summary>
public sealed class SiloCommand : CliCommand
{
    /// <inheritdoc />
    public override Command Build()
    {
        var data = Opt<string>("--data", "This silo's own database directory (created if missing; never shared between silos)", required: true);
        var metadata = Opt<string>("--metadata", "Directory every silo shares for layouts and the catalog", required: true);
        var siloPort = Opt("--silo-port", "Orleans silo-to-silo port on 127.0.0.1", 11111);
        var gatewayPort = Opt("--gateway-port", "Orleans client gateway port on 127.0.0.1", 30000);
        var membership = Opt("--membership", "Where the membership table lives: 'file' (in --metadata, any silo may die) or 'primary' (Orleans' development clustering in the silo on --primary-port)", "file");
        var primaryPort = Opt("--primary-port", "With --membership primary: silo port of the primary silo (which keeps the membership table); itself when equal to --silo-port", 11111);
        var clusterId = Opt("--cluster-id", "Orleans cluster id every silo of this cluster shares", "vectorstore");
        var shards = Opt("--shards", "Shards of a collection created through this silo's listener (0 = two per active silo)", 0);
        var replication = Opt("--replication", "Copies of each shard of a collection created through this listener (0 = min(2, active silos))", 0);
        var shardTimeout = Opt("--shard-timeout", "Seconds a shard has to answer a search before the result is partial (refused over TCP as Unavailable)", 5.0);
        var name = Opt<string?>("--name", "A name identifying this silo across restarts (with the same --data it takes back its own shard copies); default: its address, new at every start");
        var fast = Opt<bool>("--fast-failure-detection", "Declare a silo dead after about 3 s without answering (default: Orleans' production settings, tens of seconds)");
        var command = new Command("silo", "Run a silo of a VectorStore cluster on 127.0.0.1, optionally serving the cluster over the TCP protocol")
        {
            data, metadata, siloPort, gatewayPort, membership, primaryPort, clusterId, shards, replication, shardTimeout, name, fast,
        };
        var flags = new ServerFlags(portRequired: false, "TCP port serving the whole cluster (0 = any free port; default: no listener)").AddTo(command);
        command.SetAction(r => Guard(() =>
        {
            RequireRange("--silo-port", r.GetValue(siloPort), 1, 65535);
            RequireRange("--gateway-port", r.GetValue(gatewayPort), 1, 65535);
            RequireRange("--primary-port", r.GetValue(primaryPort), 1, 65535);
            string table = r.GetValue(membership)!;
            if (table is not ("file" or "primary")) throw new UsageException($"--membership must be 'file' or 'primary', got '{table}'");
            RequireRange("--shards", r.GetValue(shards), 0, 1024);
            RequireRange("--replication", r.GetValue(replication), 0, 16);
            double timeout = r.GetValue(shardTimeout);
            if (!(timeout is > 0 and <= 3600)) throw new UsageException($"--shard-timeout must be in (0, 3600] seconds, got {timeout}");
            var serverOptions = flags.Listens(r) ? flags.Options(r, "silo") : null;
            var silo = new SiloSettings(r.GetValue(data)!, r.GetValue(metadata)!, r.GetValue(siloPort), r.GetValue(gatewayPort), r.GetValue(primaryPort),
                r.GetValue(clusterId)!, r.GetValue(name), r.GetValue(fast), table == "file");
            return Run(silo, serverOptions, new ClusterCoordinatorOptions { ShardTimeout = TimeSpan.FromSeconds(timeout) }, r.GetValue(shards), r.GetValue(replication));
        }));
        return command;
    }

    private sealed record SiloSettings(string Data, string Metadata, int SiloPort, int GatewayPort, int PrimaryPort, string ClusterId, string? Name,
        bool FastFailureDetection, bool FileMembership);

    private static int Run(SiloSettings s, ServerOptions? serverOptions, ClusterCoordinatorOptions coordinator, int shards, int replication)
    {
        using var certificate = serverOptions?.TlsCertificate;
        Directory.CreateDirectory(s.Data);
        Directory.CreateDirectory(s.Metadata);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo =>
        {
            if (s.FileMembership) silo.UseFileMembership(s.Metadata, s.ClusterId, s.SiloPort, s.GatewayPort);
            else
            {
                var primary = s.PrimaryPort == s.SiloPort ? null : new IPEndPoint(IPAddress.Loopback, s.PrimaryPort);
                silo.UseLocalhostClustering(s.SiloPort, s.GatewayPort, primary, serviceId: s.ClusterId, clusterId: s.ClusterId);
            }
            silo.AddVectorStoreCluster(o =>
            {
                o.DataDirectory = s.Data;
                o.MetadataDirectory = s.Metadata;
                o.StableName = s.Name;
            });
            if (s.FastFailureDetection) silo.UseFastFailureDetection();
        });
        using var host = builder.Build();
        host.StartAsync().GetAwaiter().GetResult();
        try
        {
            var database = new DistributedDatabase(host.Services.GetRequiredService<IGrainFactory>(), "default", coordinator);
            var server = serverOptions is null ? null : new VectorStoreServer(new ClusterDatabaseClient(database, shards, replication), serverOptions);
            ServerFlags.RunUntilSignalled(server, "silo", "silo ready");
        }
        finally
        {
            Console.Error.WriteLine("silo: leaving the cluster");
            host.StopAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        }
        return 0;
    }
}
