using System.Text.Json.Serialization;

namespace VectorStore.Evaluation;

/// <summary>
/// One variant's measurements in a compression report. JSON names follow the CLI contract (<c>eval</c>'s keys plus the
/// report's own). Model-side costs (training, encoding, bytes) and serving-side costs (latency, QPS) are separate fields.
/// Immutable, so thread-safe.
/// </summary>
public sealed record ReportRow
{
    /// <summary>Index spec the variant ran on.</summary>
    [JsonPropertyName("index")] public string Index { get; init; } = "";

    /// <summary>Compression spec as requested.</summary>
    [JsonPropertyName("compression")] public string Compression { get; init; } = "";

    /// <summary>Metric (<c>l2</c>, <c>ip</c>, <c>cosine</c>).</summary>
    [JsonPropertyName("metric")] public string Metric { get; init; } = "";

    /// <summary>Search parameter (<c>ef=…</c>, <c>nprobe=…</c> or <c>none</c>).</summary>
    [JsonPropertyName("param")] public string Param { get; init; } = "none";

    /// <summary>k of the timed search.</summary>
    [JsonPropertyName("k")] public int K { get; init; }

    /// <summary>Re-rank depth (0 = codec estimates only).</summary>
    [JsonPropertyName("rerank")] public int Rerank { get; init; }

    /// <summary>recall@k of the timed search (k = <see cref="K"/>).</summary>
    [JsonPropertyName("recall_at_k")] public double RecallAtK { get; init; }

    /// <summary>recall@1.</summary>
    [JsonPropertyName("recall_at_1")] public double RecallAt1 { get; init; }

    /// <summary>recall@10.</summary>
    [JsonPropertyName("recall_at_10")] public double RecallAt10 { get; init; }

    /// <summary>recall@100 (a separate k = 100 search with the same re-rank depth).</summary>
    [JsonPropertyName("recall_at_100")] public double RecallAt100 { get; init; }

    /// <summary>nDCG@10 with binary relevance (a result is relevant when it is in the true top 10).</summary>
    [JsonPropertyName("ndcg_at_10")] public double NdcgAt10 { get; init; }

    /// <summary>Mean per-query Spearman correlation between codec-estimated and exact scores over the top-100 candidates.</summary>
    [JsonPropertyName("spearman")] public double Spearman { get; init; }

    /// <summary>Mean absolute error between codec-estimated and exact scores over the same candidates.</summary>
    [JsonPropertyName("score_mae")] public double ScoreMae { get; init; }

    /// <summary>Queries per second on one thread.</summary>
    [JsonPropertyName("qps")] public double Qps { get; init; }

    /// <summary>Threads of <see cref="Qps"/>: always 1.</summary>
    [JsonPropertyName("threads")] public int Threads { get; init; } = 1;

    /// <summary>Queries per second on <see cref="AllThreads"/> threads.</summary>
    [JsonPropertyName("qps_all_threads")] public double QpsAllThreads { get; init; }

    /// <summary>Threads of <see cref="QpsAllThreads"/>.</summary>
    [JsonPropertyName("all_threads")] public int AllThreads { get; init; }

    /// <summary>Median single-thread latency, µs.</summary>
    [JsonPropertyName("p50_us")] public double P50Us { get; init; }

    /// <summary>99th-percentile single-thread latency, µs.</summary>
    [JsonPropertyName("p99_us")] public double P99Us { get; init; }

    /// <summary>Codec training plus encoding of every vector into the index, seconds.</summary>
    [JsonPropertyName("build_seconds")] public double BuildSeconds { get; init; }

    /// <summary>Training part of <see cref="BuildSeconds"/>: build time minus the measured encoding time at the same parallelism.</summary>
    [JsonPropertyName("train_seconds")] public double TrainSeconds { get; init; }

    /// <summary>Single-thread encoding cost per vector, µs (model-side serving cost of an insert).</summary>
    [JsonPropertyName("encode_us_per_vector")] public double EncodeUsPerVector { get; init; }

    /// <summary>Resident bytes of codes, index structures and amortized codec parameters per vector.</summary>
    [JsonPropertyName("bytes_per_vector")] public double BytesPerVector { get; init; }

    /// <summary>Bytes of one code.</summary>
    [JsonPropertyName("code_bytes")] public int CodeBytes { get; init; }

    /// <summary>Bytes of the trained parameters (matrices, codebooks).</summary>
    [JsonPropertyName("parameter_bytes")] public long ParameterBytes { get; init; }

    /// <summary>float32 bytes per vector divided by <see cref="BytesPerVector"/>.</summary>
    [JsonPropertyName("compression_ratio")] public double CompressionRatio { get; init; }

    /// <summary>Full-precision bytes per vector kept for re-ranking (0 without re-ranking).</summary>
    [JsonPropertyName("rerank_bytes_per_vector")] public double RerankBytesPerVector { get; init; }

    /// <summary>Largest process working set seen while this variant ran, MiB (includes the loaded dataset).</summary>
    [JsonPropertyName("peak_rss_mb")] public double PeakRssMb { get; init; }

    /// <summary>Managed heap growth from before the build to after it, MiB (what the built collection holds).</summary>
    [JsonPropertyName("heap_mb")] public double HeapMb { get; init; }

    /// <summary>Base vectors.</summary>
    [JsonPropertyName("count")] public int Count { get; init; }

    /// <summary>Dimension.</summary>
    [JsonPropertyName("dim")] public int Dim { get; init; }

    /// <summary>Transform diagnostics (explained variance, kept sensitivity, …), or null.</summary>
    [JsonPropertyName("diagnostics")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Diagnostics { get; init; }

    /// <summary>Why the variant could not run (unknown spec, bad argument), or null.</summary>
    [JsonPropertyName("error")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Error { get; init; }
}
