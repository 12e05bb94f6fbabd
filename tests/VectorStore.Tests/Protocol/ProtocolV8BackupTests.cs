using VectorStore.Client;
using VectorStore.Protocol;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// Protocol version 8 (data-format.md §5.9): the Backup opcode writes a backup under the server's backup directory
/// (<see cref="Server.ServerOptions.BackupDirectory"/>), only there, only into a new name; a server without one, over
/// an in-memory database, or a version-7 server refuses it, the last before anything is sent.
/// </summary>
public class ProtocolV8BackupTests
{
    private static byte[] Encode(IWireMessage message) => ProtocolV4MessageTests.Bytes(message);

    [Fact]
    public void TheResponseRoundTripsAndATruncatedOneIsBadPayload()
    {
        var result = new BackupResult("/srv/backups/nightly", [new("a", 400, 123_456), new("ü", 0, 77)], ["broken"]);
        var back = BackupResponse.Read(Encode(new BackupResponse(result))).Result;
        Assert.Equal(result.Directory, back.Directory);
        Assert.Equal(result.Collections, back.Collections);
        Assert.Equal(result.SkippedDamaged, back.SkippedDamaged);
        var bytes = Encode(new BackupResponse(result));
        for (int cut = 0; cut < bytes.Length; cut++)
            Assert.Throws<ProtocolException>(() => BackupResponse.Read(bytes.AsSpan(0, cut)));
        Assert.Throws<ProtocolException>(() => BackupResponse.Read([.. bytes, 0]));
    }

    internal static LiveServer StartPersistent(string dir, string? backups) =>
        LiveServer.Start(o => o with { BackupDirectory = backups }, VectorDatabase.Open(dir, new DatabaseOptions { CheckpointWhenIdle = TimeSpan.Zero }));

    [Fact]
    public async Task AClientBacksUpAServingDatabaseUnderItsBackupDirectoryOnly()
    {
        string dir = TestData.TempDir(), backups = TestData.TempDir();
        await using var live = StartPersistent(dir, backups);
        LiveServer.Populate(live.Database, "c", 3000, 8);
        await using var client = await live.ConnectAsync();
        var result = await client.BackupAsync("nightly");
        Assert.Equal(Path.Combine(backups, "nightly"), result.Directory);
        Assert.Equal(3000, result.Collections.Single().Count);
        using (var copy = VectorDatabase.OpenReadOnly(result.Directory))
            Assert.Equal(live.Database.GetCollection("c").Ids(), copy.GetCollection("c").Ids());

        // Never over an earlier backup, never outside the directory.
        Assert.Contains("not empty", (await Assert.ThrowsAsync<InvalidArgumentException>(() => client.BackupAsync("nightly"))).Message, StringComparison.Ordinal);
        foreach (string bad in new[] { "../escape", "a/b", "..", ".", ".hidden", "" })
            Assert.Contains("plain directory name", (await Assert.ThrowsAsync<InvalidArgumentException>(() => client.BackupAsync(bad))).Message, StringComparison.Ordinal);
        Assert.Equal(["nightly"], Directory.GetFileSystemEntries(backups).Select(Path.GetFileName));
        Assert.False(Directory.Exists(Path.Combine(Path.GetDirectoryName(backups)!, "escape")));
        // The connection still serves.
        Assert.Equal(3000, (await client.GetInfoAsync("c")).Stats.Count);
    }

    [Fact]
    public async Task WithoutABackupDirectoryOrStorageTheServerSaysSo()
    {
        await using (var live = StartPersistent(TestData.TempDir(), backups: null))
        {
            await using var client = await live.ConnectAsync();
            var e = await Assert.ThrowsAsync<RemoteErrorException>(() => client.BackupAsync("x"));
            Assert.Equal(ErrorCode.NotSupported, e.Code);
            Assert.Contains("--backup-dir", e.Message, StringComparison.Ordinal);
        }
        await using (var memory = LiveServer.Start(o => o with { BackupDirectory = TestData.TempDir() }))
        {
            await using var client = await memory.ConnectAsync();
            var e = await Assert.ThrowsAsync<RemoteErrorException>(() => client.BackupAsync("x"));
            Assert.Equal(ErrorCode.NotSupported, e.Code);
            Assert.Contains("in memory", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AgainstAVersion7ServerABackupIsRefusedBeforeSending()
    {
        await using var server = new OldVersionServer(7);
        await using var client = await VectorStoreClient.ConnectAsync("127.0.0.1", server.Port);
        int sent = server.Requests.Count;
        var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.BackupAsync("x"));
        Assert.Contains("upgrade the server", e.Message, StringComparison.Ordinal);
        Assert.Equal(sent, server.Requests.Count);
    }

    /// <summary>
    /// Asks a server with a backup directory and 100 vectors for backup "old" over a raw connection of protocol
    /// <paramref name="version"/>, with a version-8 request (the bare name); returns the answer and the backup directory.
    /// </summary>
    internal static async Task<((byte Opcode, uint RequestId, byte[] Payload) Frame, string Backups)> BackupOverRawConnectionAsync(ushort version)
    {
        string dir = TestData.TempDir(), backups = TestData.TempDir();
        await using var live = StartPersistent(dir, backups);
        LiveServer.Populate(live.Database, "c", 100, 4, compression: "none");
        using var raw = await RawConnection.OpenAsync(live.Port);
        await raw.SendAsync(Opcode.Hello, 0, new HelloRequest(version, System.Text.Encoding.UTF8.GetBytes(LiveServer.Token)));
        Assert.Equal(version, HelloResponse.Read((await raw.ReadFrameAsync()).Payload).Version);
        await raw.SendAsync(Opcode.Backup, 1, new NameRequest("old"));
        return (await raw.ReadFrameAsync(), backups);
    }

    [Fact]
    public async Task AVersion7ConnectionGetsUnknownOpcodeAndNothingIsWritten()
    {
        var (frame, backups) = await BackupOverRawConnectionAsync(7);
        Assert.Equal((byte)Opcode.Error, frame.Opcode);
        Assert.Equal(ErrorCode.UnknownOpcode, ErrorResponse.Read(frame.Payload).Code);
        Assert.Empty(Directory.GetFileSystemEntries(backups));
    }
}
