namespace VectorStore.Collections;

/// <summary>
/// Search settings <see cref="Collection.TuneSearch"/> or <see cref="Collection.TuneSearchOnQueries"/> chose for a target recall: pass them as
/// <see cref="SearchOptions.Rerank"/>, <see cref="SearchOptions.Ef"/> and <see cref="SearchOptions.NProbe"/>.
/// </summary>
/// <param name="Rerank">Re-rank depth (0: codes are exact, or too few vectors to measure).</param>
/// <param name="Ef">HNSW beam width (0 for other indexes).</param>
/// <param name="NProbe">IVF lists probed (0 for other indexes).</param>
public sealed record TunedSearchSettings(int Rerank, int Ef, int NProbe);
