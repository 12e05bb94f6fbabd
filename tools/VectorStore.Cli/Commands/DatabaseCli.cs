namespace VectorStore.Cli.Commands;

/// <summary>Opening a database directory for the persistent-database commands.</summary>
internal static class DatabaseCli
{
    /// <summary>
    /// Opens <paramref name="dir"/>; unless <paramref name="create"/>, the directory must already hold a database
    /// (a typo in --db should not silently create an empty one).
    /// </summary>
    public static VectorDatabase Open(string dir, bool create = false)
    {
        if (!create && !File.Exists(Path.Combine(dir, "MANIFEST")))
            throw new StoreCorruptedException(dir, "no VectorStore database here (MANIFEST missing); run 'create' first");
        return VectorDatabase.Open(dir);
    }
}
