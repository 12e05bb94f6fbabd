using VectorStore.Client;
using VectorStore.Protocol;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// Protocol version 9 (data-format.md §5.9): a Backup request may name a previous backup under the server's backup
/// directory to hard-link unchanged files from, and the response says how many bytes were linked; version-8 layouts
/// are unchanged, and a version-8 server is never sent an incremental request.
/// </summary>
public class ProtocolV9IncrementalBackupTests
{
    private static byte[] Encode(IWireMessage message) => ProtocolV4MessageTests.Bytes(message);

    [Fact]
    public void BothVersionsRoundTripAndVersion8KeepsItsLayout()
    {
        var result = new BackupResult("/srv/backups/tuesday", [new("a", 400, 123_456, 100_000), new("ü", 0, 77, 0)], ["broken"]);
        var v9 = BackupResponse.Read(Encode(new BackupResponse(result, 9)), 9).Result;
        Assert.Equal(result.Collections, v9.Collections);
        Assert.Equal(100_000, v9.LinkedBytes);
        var v8 = BackupResponse.Read(Encode(new BackupResponse(result, 8)), 8).Result;
        Assert.Equal(result.Collections.Select(c => c with { LinkedBytes = 0 }), v8.Collections);
        Assert.Equal(Encode(new BackupResponse(result, 9)).Length, Encode(new BackupResponse(result, 8)).Length + 2 * 8);
        var bytes = Encode(new BackupResponse(result, 9));
        for (int cut = 0; cut < bytes.Length; cut++)
            Assert.Throws<ProtocolException>(() => BackupResponse.Read(bytes.AsSpan(0, cut), 9));

        Assert.Equal(new BackupRequest("tuesday", "monday", 9), BackupRequest.Read(Encode(new BackupRequest("tuesday", "monday", 9)), 9));
        Assert.Null(BackupRequest.Read(Encode(new BackupRequest("tuesday", null)), 9).Since);
        // Version 8 is the bare name, as NameRequest wrote it.
        Assert.Equal(Encode(new NameRequest("tuesday")), Encode(new BackupRequest("tuesday", null, 8)));
        Assert.Throws<InvalidOperationException>(() => Encode(new BackupRequest("tuesday", "monday", 8)));
    }

    [Fact]
    public async Task AClientTakesAnIncrementalBackupNamingThePreviousOne()
    {
        if (!OperatingSystem.IsLinux()) return; // hard links
        string dir = TestData.TempDir(), backups = TestData.TempDir();
        await using var live = ProtocolV8BackupTests.StartPersistent(dir, backups);
        LiveServer.Populate(live.Database, "c", 3000, 8);
        await using var client = await live.ConnectAsync();
        var monday = await client.BackupAsync("monday");
        Assert.Equal(0, monday.LinkedBytes);
        var tuesday = await client.BackupAsync("tuesday", "monday");
        Assert.True(tuesday.LinkedBytes > 0, $"{tuesday.LinkedBytes} of {tuesday.Bytes}");
        Assert.Equal(tuesday.LinkedBytes, tuesday.Collections.Single().LinkedBytes);
        using (var copy = VectorDatabase.OpenReadOnly(tuesday.Directory))
            Assert.Equal(live.Database.GetCollection("c").Ids(), copy.GetCollection("c").Ids());

        foreach (string bad in new[] { "../escape", "a/b", "..", ".hidden" })
            Assert.Contains("plain directory name", (await Assert.ThrowsAsync<InvalidArgumentException>(() => client.BackupAsync("wednesday", bad))).Message, StringComparison.Ordinal);
        Assert.Contains("no such directory", (await Assert.ThrowsAsync<InvalidArgumentException>(() => client.BackupAsync("wednesday", "sunday"))).Message, StringComparison.Ordinal);
        Assert.Equal(["monday", "tuesday"], Directory.GetFileSystemEntries(backups).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AgainstAVersion8ServerAnIncrementalBackupIsRefusedBeforeSending()
    {
        await using var server = new OldVersionServer(8);
        await using var client = await VectorStoreClient.ConnectAsync("127.0.0.1", server.Port);
        int sent = server.Requests.Count;
        var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.BackupAsync("x", "previous"));
        Assert.Contains("no incremental backups", e.Message, StringComparison.Ordinal);
        Assert.Equal(sent, server.Requests.Count);
    }

    /// <summary>A server over a database client (a cluster gateway) says it takes no backups, in either request layout.</summary>
    [Fact]
    public async Task AGatewayAnswersNotSupportedToBothLayouts()
    {
        await using var inner = new InProcessDatabaseClient(VectorDatabase.CreateInMemory(), ownsDatabase: true);
        await using var server = new VectorStore.Server.VectorStoreServer(new DelegatingClient(inner), new VectorStore.Server.ServerOptions());
        server.Start();
        await using var client = await VectorStoreClient.ConnectAsync("127.0.0.1", server.LocalEndPoint!.Port);
        foreach (var since in new[] { null, "monday" })
        {
            var e = await Assert.ThrowsAsync<RemoteErrorException>(() => client.BackupAsync("tuesday", since));
            Assert.Equal(ErrorCode.NotSupported, e.Code);
            Assert.Contains("takes no backup", e.Message, StringComparison.Ordinal);
        }
        Assert.Contains("since", (await Assert.ThrowsAsync<InvalidArgumentException>(() => client.BackupAsync("tuesday", " "))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVersion8ConnectionStillTakesAFullBackup()
    {
        var (frame, backups) = await ProtocolV8BackupTests.BackupOverRawConnectionAsync(8);
        Assert.Equal((byte)Opcode.Backup | ProtocolConstants.ResponseBit, frame.Opcode);
        Assert.Equal(100, BackupResponse.Read(frame.Payload, 8).Result.Collections.Single().Count);
        Assert.Equal(["old"], Directory.GetFileSystemEntries(backups).Select(Path.GetFileName));
    }
}
