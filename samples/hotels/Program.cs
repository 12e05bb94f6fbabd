using VectorStore;
using VectorStore.Client;
using VectorStore.VectorData;

// Usage: readme DIR | embedded DIR | remote HOST:PORT [TOKEN]
if (args.Length < 2) return Sample.Fail("usage: readme DIR | embedded DIR | remote HOST:PORT [TOKEN]");
switch (args[0])
{
    case "readme":
        return ReadmeSnippet.Run(args[1]);
    case "embedded":
    {
        using var store = new EngineVectorStore(new InProcessDatabaseClient(VectorDatabase.Open(args[1]), ownsDatabase: true), ownsClient: true);
        return await HotelSearch.RunAsync(store);
    }
    case "remote":
    {
        var client = await VectorStoreClient.ConnectAsync(args[1], new ClientOptions { Token = args.Length > 2 ? System.Text.Encoding.UTF8.GetBytes(args[2]) : null });
        using var store = new EngineVectorStore(client, ownsClient: true);
        return await HotelSearch.RunAsync(store);
    }
    default:
        return Sample.Fail($"unknown mode '{args[0]}'");
}

internal static class Sample
{
    public static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 1;
    }
}
