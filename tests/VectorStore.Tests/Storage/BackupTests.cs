using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Filtering;
using VectorStore.Tests.Filtering;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// <see cref="VectorDatabase.Backup"/>: a copy of a serving database that opens on its own with every write
/// acknowledged before the backup began, bit-identical; writers go on meanwhile; the copy takes writes and keeps them
/// through a crash; bad targets are refused before anything is written, and a failed backup leaves nothing behind.
/// </summary>
public sealed class BackupTests
{
    private const int Dim = 16;

    /// <summary>
    /// Three collections in three states: "flat" checkpointed then changed in its log only (overwrites, deletes),
    /// "hnsw" with declared fields never checkpointed, "empty" never written.
    /// </summary>
    private static (string Dir, VectorMatrix Flat, VectorMatrix Hnsw) Populate(VectorDatabase db)
    {
        var flat = Vectors(900, Dim, 1);
        var c = db.CreateCollection("flat", Options(Dim));
        Load(c, flat, 0, 150);
        db.Compact("flat");
        Load(c, Vectors(100, Dim, 7), 0, 50); // overwrites ids 0..99 in the log only
        for (ulong id = 800; id < 850; id++) Assert.True(c.Delete(id));
        var hnsw = FieldStoreTests.Fill(db, "hnsw", 700, "sq8", "hnsw:8", out var m);
        db.CreateCollection("empty", Options(Dim));
        return (db.Directory!, flat, m);
    }

    private static void AssertSameContents(Collection expected, Collection actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (ulong id in expected.Ids())
        {
            var e = expected.Get(id)!;
            var a = actual.Get(id);
            Assert.True(a is not null, $"id {id} missing from the backup");
            Assert.True(e.Vector.AsSpan().SequenceEqual(a!.Vector), $"id {id}: vector differs");
            Assert.Equal(e.Payload, a.Payload);
        }
        var queries = Vectors(20, expected.Options.Dimension, 99);
        for (int q = 0; q < queries.Count; q++)
        {
            var want = expected.Search(queries.Row(q), new SearchOptions { K = 10 });
            var got = actual.Search(queries.Row(q), new SearchOptions { K = 10 });
            Assert.Equal(want.Select(h => h.Id), got.Select(h => h.Id));
        }
    }

    [Fact]
    public void TheBackupOpensOnItsOwnWithEveryAcknowledgedWriteBitIdentical()
    {
        var dir = TestData.TempDir();
        string target = Path.Combine(TestData.TempDir(), "backup");
        using var db = Open(dir);
        Populate(db);
        var result = db.Backup(target);

        Assert.Equal(target, result.Directory);
        Assert.Equal(["empty", "flat", "hnsw"], result.Collections.Select(c => c.Name));
        Assert.Equal([0L, 850L, 700L], result.Collections.Select(c => c.Count));
        Assert.Empty(result.SkippedDamaged);
        Assert.True(result.Bytes > 0);
        // Nothing half-written is left beside it.
        Assert.Equal([target], Directory.GetDirectories(Path.GetDirectoryName(target)!));

        using (var copy = Open(target))
        {
            Assert.Equal(db.CollectionNames.Order(), copy.CollectionNames.Order());
            foreach (string name in db.CollectionNames)
            {
                var a = copy.GetCollection(name);
                Assert.Equal(db.GetCollection(name).Options.Compression, a.Options.Compression);
                Assert.Equal(db.GetCollection(name).Options.Index, a.Options.Index);
                AssertSameContents(db.GetCollection(name), a);
            }
            // Field values and filters came along.
            var where = Filter.Eq("kind", "lib");
            var q = Vectors(1, Dim, 5).Row(0).ToArray();
            var opts = new SearchOptions { K = 50, Filter = new SearchFilter { Where = where }, IncludeFields = true };
            Assert.Equal(db.GetCollection("hnsw").Search(q, opts).Select(h => h.Id), copy.GetCollection("hnsw").Search(q, opts).Select(h => h.Id));
            Assert.NotEmpty(copy.GetCollection("hnsw").Search(q, opts));
        }
        // The source goes on serving and writing.
        db.GetCollection("flat").UpsertBatch([5000], Vectors(1, Dim, 3));
        Assert.NotNull(db.GetCollection("flat").Get(5000));
    }

    [Fact]
    public async Task ResidentVectorsAndCandidateGenerationsComeAlong()
    {
        var dir = TestData.TempDir();
        string target = Path.Combine(TestData.TempDir(), "g");
        using var db = Open(dir);
        var c = db.CreateCollection("ram", Options(Dim) with { RawVectors = RawVectorResidency.Ram });
        Load(c, Vectors(1200, Dim, 4), 0, 300);
        int candidate = c.BuildGeneration("pq:8x4", "ivf:8");
        await c.WaitForGeneration(candidate);
        db.Backup(target);

        using var copy = Open(target);
        var b = copy.GetCollection("ram");
        Assert.Equal(RawVectorResidency.Ram, b.Options.RawVectors);
        Assert.Equal(c.Generations().Select(g => (g.Generation, g.State, g.Compression, g.Index)),
            b.Generations().Select(g => (g.Generation, g.State, g.Compression, g.Index)));
        AssertSameContents(c, b);
        b.Promote(candidate);
        Assert.Equal(1200, b.Count);
    }

