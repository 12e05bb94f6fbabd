using System.Net;
using Orleans;
using Orleans.Runtime;
using VectorStore.Cluster.Hosting;
using Xunit;

namespace VectorStore.Cluster.Tests;

/// <summary>
/// The file membership table keeps Orleans' optimistic rules: a row goes in or changes only for a writer that read
/// the current table version, a change needs the row's current ETag, I-am-alive updates touch only their row, dead
/// rows are cleaned up by age, and two processes' worth of concurrent writers cannot both win one version.
/// </summary>
[Trait("Category", "Cluster")]
public class FileMembershipTableTests
{
    private static MembershipEntry Entry(int port, SiloStatus status = SiloStatus.Joining) => new()
    {
        SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 7),
        Status = status,
        ProxyPort = port + 1000,
        HostName = "host",
        SiloName = "s" + port,
        StartTime = new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc),
        IAmAliveTime = new DateTime(2026, 12, 1, 0, 0, 5, DateTimeKind.Utc),
        SuspectTimes = [Tuple.Create(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 9), 3), new DateTime(2026, 12, 1, 0, 0, 1, DateTimeKind.Utc))],
    };

    [Fact]
    public async Task RowsAndVersionsFollowOrleansOptimisticRules()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vs-membership-" + Guid.NewGuid().ToString("N"));
        try
        {
            var table = new FileMembershipTable(dir, "c1");
            await table.InitializeMembershipTable(true);
            var v0 = (await table.ReadAll()).Version;
            Assert.Equal(0, v0.Version);

            Assert.True(await table.InsertRow(Entry(11111), v0.Next()));
            Assert.False(await table.InsertRow(Entry(11112), v0.Next())); // read an old version: refused
            var all = await table.ReadAll();
            Assert.Equal(1, all.Version.Version);
            Assert.False(await table.InsertRow(Entry(11111), all.Version.Next())); // the row exists
            Assert.True(await table.InsertRow(Entry(11112), all.Version.Next()));

            all = await table.ReadAll();
            var (row, etag) = all.Members.Single(m => m.Item1.SiloAddress.Endpoint.Port == 11111);
            Assert.Equal("s11111", row.SiloName);
            Assert.Equal(Entry(11111).SuspectTimes, row.SuspectTimes);
            Assert.Equal(Entry(11111).StartTime, row.StartTime);
            var active = Entry(11111, SiloStatus.Active);
            Assert.False(await table.UpdateRow(active, etag + "x", all.Version.Next()));
            Assert.True(await table.UpdateRow(active, etag, all.Version.Next()));
            Assert.False(await table.UpdateRow(active, etag, (await table.ReadAll()).Version.Next())); // the row's etag moved on
            // The file is the documented JSON (data-format.md §6): status 3 is Active.
            using (var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(table.Path)))
            {
                var stored = json.RootElement.GetProperty("Rows").EnumerateArray().Single(r => r.GetProperty("Silo").GetString()!.StartsWith("127.0.0.1:11111@", StringComparison.Ordinal));
                Assert.Equal(3, stored.GetProperty("Status").GetInt32());
                Assert.Equal(1, json.RootElement.GetProperty("Format").GetInt32());
            }

            // I am alive: the row's time and ETag change, the table version does not.
            var before = await table.ReadAll();
            var alive = Entry(11111, SiloStatus.Active);
            alive.IAmAliveTime = new DateTime(2026, 12, 2, 0, 0, 0, DateTimeKind.Utc);
            await table.UpdateIAmAlive(alive);
            var after = await table.ReadAll();
            Assert.Equal(before.Version.Version, after.Version.Version);
            Assert.Equal(alive.IAmAliveTime, (await table.ReadRow(alive.SiloAddress)).Members.Single().Item1.IAmAliveTime);
            Assert.Empty((await table.ReadRow(Entry(4242).SiloAddress)).Members);

            // A dead row older than the cut-off goes; a live one stays.
            var dead = Entry(11112, SiloStatus.Dead);
            var deadEtag = after.Members.Single(m => m.Item1.SiloAddress.Endpoint.Port == 11112).Item2;
            Assert.True(await table.UpdateRow(dead, deadEtag, after.Version.Next()));
            await table.CleanupDefunctSiloEntries(new DateTimeOffset(2026, 12, 1, 1, 0, 0, TimeSpan.Zero));
            Assert.Equal([11111], (await table.ReadAll()).Members.Select(m => m.Item1.SiloAddress.Endpoint.Port));

            // A second table object on the same file (another process) sees the same rows; racing inserts: one wins.
            var other = new FileMembershipTable(dir, "c1");
            var version = (await other.ReadAll()).Version;
            var race = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => other.InsertRow(Entry(12000 + i), version.Next()))));
            Assert.Equal(1, race.Count(won => won));

            // Another cluster id is another file; deleting one leaves the other.
            var c2 = new FileMembershipTable(dir, "c2");
            await c2.InitializeMembershipTable(true);
            Assert.Empty((await c2.ReadAll()).Members);
            await table.DeleteMembershipTableEntries("c1");
            Assert.Empty((await table.ReadAll()).Members);

            File.WriteAllText(table.Path, "not json");
            await Assert.ThrowsAsync<StoreCorruptedException>(() => table.ReadAll());
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
