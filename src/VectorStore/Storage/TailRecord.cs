namespace VectorStore.Storage;

/// <summary>
/// One durable-tail record: the log spans [<paramref name="Begin"/>, <paramref name="Durable"/>) and, when
/// <paramref name="Framed"/>, its chain stands at <paramref name="BeginPoint"/> at the begin and at
/// <paramref name="DurablePoint"/> at the durable address (the last acknowledged entry is DurablePoint.Sequence − 1).
/// </summary>
internal readonly record struct TailRecord(long Begin, LogFraming.Point BeginPoint, long Durable, LogFraming.Point DurablePoint, bool Framed);
