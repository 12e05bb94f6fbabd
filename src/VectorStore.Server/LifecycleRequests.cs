using VectorStore.Lifecycle;
using VectorStore.Protocol;

namespace VectorStore.Server;

/// <summary>
/// The compression-lifecycle opcodes (protocol version 5, data-format.md §5.8), shared by both request handlers: the
/// payload is decoded before the first await, then the call goes to the database when it is an
/// <see cref="ICompressionLifecycleClient"/>. A connection below version 5 gets <see cref="ErrorCode.UnknownOpcode"/>
/// (what a version-4 server answers), a database without generations (a cluster gateway) <see cref="ErrorCode.NotSupported"/>.
/// Stateless.
/// </summary>
internal static class LifecycleRequests
{
    /// <summary>Whether <paramref name="opcode"/> is one of the lifecycle requests.</summary>
    public static bool Handles(byte opcode) => opcode is >= (byte)Opcode.BuildGeneration and <= (byte)Opcode.GetLifecyclePolicy;

    /// <summary>Decodes and runs one lifecycle request against <paramref name="db"/>.</summary>
    public static ValueTask<IWireMessage> Execute(IVectorDatabaseClient db, byte opcode, ReadOnlySpan<byte> payload, ushort version, ProtocolLimits limits)
    {
        if (version < ProtocolConstants.LifecycleVersion)
            throw new ProtocolException(ErrorCode.UnknownOpcode, $"opcode 0x{opcode:X2} needs protocol version {ProtocolConstants.LifecycleVersion}; this connection speaks {version}");
        // Decoded (and so validated) before the database is asked: a malformed request is BadPayload wherever it goes.
        switch ((Opcode)opcode)
        {
            case Opcode.BuildGeneration:
            {
                var r = BuildGenerationRequest.Read(payload);
                return Int(Lifecycle(db).BuildGenerationAsync(r.Name, r.Compression, r.Index, r.Wait));
            }
            case Opcode.ListGenerations:
                return ListAsync(Lifecycle(db), NameRequest.Read(payload).Name, limits);
            case Opcode.RunCanary:
            {
                var r = RunCanaryRequest.Read(payload, limits, version);
                return CanaryAsync(Lifecycle(db).RunCanaryAsync(r.Search.Name, r.Generation, r.Search.Queries, r.Search.Options), limits);
            }
            case Opcode.StartCanary:
            {
                var r = StartCanaryRequest.Read(payload);
                return Empty(Lifecycle(db).StartCanaryAsync(r.Name, r.Settings));
            }
            case Opcode.StopCanary:
                return Empty(Lifecycle(db).StopCanaryAsync(NameRequest.Read(payload).Name));
            case Opcode.SetExposure:
            {
                var r = SetExposureRequest.Read(payload);
                return Empty(Lifecycle(db).SetExposureAsync(r.Name, r.Generation, r.Percent));
            }
            case Opcode.Promote:
            {
                var r = PromoteRequest.Read(payload);
                return Empty(Lifecycle(db).PromoteAsync(r.Name, r.Generation, r.Gate));
            }
            case Opcode.Rollback:
                return Int(Lifecycle(db).RollbackAsync(NameRequest.Read(payload).Name));
            case Opcode.CollectGenerations:
                return Int(Lifecycle(db).CollectGenerationsAsync(NameRequest.Read(payload).Name));
            case Opcode.SetLifecyclePolicy:
            {
                var r = LifecyclePolicyRequest.Read(payload);
                return Empty(Lifecycle(db).SetLifecyclePolicyAsync(r.Name, r.Policy));
            }
            case Opcode.GetDrift:
                return DriftAsync(Lifecycle(db).GetDriftAsync(NameRequest.Read(payload).Name), version);
            case Opcode.GetLifecyclePolicy:
            {
                if (version < ProtocolConstants.PolicyReadVersion)
                    throw new ProtocolException(ErrorCode.UnknownOpcode, $"opcode 0x{opcode:X2} needs protocol version {ProtocolConstants.PolicyReadVersion}; this connection speaks {version}");
                string name = NameRequest.Read(payload).Name;
                return PolicyAsync(name, Lifecycle(db).GetLifecyclePolicyAsync(name));
            }
            default:
                throw new ProtocolException(ErrorCode.UnknownOpcode, $"unknown opcode 0x{opcode:X2}");
        }
    }

    private static ICompressionLifecycleClient Lifecycle(IVectorDatabaseClient db) =>
        db as ICompressionLifecycleClient
        ?? throw new ProtocolException(ErrorCode.NotSupported,
            "this server's database does not support compression generations (a cluster gateway has none); build, canary, promote and drift need a single-node server ('vectorstore serve')");

    private static async ValueTask<IWireMessage> Empty(Task work)
    {
        await work.ConfigureAwait(false);
        return EmptyResponse.Instance;
    }

    private static async ValueTask<IWireMessage> Int(Task<int> work) => new Int32Response(await work.ConfigureAwait(false));

    private static async ValueTask<IWireMessage> PolicyAsync(string name, Task<LifecyclePolicy> work) =>
        new LifecyclePolicyRequest(name, await work.ConfigureAwait(false));

    private static async ValueTask<IWireMessage> ListAsync(ICompressionLifecycleClient db, string name, ProtocolLimits limits)
    {
        var response = new GenerationsResponse(await db.ListGenerationsAsync(name).ConfigureAwait(false));
        ErrorMapping.RequireResponseSize(response.Size, limits, "generation list");
        return response;
    }

    private static async ValueTask<IWireMessage> CanaryAsync(Task<CanaryReport> work, ProtocolLimits limits)
    {
        var response = new CanaryResponse(await work.ConfigureAwait(false));
        ErrorMapping.RequireResponseSize(response.Size, limits, "canary report");
        return response;
    }

    private static async ValueTask<IWireMessage> DriftAsync(Task<DriftReport> work, ushort version) => new DriftResponse(await work.ConfigureAwait(false), version);
}
