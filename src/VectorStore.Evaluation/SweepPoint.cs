using System.Diagnostics;
using VectorStore.Collections;

namespace VectorStore.Evaluation;

/// <summary>One sweep point of a search parameter (<c>ef=64</c>, <c>nprobe=8</c>, <c>rerank=40</c>, or none).</summary>
/// <param name="Name"><c>ef</c>, <c>nprobe</c>, <c>rerank</c> (the re-rank depth instead of the run's) or <c>none</c>.</param>
/// <param name="Value">The value (0 for none).</param>
public readonly record struct SweepPoint(string Name, int Value)
{
    /// <summary>The contract's <c>param</c> string.</summary>
    public override string ToString() => Name == "none" ? "none" : $"{Name}={Value}";

    /// <summary>Parses <c>none</c>, <c>ef=16,32</c>, <c>nprobe=1,4,16</c> or <c>rerank=20,40,100</c>.</summary>
    public static IReadOnlyList<SweepPoint> ParseList(string text)
    {
        var t = text.Trim().ToLowerInvariant();
        if (t is "" or "none") return [new SweepPoint("none", 0)];
        int eq = t.IndexOf('=');
        if (eq < 0) throw new InvalidArgumentException($"--sweep '{text}': expected ef=… , nprobe=… , rerank=… or none");
        string name = t[..eq];
        if (name is not ("ef" or "nprobe" or "rerank")) throw new InvalidArgumentException($"--sweep '{text}': unknown parameter '{name}' (ef, nprobe or rerank)");
        var values = new List<SweepPoint>();
        foreach (var v in t[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(v, out int n) || n <= 0 || n > 1_000_000) throw new InvalidArgumentException($"--sweep '{text}': '{v}' is not a positive integer");
            values.Add(new SweepPoint(name, n));
        }
        if (values.Count == 0) throw new InvalidArgumentException($"--sweep '{text}' has no values");
        return values;
    }
}