    [Fact]
    public async Task ABackupRacingTheDatabasesCloseEndsWholeOrLeavesNothing()
    {
        for (int round = 0; round < 4; round++)
        {
            var dir = TestData.TempDir();
            var parent = TestData.TempDir();
            var db = Open(dir);
            foreach (string name in new[] { "a", "b", "c" }) Load(db.CreateCollection(name, Options(Dim)), Vectors(3000, Dim, round), 0, 1000);
            var backup = Task.Run(() => db.Backup(Path.Combine(parent, "b")));
            await Task.Delay(round * 5);
            db.Dispose();
            try
            {
                await backup;
                using var copy = Open(Path.Combine(parent, "b"));
                Assert.Equal(3, copy.CollectionNames.Count);
            }
            catch (ObjectDisposedException)
            {
                Assert.Empty(Directory.GetFileSystemEntries(parent));
            }
            using var again = Open(dir);
            Assert.All(again.CollectionNames, n => Assert.Equal(3000, again.GetCollection(n).Count));
        }
    }

    [Fact]
    public void TheCopyTakesWritesAndKeepsThemThroughACrash()
    {
        var dir = TestData.TempDir();
        string target = Path.Combine(TestData.TempDir(), "b");
        var more = Vectors(300, Dim, 11);
        using (var db = Open(dir))
        {
            Populate(db);
            db.Backup(target);
        }
        var copy = Open(target);
        Load(copy.GetCollection("flat"), more, 10_000, 100);
        Assert.True(copy.GetCollection("flat").Delete(10));
        Crash(copy);
        using (var reopened = Open(target))
        {
            var c = reopened.GetCollection("flat");
            AssertHas(c, more, 10_000, 300);
            Assert.Null(c.Get(10));
            Assert.Equal(850 + 300 - 1, c.Count);
        }
        // And once more after a clean close (the copy's own checkpoints and log truncation).
        using (var again = Open(target)) Assert.Equal(850 + 300 - 1, again.GetCollection("flat").Count);
    }

