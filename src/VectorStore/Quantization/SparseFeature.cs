using System.Globalization;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace VectorStore.Quantization;

/// <summary>One weighted sparse feature: a token, a <c>field=value</c> string, or any other key. Immutable, so thread-safe.</summary>
/// <param name="Key">The feature name.</param>
/// <param name="Weight">Its weight (1 for a categorical feature).</param>
public readonly record struct SparseFeature(string Key, float Weight)
{
    /// <summary>Parses <c>token:weight</c> pairs separated by whitespace; a bare token (or <c>field=value</c>) weighs 1.</summary>
    public static SparseFeature[] ParseLine(string line)
    {
        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var result = new SparseFeature[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            int colon = parts[i].LastIndexOf(':');
            if (colon > 0 && float.TryParse(parts[i].AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out float w))
            {
                if (!float.IsFinite(w)) throw new InvalidVectorException($"feature '{parts[i]}' has a non-finite weight");
                result[i] = new SparseFeature(parts[i][..colon], w);
            }
            else
            {
                result[i] = new SparseFeature(parts[i], 1f);
            }
        }
        return result;
    }
}
