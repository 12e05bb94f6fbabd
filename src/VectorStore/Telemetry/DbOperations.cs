namespace VectorStore.Telemetry;

/// <summary>Values of <see cref="VectorStoreTelemetry.OperationNameAttribute"/>.</summary>
internal static class DbOperations
{
    public const string Search = "search";
    public const string Upsert = "upsert";
    public const string Delete = "delete";
    public const string Get = "get";
}
