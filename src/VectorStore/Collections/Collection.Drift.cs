namespace VectorStore.Collections;

/// <summary>Drift sensors of the live generation and the ladder of actions they drive.</summary>
public sealed partial class Collection
{
    // DRIFT-WIRING: filled in when the drift module lands (StartDriftMonitor keeps the sensors' baseline).
    private void StartDriftMonitor(Generation g, VectorMatrix sample) { }

    private void SwapDriftMonitor(Generation old, Generation now) { }

    private byte[]? DriftStateLocked() => null;

    private void RestoreDriftLocked(byte[]? state) { }

    private void LadderAfterCanary(Generation candidate) { }

    private void NoteLadder(string action) { }

    /// <summary>The drift sensors of the live generation.</summary>
    public Lifecycle.DriftReport Drift() => new() { Generation = LiveGeneration };
}
