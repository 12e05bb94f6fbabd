using System.CommandLine;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>silo</c> in the NativeAOT build (compiled only there): Orleans generates code at run time and cannot be compiled
/// ahead of time, so the native program refuses with a usage error that names the build that has it. Stateless.
/// </summary>
public sealed class SiloCommand : CliCommand
{
    /// <inheritdoc />
    public override Command Build()
    {
        var cmd = new Command("silo", "Run one cluster silo (not in the native build: use the dotnet tool, `dotnet tool install vectorstore`)");
        cmd.TreatUnmatchedTokensAsErrors = false;
        cmd.SetAction(_ => Guard(() => throw new UsageException(
            "silo needs the .NET runtime: Orleans, which runs the cluster, cannot be compiled ahead of time; run `vectorstore silo` from the dotnet tool (`dotnet tool install vectorstore`) or `dotnet vectorstore.dll silo`")));
        return cmd;
    }
}