    [Fact]
    public async Task WritersGoOnDuringTheBackupAndItHoldsEveryBatchAcknowledgedBeforeIt()
    {
        var dir = TestData.TempDir();
        string target = Path.Combine(TestData.TempDir(), "live");
        var rows = Vectors(40_000, Dim, 21);
        using var db = Open(dir);
        var c = db.CreateCollection("c", Options(Dim));
        Load(c, rows.Slice(0, 2_000), 0, 500);
        int acked = 4; // batches of 500
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (int b = 4; b < 80 && !stop.IsCancellationRequested; b++)
            {
                var ids = Enumerable.Range(b * 500, 500).Select(i => (ulong)i).ToArray();
                c.UpsertBatch(ids, rows.Slice(b * 500, 500), ids.Select(Payload).ToArray());
                Volatile.Write(ref acked, b + 1);
            }
        });
        while (Volatile.Read(ref acked) < 10 && !writer.IsCompleted) Thread.Sleep(1);
        int before = Volatile.Read(ref acked);
        var result = db.Backup(target);
        stop.Cancel();
        await writer;

        using var copy = Open(target);
        var b2 = copy.GetCollection("c");
        Assert.Equal(result.Collections.Single().Count, b2.Count);
        // Whole batches only, a prefix of the writer's, at least those acknowledged before the backup began.
        Assert.Equal(0, b2.Count % 500);
        Assert.True(b2.Count >= before * 500, $"backup has {b2.Count} vectors, {before * 500} were acknowledged before it began");
        AssertHas(b2, rows.Slice(0, b2.Count), 0, b2.Count);
        Assert.Null(b2.Get((ulong)b2.Count));
    }

    [Fact]
    public void BadTargetsAreRefusedBeforeAnythingIsWritten()
    {
        var dir = TestData.TempDir();
        using var db = Open(dir);
        Load(db.CreateCollection("c", Options(Dim)), Vectors(50, Dim, 1), 0, 50);
        var parent = TestData.TempDir();

        string full = Path.Combine(parent, "full");
        Directory.CreateDirectory(full);
        File.WriteAllText(Path.Combine(full, "keep.txt"), "mine");
        var e = Assert.Throws<InvalidArgumentException>(() => db.Backup(full));
        Assert.Contains("not empty", e.Message);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(full).Select(Path.GetFileName));

        string file = Path.Combine(parent, "afile");
        File.WriteAllText(file, "x");
        Assert.Contains("is a file", Assert.Throws<InvalidArgumentException>(() => db.Backup(file)).Message);
        Assert.Contains("inside the database directory",
            Assert.Throws<InvalidArgumentException>(() => db.Backup(Path.Combine(dir, "collections", "bk"))).Message);
        Assert.Throws<InvalidArgumentException>(() => db.Backup(" "));
        // Through a symbolic link to the database, still inside it.
        string link = Path.Combine(parent, "link");
        Directory.CreateSymbolicLink(link, dir);
        Assert.Contains("inside the database directory",
            Assert.Throws<InvalidArgumentException>(() => db.Backup(Path.Combine(link, "collections", "bk"))).Message);
        Directory.Delete(link);
        // A name whose hidden partial sibling would not fit a file name.
        Assert.Contains("longer than 200 bytes", Assert.Throws<InvalidArgumentException>(() => db.Backup(Path.Combine(parent, new string('n', 201)))).Message);
        Assert.False(Directory.Exists(Path.Combine(dir, "collections", "bk")));

        using var memory = VectorDatabase.CreateInMemory();
        Assert.Contains("in-memory", Assert.Throws<InvalidArgumentException>(() => memory.Backup(Path.Combine(parent, "m"))).Message);

        // An empty directory (a mount point, say, which no rename can replace) is filled in place.
        string empty = Path.Combine(parent, "empty");
        Directory.CreateDirectory(empty);
        Assert.Equal(50, db.Backup(empty).Collections.Single().Count);
        Assert.Equal(["MANIFEST", "collections"], Directory.GetFileSystemEntries(empty).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using (var copy = Open(empty)) Assert.Equal(50, copy.GetCollection("c").Count);
        Assert.Equal(["afile", "empty", "full"], Directory.GetFileSystemEntries(parent).Select(Path.GetFileName).Order());
    }

    /// <summary>
    /// A copy that would leave less than the database's free-space reserve on the backup's file system is refused
    /// before anything is written, and the error names the directory asked for, not the hidden partial one.
    /// </summary>
    [Fact]
    public void ABackupThatWouldTakeTheFreeSpaceReserveIsRefusedNamingTheTarget()
    {
        var dir = TestData.TempDir();
        using (var db = Open(dir)) Load(db.CreateCollection("c", Options(Dim)), Vectors(200, Dim, 1), 0, 100);
        var parent = TestData.TempDir();
        string target = Path.Combine(parent, "b");
        // Only writes are held to the reserve, so a reserve larger than any disk still opens and backs up nothing.
        using (var db = VectorDatabase.Open(dir, new DatabaseOptions { CheckpointWhenIdle = TimeSpan.Zero, MinFreeDiskBytes = 1L << 60 }, Small))
        {
            var e = Assert.Throws<StorageFullException>(() => db.Backup(target));
            Assert.Equal(target, e.Path);
            Assert.StartsWith($"{target}: copying collection 'c' needs ", e.Message);
            Assert.Contains("free-space reserve", e.Message);
            Assert.DoesNotContain("partial", e.Message);
            Assert.Empty(Directory.GetFileSystemEntries(parent));
            Assert.Equal(200, db.GetCollection("c").Count);
        }
        using (var db = Open(dir)) Assert.Equal(200, db.Backup(target).Collections.Single().Count);
    }

    /// <summary>The file's inode (<c>stat -c %i</c>): hard links share it.</summary>
    private static string Inode(string path) =>
        ChildProcess.Run(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]), TimeSpan.FromSeconds(30)).Stdout.Trim();

    /// <summary>
    /// An incremental backup hard-links each sealed file the previous one holds unchanged, copies the rest (the
    /// snapshot, the drift reservoir, new segments), and opens on its own with every acknowledged write, also once the
    /// previous backup is deleted. A collection dropped and created again under the same name reuses file names for
    /// other contents: those are copied, not linked.
    /// </summary>
    [Fact]
    public void AnIncrementalBackupLinksWhatThePreviousOneHoldsUnchanged()
    {
        if (!OperatingSystem.IsLinux()) return; // hard links through link(2), inodes through stat(1)
        var dir = TestData.TempDir();
        using var db = Open(dir);
        Populate(db);
        var parent = TestData.TempDir();
        string first = Path.Combine(parent, "first"), second = Path.Combine(parent, "second"), third = Path.Combine(parent, "third");
        var full = db.Backup(first);
        Assert.Equal(0, full.LinkedBytes);

        Load(db.GetCollection("flat"), Vectors(40, Dim, 11), 5000, 40);
        var inc = db.Backup(second, new BackupOptions { Since = first });
        Assert.Equal(full.Collections.Select(c => c.Name), inc.Collections.Select(c => c.Name));
        Assert.True(inc.LinkedBytes > inc.Bytes / 2, $"{inc.LinkedBytes} of {inc.Bytes} bytes linked");
        string firstHnsw = Path.Combine(first, "collections", "hnsw"), secondHnsw = Path.Combine(second, "collections", "hnsw");
        var linked = Directory.GetFiles(secondHnsw).Select(Path.GetFileName).Where(f => f!.StartsWith("seg-", StringComparison.Ordinal) || f.StartsWith("idx-", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(linked);
        foreach (var f in linked) Assert.Equal(Inode(Path.Combine(firstHnsw, f!)), Inode(Path.Combine(secondHnsw, f!)));
        var snapshot = Directory.GetFiles(secondHnsw, "snap-*").Select(Path.GetFileName).Single();
        Assert.NotEqual(Inode(Path.Combine(firstHnsw, snapshot!)), Inode(Path.Combine(secondHnsw, snapshot!)));
        // Linked bytes are those of the linked files, collection by collection.
        var hnswEntry = inc.Collections.Single(c => c.Name == "hnsw");
        Assert.Equal(hnswEntry.LinkedBytes, Directory.GetFiles(secondHnsw).Where(f => Inode(f) == Inode(Path.Combine(firstHnsw, Path.GetFileName(f)))).Sum(f => new FileInfo(f).Length));

        // Dropped and created again: the same file names, other contents.
        db.DropCollection("hnsw");
        FieldStoreTests.Fill(db, "hnsw", 500, "sq8", "hnsw:8", out _);
        Directory.Delete(first, recursive: true); // the second stands on its own
        var again = db.Backup(third, new BackupOptions { Since = second });
        Assert.Equal(0, again.Collections.Single(c => c.Name == "hnsw").LinkedBytes);
        Assert.True(again.Collections.Single(c => c.Name == "flat").LinkedBytes > 0);
        foreach (var copy in new[] { second, third })
        {
            using var opened = VectorDatabase.OpenReadOnly(copy);
            if (copy == third) foreach (var name in new[] { "flat", "hnsw", "empty" }) AssertSameContents(db.GetCollection(name), opened.GetCollection(name));
            else Assert.Equal(db.GetCollection("flat").Count, opened.GetCollection("flat").Count);
        }
    }

    /// <summary>
    /// Both backups are ordinary databases that may be opened and written: writes, checkpoints, deletes and a compaction
    /// in either leave the files they share untouched (every engine write to these files makes a new file and renames
    /// it; only the reservoir grows in place, and it is never linked), so the other still opens whole.
    /// </summary>
    [Fact]
    public void WritingIntoEitherBackupLeavesTheFilesTheyShareAsTheyWere()
    {
        if (!OperatingSystem.IsLinux()) return;
        var dir = TestData.TempDir();
        var parent = TestData.TempDir();
        string first = Path.Combine(parent, "first"), second = Path.Combine(parent, "second");
        long count;
        using (var db = Open(dir))
        {
            Populate(db);
            db.Backup(first);
            Load(db.GetCollection("hnsw"), Vectors(50, Dim, 12), 9000, 50);
            Assert.True(db.Backup(second, new BackupOptions { Since = first }).LinkedBytes > 0);
            count = db.GetCollection("hnsw").Count;
        }
        var shared = Directory.GetFiles(Path.Combine(second, "collections", "hnsw"))
            .Where(f => Inode(f) == Inode(Path.Combine(first, "collections", "hnsw", Path.GetFileName(f)))).ToArray();
        Assert.NotEmpty(shared);
        // A third name for each shared file: the backups may delete theirs once a compaction replaces it, and a change in
        // place would show through this one.
        string witness = TestData.TempDir();
        foreach (var f in shared) Assert.True(VectorStore.Storage.FileLinks.TryHardLink(f, Path.Combine(witness, Path.GetFileName(f))));
        var hashes = Directory.GetFiles(witness).ToDictionary(f => f, f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));
        foreach (var copy in new[] { second, first })
        {
            using var db = Open(copy);
            var c = db.GetCollection("hnsw");
            Load(c, Vectors(300, Dim, 13), 20_000, 100);
            for (ulong id = 20_000; id < 20_150; id++) Assert.True(c.Delete(id));
            db.Compact("hnsw");
        }
        foreach (var (f, hash) in hashes) Assert.Equal(hash, Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));
        using (var db = VectorDatabase.OpenReadOnly(second)) Assert.Equal(count + 150, db.GetCollection("hnsw").Count);
    }

    /// <summary>Where no hard link can be made (the previous backup on another file system), every file is copied.</summary>
    [Fact]
    public void APreviousBackupOnAnotherFileSystemIsCopiedFrom()
    {
        const string shm = "/dev/shm";
        if (!OperatingSystem.IsLinux() || !Directory.Exists(shm)) return;
        var dir = TestData.TempDir();
        string other = Path.Combine(shm, $"vectorstore-test-{Guid.NewGuid():N}");
        try
        {
            using var db = Open(dir);
            Populate(db);
            db.Backup(Path.Combine(other, "first"));
            if (ChildProcess.Run(new System.Diagnostics.ProcessStartInfo("stat", ["-f", "-c", "%T", other]), TimeSpan.FromSeconds(30)).Stdout.Trim()
                == ChildProcess.Run(new System.Diagnostics.ProcessStartInfo("stat", ["-f", "-c", "%T", dir]), TimeSpan.FromSeconds(30)).Stdout.Trim())
                return; // the same kind of file system: maybe the same one, where links would work
            string target = Path.Combine(TestData.TempDir(), "second");
            var result = db.Backup(target, new BackupOptions { Since = Path.Combine(other, "first") });
            Assert.Equal(0, result.LinkedBytes);
            using var copy = VectorDatabase.OpenReadOnly(target);
            foreach (var name in new[] { "flat", "hnsw", "empty" }) AssertSameContents(db.GetCollection(name), copy.GetCollection(name));
        }
        finally
        {
            if (Directory.Exists(other)) Directory.Delete(other, recursive: true);
        }
    }

    /// <summary>
    /// The comparison behind a link: the whole file. (It compared lengths and the first and last 4 KiB, which let a
    /// previous backup's damaged vector row, in the middle of a segment, be linked into a new backup.)
    /// </summary>
    [Fact]
    public void SameContentComparesEveryByte()
    {
        var dir = TestData.TempDir();
        var bytes = new byte[20_000];
        new Random(5).NextBytes(bytes);
        string a = Path.Combine(dir, "a"), b = Path.Combine(dir, "b");
        File.WriteAllBytes(a, bytes);
        void Write(Action<byte[]> change)
        {
            var copy = (byte[])bytes.Clone();
            change(copy);
            File.WriteAllBytes(b, copy);
        }
        Write(_ => { });
        Assert.True(VectorStore.Storage.FileLinks.SameContent(a, b));
        Write(c => c[^1] ^= 1);
        Assert.False(VectorStore.Storage.FileLinks.SameContent(a, b));
        Write(c => c[100] ^= 1);
        Assert.False(VectorStore.Storage.FileLinks.SameContent(a, b));
        Write(c => c[10_000] ^= 1);
        Assert.False(VectorStore.Storage.FileLinks.SameContent(a, b));
        File.WriteAllBytes(b, bytes[..^1]);
        Assert.False(VectorStore.Storage.FileLinks.SameContent(a, b));
        File.WriteAllBytes(b, bytes[..5000]);
        File.WriteAllBytes(a, bytes[..5000]);
        Assert.True(VectorStore.Storage.FileLinks.SameContent(a, b));
        Assert.False(VectorStore.Storage.FileLinks.SameContent(a, Path.Combine(dir, "missing")));
    }

    /// <summary>
    /// A vector row damaged in the previous backup (the middle of a segment: its footer hashes the row table, not the
    /// rows) is not linked into the next backup of the healthy database: that file is copied, and the new backup
    /// reads whole. (The comparison used to read only the edges, and the damage was shared.)
    /// </summary>
    [Fact]
    public void ARowDamagedInThePreviousBackupIsNotLinkedIntoTheNext()
    {
        var dir = TestData.TempDir();
        using var db = Open(dir);
        var c = db.CreateCollection("z", Options(Dim));
        var vectors = Vectors(2000, Dim, 3);
        Load(c, vectors, 0, 500);
        db.Compact("z");
        var parent = TestData.TempDir();
        string first = Path.Combine(parent, "first"), second = Path.Combine(parent, "second");
        db.Backup(first);
        string segment = Directory.GetFiles(Path.Combine(first, "collections", "z"), "seg-*.vsg").OrderByDescending(f => new FileInfo(f).Length).First();
        CorruptionMatrixTests.Damage(segment, "flip-middle"); // inside a vector row
        var bytes = File.ReadAllBytes(segment);

        var inc = db.Backup(second, new BackupOptions { Since = first });
        string copied = Path.Combine(second, "collections", "z", Path.GetFileName(segment));
        Assert.False(File.ReadAllBytes(copied).AsSpan().SequenceEqual(bytes), "the damaged file was linked into the new backup");
        Assert.True(inc.LinkedBytes < inc.Bytes);
        using var opened = VectorDatabase.OpenReadOnly(second);
        AssertSameContents(c, opened.GetCollection("z"));
    }

    /// <summary>
    /// A directory holding the partial-backup marker (what a backup killed part-way leaves) is refused by every open
    /// and by <see cref="VectorDatabase.RecoverManifest"/>, naming the marker; a finished backup holds none, whether
    /// renamed into place or written inside an existing empty directory.
    /// </summary>
    [Fact]
    public void AnInterruptedBackupIsRefusedAndAFinishedOneHoldsNoMarker()
    {
        var dir = TestData.TempDir();
        using var db = Open(dir);
        Load(db.CreateCollection("z", Options(Dim)), Vectors(300, Dim, 4), 0, 100);
        string renamed = Path.Combine(TestData.TempDir(), "b"), inPlace = TestData.TempDir();
        db.Backup(renamed);
        db.Backup(inPlace);
        Assert.Equal(["MANIFEST", "collections"], Directory.GetFileSystemEntries(inPlace).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.False(File.Exists(Path.Combine(renamed, "BACKUP-PARTIAL")));

        // What a kill before the rename leaves: the copy with its marker (here without its manifest, as a kill mid-copy).
        File.WriteAllText(Path.Combine(renamed, "BACKUP-PARTIAL"), "an incomplete backup: delete this directory\n");
        File.Delete(Path.Combine(renamed, "MANIFEST"));
        string marker = Path.Combine(renamed, "BACKUP-PARTIAL");
        Assert.Equal(marker, Assert.Throws<StoreCorruptedException>(() => VectorDatabase.RecoverManifest(renamed)).Path);
        Assert.Equal(marker, Assert.Throws<StoreCorruptedException>(() => VectorDatabase.OpenReadOnly(renamed)).Path);
        Assert.Equal(marker, Assert.Throws<StoreCorruptedException>(() => VectorDatabase.Open(renamed)).Path);
        Assert.False(File.Exists(Path.Combine(renamed, "MANIFEST")), "recover wrote a manifest for a partial backup");
    }

    /// <summary>
    /// A backup deletes what killed backups to the same place left (a hidden partial directory beside it, or inside an
    /// empty target such as a mount point, which made every retry fail with "not empty"), and an empty one, but never a
    /// partial directory a running backup holds, nor one with contents and no marker.
    /// </summary>
    [Fact]
    public void LeftoversOfKilledBackupsToTheSamePlaceAreDeletedButNotARunningOnes()
    {
        var dir = TestData.TempDir();
        using var db = Open(dir);
        Load(db.CreateCollection("z", Options(Dim)), Vectors(200, Dim, 6), 0, 100);
        string parent = TestData.TempDir(), target = Path.Combine(parent, "nightly"), mount = TestData.TempDir();
        string Partial(string path)
        {
            Directory.CreateDirectory(Path.Combine(path, "collections", "z"));
            File.WriteAllBytes(Path.Combine(path, "collections", "z", "seg-0000000001.vsg"), new byte[4096]);
            File.WriteAllText(Path.Combine(path, "BACKUP-PARTIAL"), "an incomplete backup: delete this directory\n");
            return path;
        }
        string stale = Partial(Path.Combine(parent, ".nightly.partial-0123456789abcdef0123456789abcdef"));
        string running = Partial(Path.Combine(parent, ".nightly.partial-fedcba9876543210fedcba9876543210"));
        string foreign = Path.Combine(parent, ".nightly.partial-00000000000000000000000000000000");
        Directory.CreateDirectory(foreign); // no marker: not this release's, left alone
        File.WriteAllText(Path.Combine(foreign, "MANIFEST"), "{}");
        string empty = Path.Combine(parent, ".nightly.partial-11111111111111111111111111111111");
        Directory.CreateDirectory(empty); // killed before its marker was written
        string inside = Partial(Path.Combine(mount, ".backup-partial-0123456789abcdef0123456789abcdef"));
        using (new FileStream(Path.Combine(running, "BACKUP-PARTIAL"), FileMode.Open, FileAccess.Read, FileShare.None))
        {
            db.Backup(target);
            db.Backup(mount);
        }
        Assert.False(Directory.Exists(stale));
        Assert.False(Directory.Exists(empty));
        Assert.False(Directory.Exists(inside));
        Assert.True(Directory.Exists(running));
        Assert.True(Directory.Exists(foreign));
        using var copy = VectorDatabase.OpenReadOnly(mount);
        Assert.Equal(200, copy.GetCollection("z").Count);
        Assert.Equal(["MANIFEST", "collections"], Directory.GetFileSystemEntries(mount).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void APreviousBackupThatIsNoDatabaseIsRefusedBeforeAnythingIsWritten()
    {
        var dir = TestData.TempDir();
        using var db = Open(dir);
        Load(db.CreateCollection("c", Options(Dim)), Vectors(50, Dim, 1), 0, 50);
        var parent = TestData.TempDir();
        string target = Path.Combine(parent, "b"), empty = Path.Combine(parent, "empty");
        Directory.CreateDirectory(empty);
        Assert.Contains("no such directory", Assert.Throws<InvalidArgumentException>(() => db.Backup(target, new BackupOptions { Since = Path.Combine(parent, "missing") })).Message);
        Assert.Contains("MANIFEST missing", Assert.Throws<InvalidArgumentException>(() => db.Backup(target, new BackupOptions { Since = empty })).Message);
        string file = Path.Combine(empty, "a-file");
        File.WriteAllText(file, "x");
        Assert.Contains("is a file", Assert.Throws<InvalidArgumentException>(() => db.Backup(target, new BackupOptions { Since = file })).Message);
        File.Delete(file);
        Assert.Contains("this database's own directory", Assert.Throws<InvalidArgumentException>(() => db.Backup(target, new BackupOptions { Since = dir })).Message);
        Assert.Contains("is empty", Assert.Throws<InvalidArgumentException>(() => db.Backup(target, new BackupOptions { Since = " " })).Message);
        File.WriteAllText(Path.Combine(empty, "MANIFEST"), "not a manifest");
        Assert.Contains("cannot be read", Assert.Throws<InvalidArgumentException>(() => db.Backup(target, new BackupOptions { Since = empty })).Message);
        Assert.Equal(["empty"], Directory.GetFileSystemEntries(parent).Select(Path.GetFileName));
        db.Backup(target);
        Assert.Contains("not empty", Assert.Throws<InvalidArgumentException>(() => db.Backup(target, new BackupOptions { Since = target })).Message);
    }

    [Fact]
    public void AReadOnlyDatabaseRefusesAndAClosedOneThrowsObjectDisposed()
    {
        var dir = TestData.TempDir();
        using (var db = Open(dir)) Load(db.CreateCollection("c", Options(Dim)), Vectors(50, Dim, 1), 0, 50);
        string target = Path.Combine(TestData.TempDir(), "b");
        using (var ro = VectorDatabase.OpenReadOnly(dir)) Assert.Throws<ReadOnlyDatabaseException>(() => ro.Backup(target));
        var closed = Open(dir);
        closed.Dispose();
        Assert.Throws<ObjectDisposedException>(() => closed.Backup(target));
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public void AFileThatCannotBeReadFailsTheBackupNamingItAndNothingIsLeft()
    {
        var dir = TestData.TempDir();
        var parent = TestData.TempDir();
        using var db = Open(dir);
        Load(db.CreateCollection("a", Options(Dim)), Vectors(400, Dim, 1), 0, 100);
        Load(db.CreateCollection("z", Options(Dim)), Vectors(400, Dim, 2), 0, 100);
        db.Compact("a");
        db.Compact("z");
        // z's segment becomes unreadable under the open database (its mapping still serves): "a" is copied first, then z fails.
        string segment = Directory.GetFiles(Path.Combine(dir, "collections", "z"), "seg-*.vsg").Single();
        File.Delete(segment);
        Directory.CreateDirectory(segment);

        var e = Assert.Throws<StorageIoException>(() => db.Backup(Path.Combine(parent, "b")));
        Assert.Equal(segment, e.Path);
        Assert.Empty(Directory.GetFileSystemEntries(parent));
        Assert.Equal(400, db.GetCollection("a").Count);
        Assert.Equal(400, db.GetCollection("z").Search(Vectors(1, Dim, 9).Row(0), new SearchOptions { K = 400 }).Length);
    }

    [Fact]
    public void DamageInACopiedFileIsFoundByOpeningTheBackup()
    {
        // What `backup --verify` does: the copy's own open checks every file, as the source's next open would.
        var dir = TestData.TempDir();
        string target = Path.Combine(TestData.TempDir(), "b");
        using var db = Open(dir);
        Load(db.CreateCollection("z", Options(Dim)), Vectors(400, Dim, 2), 0, 100);
        db.Compact("z");
        string segment = Directory.GetFiles(Path.Combine(dir, "collections", "z"), "seg-*.vsg").Single();
        var bytes = File.ReadAllBytes(segment);
        bytes[^40] ^= 0x40; // in the footer's checksummed part
        File.WriteAllBytes(segment, bytes);
        db.Backup(target);
        var e = Assert.Throws<StoreCorruptedException>(() => VectorDatabase.OpenReadOnly(target));
        Assert.Equal(Path.Combine(target, "collections", "z", Path.GetFileName(segment)), e.Path);
    }

    [Fact]
    public void ACancelledBackupLeavesNothing()
    {
        var dir = TestData.TempDir();
        var parent = TestData.TempDir();
        using var db = Open(dir);
        Load(db.CreateCollection("c", Options(Dim)), Vectors(100, Dim, 1), 0, 100);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => db.Backup(Path.Combine(parent, "b"), cancellationToken: cts.Token));
        Assert.Empty(Directory.GetFileSystemEntries(parent));
    }

    [Fact]
    public void SetAsideCollectionsAreLeftOutAndListed()
    {
        var (dir, _) = DamagedCollectionTests.TwoCollectionsOneDamaged();
        string target = Path.Combine(TestData.TempDir(), "b");
        using var db = VectorDatabase.Open(dir, new DatabaseOptions { CheckpointWhenIdle = TimeSpan.Zero, SetAsideDamagedCollections = true }, Small);
        var result = db.Backup(target);
        Assert.Equal(["a"], result.Collections.Select(c => c.Name));
        Assert.Equal(["b"], result.SkippedDamaged);
        using var copy = Open(target);
        Assert.Equal(["a"], copy.CollectionNames);
        Assert.Equal(400, copy.GetCollection("a").Count);
    }

    [Fact]
    public async Task TheAsyncFormWritesTheSameBackup()
    {
        var dir = TestData.TempDir();
        string target = Path.Combine(TestData.TempDir(), "b");
        using var db = Open(dir);
        Load(db.CreateCollection("c", Options(Dim)), Vectors(100, Dim, 1), 0, 50);
        var result = await db.BackupAsync(target);
        Assert.Equal(100, result.Collections.Single().Count);
        using var copy = VectorDatabase.OpenReadOnly(target);
        AssertSameContents(db.GetCollection("c"), copy.GetCollection("c"));
    }

    [Fact]
    public void AfterACheckpointWhosePublishFailedTheBackupStillOpens()
    {
        // The failed publish leaves the collection naming newer files than the published snapshot, with nothing dirty.
        var dir = TestData.TempDir();
        string target = Path.Combine(TestData.TempDir(), "b");
        using var db = Open(dir);
        var c = db.CreateCollection("c", Options(Dim));
        Load(c, Vectors(900, Dim, 1), 0, 150);
        db.Compact("c");
        for (ulong id = 0; id < 10; id++) Assert.True(c.Delete(id));
        db.Snapshot();
        string tmp = Path.Combine(dir, "MANIFEST.tmp");
        Directory.CreateDirectory(Path.Combine(tmp, "x"));
        Assert.ThrowsAny<VectorStoreException>(() => db.Compact("c"));
        Directory.Delete(tmp, true);
        Assert.False(db.StoreOf("c")!.Dirty);
        Assert.Equal(890, db.Backup(target).Collections.Single().Count);
        using var copy = Open(target);
        AssertSameContents(c, copy.GetCollection("c"));
    }

    [Fact]
    public void ACollectionStoppedByAFailedWriteIsReopenedAndBackedUp()
    {
        var dir = TestData.TempDir();
        string target = Path.Combine(TestData.TempDir(), "b");
        using var db = Open(dir);
        var data = Vectors(400, Dim, 3);
        Load(db.CreateCollection("a", Options(Dim)), data.Slice(0, 100), 0, 50);
        var c = db.CreateCollection("c", Options(Dim, threshold: 100));
        Load(c, data.Slice(0, 300), 0, 50);
        c.DuringApplyForTests = row => { if (row == 25) throw new OutOfMemoryException("injected"); };
        var ids = Enumerable.Range(300, 50).Select(i => (ulong)i).ToArray();
        Assert.Throws<CollectionFaultedException>(() => c.UpsertBatch(ids, data.Slice(300, 50)));
        c.DuringApplyForTests = null;

        var result = db.Backup(target);
        // The failed batch was logged before it failed to apply: the reopen replays it, as the collection's next call would.
        var live = db.GetCollection("c");
        Assert.False(live.Faulted);
        Assert.Equal(live.Count, result.Collections.Single(x => x.Name == "c").Count);
        using var copy = Open(target);
        AssertSameContents(live, copy.GetCollection("c"));
    }

    [Fact]
    public void AnIdleDatabaseWithAPreviousReleasesSnapshotIsBackedUpInTheCurrentFormat()
    {
        const int D = 32;
        var dir = TestData.TempDir();
        var data = SyntheticData.Clustered(3200, D, seed: 61);
        var opts = new CollectionOptions { Dimension = D, Metric = Metric.L2, Compression = "pq:8x4", Index = "hnsw:8", TrainingThreshold = 2000 };
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", opts);
            c.UpsertBatch(Enumerable.Range(0, 3000).Select(i => (ulong)i).ToArray(), data.Slice(0, 3000));
            db.Snapshot();
            Crash(db);
        }
        TuningPersistenceTests.RewriteAsVersion8(Directory.GetFiles(Path.Combine(dir, "collections", "c"), "snap-*.vss").Single());
        using (var db = Open(dir))
        {
            string target = Path.Combine(TestData.TempDir(), "b");
            Assert.Equal(3000, db.Backup(target).Collections.Single().Count);
            using var copy = Open(target);
            AssertSameContents(db.GetCollection("c"), copy.GetCollection("c"));
        }
    }

    [Fact]
    public async Task ADropRacingTheBackupLeavesTheCollectionOutOrWhole()
    {
        for (int round = 0; round < 4; round++)
        {
            var dir = TestData.TempDir();
            string target = Path.Combine(TestData.TempDir(), "b");
            using var db = Open(dir);
            foreach (string name in new[] { "a", "b", "c" }) Load(db.CreateCollection(name, Options(Dim)), Vectors(3000, Dim, round), 0, 1000);
            var backup = Task.Run(() => db.Backup(target));
            await Task.Delay(round * 3);
            Assert.True(db.DropCollection("b"));
            var result = await backup;
            using var copy = Open(target);
            Assert.Equal(result.Collections.Select(c => c.Name), copy.CollectionNames.Order());
            Assert.All(copy.CollectionNames, n => Assert.Equal(3000, copy.GetCollection(n).Count));
            Assert.Contains("a", copy.CollectionNames);
            Assert.Contains("c", copy.CollectionNames);
            Assert.Equal(["a", "c"], db.CollectionNames.Order());
        }
    }

    [Fact]
    public void APathTheFileSystemCannotTakeIsATypedError()
    {
        using var db = Open(TestData.TempDir());
        db.CreateCollection("c", Options(Dim));
        Assert.Throws<InvalidArgumentException>(() => db.Backup(Path.Combine(TestData.TempDir(), "a\0b")));
    }
}
