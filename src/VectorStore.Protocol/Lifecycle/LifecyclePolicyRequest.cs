using VectorStore.Lifecycle;

namespace VectorStore.Protocol;

/// <summary>
/// SetLifecyclePolicy (version 5): <c>str16 name</c>, <c>i32 retainRetired</c>, <c>u8 ladder</c> (bit 0 rebalance on
/// drift, bit 1 build a candidate on drift, bit 2 promote when the gate passes; other bits <see cref="ErrorCode.BadPayload"/>),
/// <c>f64 canaryRate</c>, <c>gate</c>, <c>bool hasFloor</c>, <c>f64 rollbackRecallFloor</c> (present always, read only
/// with hasFloor), <c>i32 buildVectorsPerSecond</c>. Validated (<see cref="LifecyclePolicy.Validate"/>) on both sides.
/// The response is empty. The same layout is GetLifecyclePolicy's response (version 10): the collection's name and
/// the policy it holds.
/// </summary>
/// <param name="Name">Collection name.</param>
/// <param name="Policy">The policy.</param>
public sealed record LifecyclePolicyRequest(string Name, LifecyclePolicy Policy) : IWireMessage
{
    private const byte RebalanceBit = 1, BuildBit = 2, PromoteBit = 4;

    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + 4 + 1 + 8 + LifecycleCodec.GateSize + 1 + 8 + 4;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        Policy.Validate();
        w.Str(Name);
        w.I32(Policy.RetainRetired);
        w.U8((byte)((Policy.RebalanceOnDrift ? RebalanceBit : 0) | (Policy.BuildCandidateOnDrift ? BuildBit : 0) | (Policy.PromoteWhenGatePasses ? PromoteBit : 0)));
        w.F64(Policy.CanaryRate);
        LifecycleCodec.WriteGate(ref w, Policy.Gate);
        w.Bool(Policy.RollbackRecallFloor is not null);
        w.F64(Policy.RollbackRecallFloor ?? 0);
        w.I32(Policy.BuildVectorsPerSecond);
    }

    /// <summary>Decodes and validates; throws <see cref="ProtocolException"/> or <see cref="InvalidArgumentException"/>.</summary>
    public static LifecyclePolicyRequest Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        int retain = r.I32("retainRetired");
        byte ladder = r.U8("ladder");
        if ((ladder & ~(RebalanceBit | BuildBit | PromoteBit)) != 0) throw new ProtocolException(ErrorCode.BadPayload, $"unknown ladder bits 0x{ladder:X2}");
        double canaryRate = r.F64("canaryRate");
        var gate = LifecycleCodec.ReadGate(ref r);
        bool hasFloor = r.Bool("hasFloor");
        double floor = r.F64("rollbackRecallFloor");
        int throttle = r.I32("buildVectorsPerSecond");
        r.End();
        var policy = new LifecyclePolicy
        {
            RetainRetired = retain,
            RebalanceOnDrift = (ladder & RebalanceBit) != 0,
            BuildCandidateOnDrift = (ladder & BuildBit) != 0,
            PromoteWhenGatePasses = (ladder & PromoteBit) != 0,
            CanaryRate = canaryRate,
            Gate = gate,
            RollbackRecallFloor = hasFloor ? floor : null,
            BuildVectorsPerSecond = throttle,
        };
        policy.Validate();
        return new LifecyclePolicyRequest(name, policy);
    }
}
