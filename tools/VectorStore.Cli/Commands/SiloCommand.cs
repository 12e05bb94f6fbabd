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
        var sweep = Opt("--orphan-sweep", "Seconds between looks for shard copies in --data that no layout gives this silo any more (moved away or dropped while it was down), which are deleted (0 = never)", 60.0);
        var fast = Opt<bool>("--fast-failure-detection", "Declare a silo dead after about 3 s without answering (default: Orleans' production settings, tens of seconds)");
        var command = new Command("silo", "Run a silo of a VectorStore cluster on 127.0.0.1, optionally serving the cluster over the TCP protocol")
        {
            data, metadata, siloPort, gatewayPort, membership, primaryPort, clusterId, shards, replication, shardTimeout, name, sweep, fast,
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
            double sweepSeconds = r.GetValue(sweep);
            if (!(sweepSeconds is >= 0 and <= 86_400)) throw new UsageException($"--orphan-sweep must be in [0, 86400] seconds, got {sweepSeconds}");
            if (!IsValidId(r.GetValue(clusterId)!)) throw new UsageException($"--cluster-id must be 1–64 of A–Z a–z 0–9 _ - . not starting with '.', got '{r.GetValue(clusterId)}'");
            if (r.GetValue(name) is { } stable && !(IsValidId(stable) && !stable.Contains('.')))
                throw new UsageException($"--name must be 1–64 of A–Z a–z 0–9 _ -, got '{stable}'");
            var serverOptions = flags.Listens(r) ? flags.Options(r, "silo") : null;
            RequirePortsFree([
                ("--silo-port", IPAddress.Loopback, r.GetValue(siloPort)),
                ("--gateway-port", IPAddress.Loopback, r.GetValue(gatewayPort)),
                .. serverOptions is { EndPoint: { Port: > 0 } listener } ? [("--port", listener.Address, listener.Port)] : Array.Empty<(string, IPAddress, int)>(),
            ]);
            var silo = new SiloSettings(r.GetValue(data)!, r.GetValue(metadata)!, r.GetValue(siloPort), r.GetValue(gatewayPort), r.GetValue(primaryPort),
                r.GetValue(clusterId)!, r.GetValue(name), r.GetValue(fast), table == "file",
                sweepSeconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(sweepSeconds));
            return Run(silo, serverOptions, new ClusterCoordinatorOptions { ShardTimeout = TimeSpan.FromSeconds(timeout) }, r.GetValue(shards), r.GetValue(replication));
        }));
        return command;
    }

    private sealed record SiloSettings(string Data, string Metadata, int SiloPort, int GatewayPort, int PrimaryPort, string ClusterId, string? Name,
        bool FastFailureDetection, bool FileMembership, TimeSpan OrphanSweep);

    /// <summary>
    /// Refuses, before the silo joins the cluster, a port something already listens on or one given twice: Orleans binds
    /// its ports only after joining, so a silo port taken by a running silo had the newcomer announce itself at that
    /// silo's address, newer, and the running silo declared dead; and a taken <c>--port</c> failed only after the silo
    /// had joined and been given shard copies.
    /// </summary>
    private static void RequirePortsFree((string Flag, IPAddress Address, int Port)[] ports)
    {
        for (int i = 0; i < ports.Length; i++)
        {
            for (int j = 0; j < i; j++)
                if (ports[j].Port == ports[i].Port)
                    throw new UsageException($"{ports[i].Flag} and {ports[j].Flag} are both {ports[i].Port}; each needs a port of its own");
            var listener = new System.Net.Sockets.TcpListener(ports[i].Address, ports[i].Port);
            try
            {
                listener.Start();
            }
            catch (System.Net.Sockets.SocketException e)
            {
                throw new UsageException($"{ports[i].Flag} {ports[i].Port} is in use on {ports[i].Address} ({e.SocketErrorCode}: another silo, or another program); choose a free port");
            }
            finally
            {
                listener.Stop();
            }
        }
    }

    /// <summary>
    /// Claims the metadata directory for <paramref name="s"/>'s cluster and, with <c>--name</c>, the name for this
    /// process; the returned lock is held until the silo exits (the system releases it if the process dies).
    /// Layouts and the catalog in the metadata directory are not kept per cluster id, so a silo of another cluster
    /// sharing it rewrote this cluster's layouts; and two live silos with one name left shards without a primary.
    /// </summary>
    private static FileStream? ClaimMetadata(SiloSettings s)
    {
        string marker = Path.Combine(s.Metadata, "CLUSTER");
        try
        {
            using (var file = OpenExclusive(marker))
            {
                string owner = new StreamReader(file, leaveOpen: true).ReadToEnd().Trim();
                if (owner.Length > 0 && !IsValidId(owner))
                    throw new StoreCorruptedException(marker, "does not hold a cluster id (damaged?); if this directory is this cluster's, write its --cluster-id there");
                if (owner.Length > 0 && owner != s.ClusterId)
                {
                    throw new VectorStoreException($"{s.Metadata} belongs to cluster '{owner}' ({marker}); layouts and the catalog there are not kept per "
                        + $"cluster, so cluster '{s.ClusterId}' needs a --metadata directory of its own");
                }
                if (owner.Length == 0)
                {
                    // A directory used before the marker existed: its membership tables say whose it is.
                    var others = Directory.EnumerateFiles(s.Metadata, "membership.*.json").Select(Path.GetFileName)
                        .Select(f => f!["membership.".Length..^".json".Length]).Where(id => id != s.ClusterId).ToArray();
                    if (others.Length > 0)
                        throw new VectorStoreException($"{s.Metadata} holds the membership of cluster '{others[0]}'; layouts and the catalog there are not kept "
                            + $"per cluster, so cluster '{s.ClusterId}' needs a --metadata directory of its own");
                    file.SetLength(0);
                    file.Write(System.Text.Encoding.UTF8.GetBytes(s.ClusterId + "\n"));
                    file.Flush(flushToDisk: true);
                }
            }
            if (s.Name is null) return null;
            string nameLock = Path.Combine(s.Metadata, $"silo.{s.ClusterId}.{s.Name}.lock");
            try
            {
                return new FileStream(nameLock, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (VectorDatabase.IsLockHeld(e))
            {
                throw new VectorStoreException($"a silo named '{s.Name}' of cluster '{s.ClusterId}' is already running ({nameLock} is locked); "
                    + "two live silos with one name would leave its shards without a primary", e);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageIoException(s.Metadata, $"cannot claim the metadata directory for this silo: {e.Message}", e);
        }
    }

    /// <summary>
    /// Opens <paramref name="path"/> exclusively, waiting up to 10 s while another silo starting at the same moment holds
    /// it: claiming the marker is read, decide, write, and two silos must not both find it empty.
    /// </summary>
    private static FileStream OpenExclusive(string path)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (VectorDatabase.IsLockHeld(e) && clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>Cluster ids and silo names: 1–64 of A–Z a–z 0–9 _ - . (they name files in the metadata directory).</summary>
    private static bool IsValidId(string id) =>
        id.Length is > 0 and <= 64 && id.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.') && id[0] != '.';

    private static int Run(SiloSettings s, ServerOptions? serverOptions, ClusterCoordinatorOptions coordinator, int shards, int replication)
    {
        using var certificate = serverOptions?.TlsCertificate;
        Directory.CreateDirectory(s.Data);
        Directory.CreateDirectory(s.Metadata);
        using var claim = ClaimMetadata(s);
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
                o.OrphanSweepInterval = s.OrphanSweep;
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
