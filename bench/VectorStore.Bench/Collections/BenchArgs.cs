using System.Globalization;

namespace VectorStore.Bench.Collections;

/// <summary>The <c>--name value</c> flags of the scenario benchmarks (invariant culture; the fallback when absent).</summary>
internal sealed class BenchArgs(string[] args)
{
    public string Get(string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }

    public int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public double Double(string name, double fallback) => double.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
}
