namespace VectorStore.Collections;

/// <summary>One page of live ids, ascending, from <c>IVectorDatabaseClient.ListIdsAsync</c>.</summary>
/// <param name="Ids">The ids of this page, ascending.</param>
/// <param name="More">Whether ids greater than the last one of this page remain.</param>
public sealed record IdPage(ulong[] Ids, bool More);
