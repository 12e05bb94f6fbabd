namespace VectorStore.Tests.Distance;

/// <summary>Seeded inputs the kernel tests share.</summary>
internal static class KernelInputs
{
    /// <summary><paramref name="n"/> values uniform in (−scale, scale), plus <paramref name="shift"/>.</summary>
    public static float[] RandomFloats(Random rng, int n, float scale = 1f, float shift = 0)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            float v = (float)(rng.NextDouble() * 2 - 1) * scale;
            a[i] = shift == 0 ? v : v + shift;
        }
        return a;
    }
}
