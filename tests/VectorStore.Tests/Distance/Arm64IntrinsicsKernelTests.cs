using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using Xunit;

namespace VectorStore.Tests.Distance;

/// <summary>
/// Proves which kernel paths an Arm64 run took: tools/arm64-tests.sh runs the kernel tests under emulation with the
/// NEON paths on, with the dot-product extension off, and with every intrinsic off, and a pass that silently fell
/// back to scalar code (or kept NEON when it was meant to be off) would prove nothing. Skipped on other CPUs.
/// </summary>
public class Arm64IntrinsicsKernelTests
{
    private static bool Off(string knob) =>
        Environment.GetEnvironmentVariable("DOTNET_" + knob) == "0" || Environment.GetEnvironmentVariable("COMPlus_" + knob) == "0";

    [SkippableFact]
    public void VectorPathsAreTakenUnlessDisabled()
    {
        Skip.IfNot(RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64, "Arm64 only (tools/arm64-tests.sh runs it under emulation)");
        bool on = !Off("EnableHWIntrinsic");
        Assert.Equal(on, AdvSimd.IsSupported);
        Assert.Equal(on, AdvSimd.Arm64.IsSupported);
        Assert.Equal(on, Vector128.IsHardwareAccelerated);
        Assert.False(Vector256.IsHardwareAccelerated);
        if (!on || Off("EnableArm64Dp")) Assert.False(Dp.IsSupported);
    }
}
