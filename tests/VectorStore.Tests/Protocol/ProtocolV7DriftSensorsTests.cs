using VectorStore.Lifecycle;
using VectorStore.Protocol;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// Protocol version 7 (data-format.md §5.5, §5.8): the GetDrift response says whether the live generation has drift
/// sensors and why not, so a report without any can be told from a healthy one. Version 6 keeps the old layout, and its
/// reports read back with <see cref="DriftReport.Sensors"/> null (not said).
/// </summary>
public class ProtocolV7DriftSensorsTests
{
    private static readonly DriftReport s_none = new()
    {
        Generation = 1, Sensors = false, NoSensorsReason = "no drift sensors: generation 1 was trained on 2000 vectors, fewer than 8000",
        Actions = ["rebalanced ivf lists"],
    };

    private static byte[] Encode(IWireMessage message) => ProtocolV4MessageTests.Bytes(message);

    [Fact]
    public void TheSensorsRoundTripInVersion7AndVersion6KeepsTheOldLayout()
    {
        var back = DriftResponse.Read(Encode(new DriftResponse(s_none))).Report;
        Assert.Equal((false, s_none.NoSensorsReason), (back.Sensors, back.NoSensorsReason));
        Assert.Equal(s_none.Actions, back.Actions);
        var healthy = DriftResponse.Read(Encode(new DriftResponse(FakeLifecycleClient.Drift with { Sensors = true }))).Report;
        Assert.Equal((true, (string?)null), (healthy.Sensors, healthy.NoSensorsReason));
        Assert.Equal(FakeLifecycleClient.Drift.Signals, healthy.Signals);

        var v6 = Encode(new DriftResponse(s_none, 6));
        Assert.Equal(Encode(new DriftResponse(s_none, 7)).Length - 1 - 2 - s_none.NoSensorsReason!.Length, v6.Length);
        var old = DriftResponse.Read(v6, 6).Report;
        Assert.Equal((null, null), (old.Sensors, old.NoSensorsReason));
        Assert.Throws<ProtocolException>(() => DriftResponse.Read(v6, 7));
    }

    [Fact]
    public void ASensorsFlagThatDisagreesWithItsReasonIsBadPayload()
    {
        var none = Encode(new DriftResponse(s_none));
        int flag = none.Length - 2 - s_none.NoSensorsReason!.Length - 1;
        Assert.Equal(0, none[flag]);
        none[flag] = 1;
        Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => DriftResponse.Read(none)).Code);

        var healthy = Encode(new DriftResponse(FakeLifecycleClient.Drift with { Sensors = true }));
        healthy[^3] = 0;
        Assert.Equal(ErrorCode.BadPayload, Assert.Throws<ProtocolException>(() => DriftResponse.Read(healthy)).Code);
    }

    [Fact]
    public async Task AServerSaysWhyAGenerationTrainedBelowTheMinimumHasNoSensors()
    {
        await using var live = LiveServer.Start();
        LiveServer.Populate(live.Database, "c", 2000, 8);
        await using var client = await live.ConnectAsync();
        var report = await client.GetDriftAsync("c");
        Assert.False(report.Drifted);
        Assert.False(report.Sensors);
        Assert.Equal("no drift sensors: generation 1 was trained on 2000 vectors, fewer than 8000", report.NoSensorsReason);

        using var raw = await RawConnection.OpenAsync(live.Port);
        await raw.SendAsync(Opcode.Hello, 0, new HelloRequest(6, System.Text.Encoding.UTF8.GetBytes(LiveServer.Token)));
        Assert.Equal((ushort)6, HelloResponse.Read((await raw.ReadFrameAsync()).Payload).Version);
        await raw.SendAsync(Opcode.GetDrift, 1, new NameRequest("c"));
        Assert.Null(DriftResponse.Read((await raw.ReadFrameAsync()).Payload, 6).Report.Sensors);
    }
}
