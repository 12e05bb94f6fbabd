namespace VectorStore.Cli.Commands;

/// <summary>Reads the auth token of <c>--token-file</c>, for <c>serve</c> and the <c>--server</c> client alike. Stateless.</summary>
public static class TokenFile
{
    /// <summary>The file's text without surrounding whitespace, as UTF-8; an unreadable file is a usage error.</summary>
    public static byte[] Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--token-file {path}: {e.Message}");
        }
        return System.Text.Encoding.UTF8.GetBytes(text);
    }
}
