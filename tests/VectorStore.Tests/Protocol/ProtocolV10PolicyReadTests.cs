using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Lifecycle;
using VectorStore.Protocol;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// Version 10: GetLifecyclePolicy (<c>0x6B</c>) reads back what SetLifecyclePolicy set, so an operator can see what a
/// collection does by itself (promote on drift included) and start a change from it (data-format.md 5.8).
/// </summary>
public class ProtocolV10PolicyReadTests
{
    [Fact]
    public async Task ThePolicySetIsReadBackInProcessOverTcpAndAfterAReopen()
    {
        var dir = TestData.TempDir();
        var policy = new LifecyclePolicy
        {
            RetainRetired = 3, RebalanceOnDrift = true, BuildCandidateOnDrift = true, PromoteWhenGatePasses = true, CanaryRate = 0.2,
            RollbackRecallFloor = 0.8, BuildVectorsPerSecond = 5000, Gate = new PromotionGate { MaxRecallLoss = 0.02, MaxP99Factor = 2, MinExactQueries = 50 },
        };
        await using (var live = LiveServer.Start(db: VectorDatabase.Open(dir)))
        {
            LiveServer.Populate(live.Database, "c", 100, 4, compression: "none");
            await using var client = await live.ConnectAsync();
            Assert.Equal(new LifecyclePolicy(), await client.GetLifecyclePolicyAsync("c")); // none set: the defaults
            await client.SetLifecyclePolicyAsync("c", policy);
            Assert.Equal(policy, await client.GetLifecyclePolicyAsync("c"));
            var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.GetLifecyclePolicyAsync("absent"));
            Assert.Contains("absent", e.Message, StringComparison.Ordinal);
        }
        using var reopened = VectorDatabase.Open(dir);
        await using var inProcess = new InProcessDatabaseClient(reopened, ownsDatabase: false);
        Assert.Equal(policy, await inProcess.GetLifecyclePolicyAsync("c"));
    }

    [Fact]
    public async Task AVersion9ConnectionGetsUnknownOpcode()
    {
        await using var live = LiveServer.Start();
        LiveServer.Populate(live.Database, "c", 10, 4, compression: "none");
        using var raw = await RawConnection.OpenAsync(live.Port);
        await raw.SendAsync(Opcode.Hello, 0, new HelloRequest(9, System.Text.Encoding.UTF8.GetBytes(LiveServer.Token)));
        var (_, _, hello) = await raw.ReadFrameAsync();
        Assert.Equal((ushort)9, HelloResponse.Read(hello).Version);
        await raw.SendAsync(Opcode.GetLifecyclePolicy, 1, new NameRequest("c"));
        Assert.Equal(ErrorCode.UnknownOpcode, (await raw.ReadErrorAsync()).Code);
        await raw.SendAsync(Opcode.GetDrift, 2, new NameRequest("c"));
        var (_, _, drift) = await raw.ReadFrameAsync();
        Assert.NotNull(DriftResponse.Read(drift, 9).Report); // the connection goes on at version 9
    }

    [Fact]
    public async Task AgainstAVersion9ServerTheClientRefusesBeforeSending()
    {
        await using var server = new OldVersionServer(9);
        await using var client = await VectorStoreClient.ConnectAsync("127.0.0.1", server.Port);
        int sent = server.Requests.Count;
        var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => client.GetLifecyclePolicyAsync("c"));
        Assert.Contains("protocol version 9, which cannot read a lifecycle policy back (version 10 can)", e.Message, StringComparison.Ordinal);
        Assert.Equal(sent, server.Requests.Count);
    }
}
