using System.Diagnostics.CodeAnalysis;
using VectorStore.Collections;

namespace VectorStore;

/// <summary>Lookups that do not throw, get-or-create, and the asynchronous database calls.</summary>
/// <remarks>
/// Creating a collection writes its directory, log and the manifest with fsyncs; it is rare, so the asynchronous
/// forms do it on the calling thread (the token is checked before anything changes). Writes and flushes wait for
/// durability without holding a thread (<see cref="Collection.UpsertBatchAsync(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]}, CancellationToken)"/>).
/// </remarks>
public sealed partial class VectorDatabase
{
    /// <summary>
    /// Whether a collection called <paramref name="name"/> exists: true also for one set aside when the database opened
    /// (<see cref="DamagedCollections"/>), which exists but is not served.
    /// </summary>
    public bool CollectionExists(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_gate)
        {
            ThrowIfClosed();
            return _collections.ContainsKey(name) || _damaged.ContainsKey(name);
        }
    }

    /// <summary>
    /// The collection called <paramref name="name"/>, if it exists. One set aside when the database opened
    /// (<see cref="DamagedCollections"/>) throws the error it was set aside with: it exists, but cannot be served.
    /// </summary>
    public bool TryGetCollection(string name, [NotNullWhen(true)] out Collection? collection)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_gate)
        {
            ThrowIfClosed();
            ThrowIfDamaged(name);
            return _collections.TryGetValue(name, out collection);
        }
    }

    /// <summary>
    /// The collection called <paramref name="name"/>, created with <paramref name="options"/> if it does not exist,
    /// atomically (two threads asking at once get the same collection). An existing collection must have been created
    /// with the same options (<see cref="CollectionOptions.RawVectors"/> left null matches either residency; once a
    /// promotion has made another compression generation live, its compression and index are not compared: see
    /// <see cref="CollectionOptions.DifferenceFrom(CollectionOptions, int)"/>), else
    /// an <see cref="InvalidArgumentException"/> names the first difference: data written for one dimension or metric
    /// must not silently go to another.
    /// </summary>
    public Collection GetOrCreateCollection(string name, CollectionOptions options) => GetOrCreateCollection(name, options, out _);

    /// <inheritdoc cref="GetOrCreateCollection(string, CollectionOptions)"/>
    /// <param name="name">The collection's name.</param>
    /// <param name="options">Its options: used to create it, or compared with those it was created with.</param>
    /// <param name="created">Whether this call created it.</param>
    public Collection GetOrCreateCollection(string name, CollectionOptions options, out bool created)
    {
        created = false;
        ArgumentNullException.ThrowIfNull(options);
        ValidateName(name);
        lock (_gate)
        {
            ThrowIfClosed();
            ThrowIfDamaged(name);
            if (_collections.TryGetValue(name, out var existing))
            {
                // Without the collection's lock (a training holds it for seconds, and _gate is held here): the generation
                // read before and after the options, so a promotion or rollback between the reads errs on accepting.
                int before = existing.LiveGenerationUnlocked;
                var have = existing.Options;
                int generation = before != 1 ? before : existing.LiveGenerationUnlocked;
                if (options.DifferenceFrom(have, generation) is { } difference)
                    throw new InvalidArgumentException($"collection '{name}' already exists with different options: {difference}");
                return existing;
            }
            created = true;
            return CreateCollection(name, options);
        }
    }

    /// <summary><see cref="CreateCollection"/> as a task (runs on the calling thread; see the remarks of the type).</summary>
    public Task<Collection> CreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default) =>
        InlineTask.Run(() => CreateCollection(name, options), cancellationToken);

    /// <summary><see cref="GetOrCreateCollection(string, CollectionOptions)"/> as a task (runs on the calling thread; see the remarks of the type).</summary>
    public Task<Collection> GetOrCreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default) =>
        InlineTask.Run(() => GetOrCreateCollection(name, options, out _), cancellationToken);

    /// <summary><see cref="DropCollection"/> as a task (runs on the calling thread).</summary>
    public Task<bool> DropCollectionAsync(string name, CancellationToken cancellationToken = default) =>
        InlineTask.Run(() => DropCollection(name), cancellationToken);

    /// <summary>
    /// <see cref="Flush"/> without blocking a thread: completes once every write appended so far, in every
    /// collection, is durable. Cancelling stops the wait, not the commits.
    /// </summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        foreach (var store in OpenStores()) await store.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
