namespace VectorStore.Evaluation;

/// <summary>
/// The shape of <see cref="SyntheticData.TextLike"/> data: how many topics and sub-topics, and the scale of each level
/// (standard deviation per coordinate, except <see cref="Spread"/>, the scale of the first low-rank direction).
/// </summary>
public sealed record TextLikeShape(int Topics, int SubTopics, int Rank, double TopicScale, double SubTopicScale, double Spread, double Noise)
{
    /// <summary>The calibrated default (see <see cref="SyntheticData.TextLike"/>).</summary>
    public static TextLikeShape Default { get; } = new(Topics: 64, SubTopics: 256, Rank: 32, TopicScale: 0.09, SubTopicScale: 0.1, Spread: 1.0, Noise: 0.035);
}
