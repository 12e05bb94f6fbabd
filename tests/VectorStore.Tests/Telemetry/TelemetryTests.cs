using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using VectorStore.Collections;
using VectorStore.DependencyInjection;
using VectorStore.Evaluation;
using VectorStore.Telemetry;
using VectorStore.Tests.Protocol;
using Xunit;

namespace VectorStore.Tests.Telemetry;

/// <summary>The engine's metrics, spans and DI registration, observed as a user's collector would see them.</summary>
public sealed class TelemetryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vs-telemetry-").FullName;
    private readonly ServiceProvider _services;
    private readonly IMeterFactory _meters;

    public TelemetryTests()
    {
        _services = new ServiceCollection().AddMetrics().AddVectorStore(o => o.Directory = _dir).BuildServiceProvider();
        _meters = _services.GetRequiredService<IMeterFactory>();
    }

    public void Dispose()
    {
        _services.Dispose();
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }

    private MetricCollector<T> Collect<T>(string instrument) where T : struct => new(_meters, VectorStoreTelemetry.MeterName, instrument);

    /// <summary>Records every finished span of the engine's source into <paramref name="spans"/> until disposed.</summary>
    private static ActivityListener ListenToSpans(List<Activity> spans)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == VectorStoreTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (spans) spans.Add(a); },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private static Collection Populate(VectorDatabase db, string name, string index, RawVectorResidency residency, int count = 600)
    {
        var c = db.CreateCollection(name, new CollectionOptions
        {
            Dimension = 8, Metric = Metric.L2, Compression = "sq8", Index = index, TrainingThreshold = 1_000_000, RawVectors = residency,
        });
        c.UpsertBatch(Enumerable.Range(0, count).Select(i => (ulong)i).ToArray(), SyntheticData.Clustered(count, 8, seed: 2));
        return c;
    }

    [Fact]
    public async Task AnUpsertAndASearchRecordTheDatabaseClientConventionsMetrics()
    {
        var db = _services.GetRequiredService<VectorDatabase>();
        using var durations = Collect<double>(VectorStoreTelemetry.OperationDuration);
        using var upserted = Collect<long>(VectorStoreTelemetry.VectorsUpserted);
        using var rows = Collect<long>(VectorStoreTelemetry.ReturnedRows);
        var c = Populate(db, "docs", "flat", RawVectorResidency.Disk, count: 50);
        await c.UpsertBatchAsync([1000, 1001], SyntheticData.Clustered(2, 8, seed: 9));
        var hits = c.Search(new float[8], new SearchOptions { K = 5 });

        var upserts = durations.GetMeasurementSnapshot().Where(m => Equals(m.Tags["db.operation.name"], "upsert")).ToList();
        Assert.Equal(2, upserts.Count);
        foreach (var m in upserts)
        {
            Assert.Equal("docs", m.Tags["db.collection.name"]);
            Assert.Equal("vectorstore", m.Tags["db.system.name"]);
            Assert.False(m.Tags.ContainsKey("error.type"));
            Assert.InRange(m.Value, 0, 60);
        }
        var search = Assert.Single(durations.GetMeasurementSnapshot(), m => Equals(m.Tags["db.operation.name"], "search"));
        Assert.Equal("docs", search.Tags["db.collection.name"]);
        Assert.Equal("s", durations.Instrument!.Unit);
        Assert.Equal([50L, 2L], upserted.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal("{vector}", upserted.Instrument!.Unit);
        Assert.Equal(hits.Length, Assert.Single(rows.GetMeasurementSnapshot()).Value);
    }

    [Fact]
    public void AFailedOperationCarriesItsErrorType()
    {
        var db = _services.GetRequiredService<VectorDatabase>();
        using var durations = Collect<double>(VectorStoreTelemetry.OperationDuration);
        var c = Populate(db, "bad", "flat", RawVectorResidency.Ram, count: 10);
        Assert.Throws<InvalidVectorException>(() => c.Search(new float[3]));
        var failed = Assert.Single(durations.GetMeasurementSnapshot(), m => m.Tags.ContainsKey("error.type"));
        Assert.Equal(typeof(InvalidVectorException).FullName, failed.Tags["error.type"]);
        Assert.Equal("search", failed.Tags["db.operation.name"]);
    }

    [Fact]
    public void SearchMetricsNameTheIndexKindRerankDepthAndDiskReads()
    {
        var db = _services.GetRequiredService<VectorDatabase>();
        using var latency = Collect<double>(VectorStoreTelemetry.SearchDuration);
        using var reranked = Collect<int>(VectorStoreTelemetry.SearchReranked);
        using var diskReads = Collect<int>(VectorStoreTelemetry.SearchDiskReads);
        using var training = Collect<double>(VectorStoreTelemetry.TrainingDuration);
        using var checkpoints = Collect<double>(VectorStoreTelemetry.CheckpointDuration);
        var c = Populate(db, "ivfdocs", "ivf:8", RawVectorResidency.Disk);
        c.Search(new float[8], new SearchOptions { K = 3 }); // untrained: exact scan
        c.BuildIndex();
        db.Snapshot(); // seals the buffered vectors into a segment, so re-ranking reads them from disk
        c.Search(new float[8], new SearchOptions { K = 3, Rerank = 40, NProbe = 8 });

        var l = latency.GetMeasurementSnapshot();
        Assert.Equal(2, l.Count);
        Assert.Equal(("none", "exact"), ((string)l[0].Tags["vectorstore.index.kind"]!, (string)l[0].Tags["vectorstore.search.path"]!));
        Assert.Equal(("ivf", "index"), ((string)l[1].Tags["vectorstore.index.kind"]!, (string)l[1].Tags["vectorstore.search.path"]!));
        Assert.Equal([0, 40], reranked.GetMeasurementSnapshot().Select(m => m.Value));
        var reads = diskReads.GetMeasurementSnapshot();
        Assert.Equal("disk", reads[1].Tags["vectorstore.raw_vectors"]);
        Assert.Equal(40, reads[1].Value);
        var t = Assert.Single(training.GetMeasurementSnapshot());
        Assert.Equal("ivf", t.Tags["vectorstore.index.kind"]);
        Assert.Equal("s", training.Instrument!.Unit);
        var cp = Assert.Single(checkpoints.GetMeasurementSnapshot(), m => Equals(m.Tags["db.collection.name"], "ivfdocs"));
        Assert.Equal(false, cp.Tags["vectorstore.checkpoint.compact"]);
    }

    [Fact]
    public void ResidentBytesAndVectorCountAreObservableGauges()
    {
        var db = _services.GetRequiredService<VectorDatabase>();
        Populate(db, "g", "flat", RawVectorResidency.Ram, count: 100);
        using var resident = Collect<long>(VectorStoreTelemetry.ResidentBytes);
        using var count = Collect<long>(VectorStoreTelemetry.VectorCount);
        resident.RecordObservableInstruments();
        count.RecordObservableInstruments();
        var r = Assert.Single(resident.GetMeasurementSnapshot(), m => Equals(m.Tags["db.collection.name"], "g"));
        Assert.Equal(db.GetCollection("g").GetStats().ResidentBytes, r.Value);
        Assert.True(r.Value >= 100 * 8 * sizeof(float));
        Assert.Equal("By", resident.Instrument!.Unit);
        Assert.Equal(100, Assert.Single(count.GetMeasurementSnapshot(), m => Equals(m.Tags["db.collection.name"], "g")).Value);
    }

    [Fact]
    public void SpansCoverSearchUpsertTrainAndCheckpoint()
    {
        var db = _services.GetRequiredService<VectorDatabase>();
        var spans = new List<Activity>();
        using var listener = ListenToSpans(spans);
        var c = Populate(db, "spans", "flat", RawVectorResidency.Disk, count: 300);
        c.BuildIndex();
        c.Search(new float[8]);
        db.Compact("spans");
        List<Activity> mine;
        lock (spans) mine = spans.Where(s => Equals(s.GetTagItem("db.collection.name"), "spans")).ToList();
        Assert.Contains(mine, s => s.DisplayName == "upsert spans" && s.Kind == ActivityKind.Client && Equals(s.GetTagItem("db.operation.name"), "upsert"));
        Assert.Contains(mine, s => s.DisplayName == "search spans" && Equals(s.GetTagItem("db.system.name"), "vectorstore"));
        Assert.Contains(mine, s => s.DisplayName == "train spans");
        Assert.Contains(mine, s => s.DisplayName == "checkpoint spans" && Equals(s.GetTagItem("vectorstore.checkpoint.compact"), true));
    }

    [Fact]
    public void AddVectorStoreRegistersOneDatabaseAndAClientOverIt()
    {
        var db = _services.GetRequiredService<VectorDatabase>();
        Assert.Same(db, _services.GetRequiredService<VectorDatabase>());
        Assert.Equal(Path.GetFullPath(_dir), db.Directory);
        var client = Assert.IsType<InProcessDatabaseClient>(_services.GetRequiredService<IVectorDatabaseClient>());
        Assert.Same(db, client.Database);
        Assert.Same(_meters, db.Options.MeterFactory);
        Assert.Null(db.Options.TelemetryNamespace);
        using var named = new ServiceCollection().AddMetrics().AddVectorStore(o => o.TelemetryNamespace = "edge-1").BuildServiceProvider();
        Assert.Equal("edge-1", named.GetRequiredService<VectorDatabase>().Options.TelemetryNamespace);
    }

    [Fact]
    public void NothingIsMeasuredWhileNobodyListens()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = Populate(db, "quiet", "flat", RawVectorResidency.Ram, count: 10);
        // No collector on this database's meter: the scope is inert (no clock read, no tag list, no span).
        var scope = c.Instruments.StartOperation(DbOperations.Search, "quiet");
        Assert.False(scope.Active);
        // Once something enables an instrument of that meter, the same call measures.
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == VectorStoreTelemetry.MeterName && instrument.Name == VectorStoreTelemetry.OperationDuration) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.Start();
        Assert.True(c.Instruments.StartOperation(DbOperations.Search, "quiet").Active);
    }

    [Fact]
    public async Task AServerExposesTheEngineMetricsOfRemoteCalls()
    {
        var db = VectorDatabase.CreateInMemory(new DatabaseOptions { MeterFactory = _meters });
        await using var server = LiveServer.Start(db: db);
        await using var client = await server.ConnectAsync();
        using var durations = Collect<double>(VectorStoreTelemetry.OperationDuration);
        await client.CreateCollectionAsync("remote", new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "none" });
        await client.UpsertBatchAsync("remote", [1, 2], SyntheticData.Clustered(2, 4, seed: 1));
        await client.SearchAsync("remote", new float[4]);
        var ops = durations.GetMeasurementSnapshot().Where(m => Equals(m.Tags["db.collection.name"], "remote"))
            .Select(m => (string)m.Tags["db.operation.name"]!).ToList();
        Assert.Equal(["upsert", "search"], ops);
        db.Dispose();
    }
    /// <summary>
    /// A factory's meter is shared by its databases and outlives them; its gauges used to keep every closed database
    /// (its collections and indexes included) reachable until the factory was disposed.
    /// </summary>
    [Fact]
    public void AClosedDatabaseIsNotKeptAliveByTheFactorysMeter()
    {
        var closed = OpenFillAndClose(Path.Combine(_dir, "closed"));
        for (int i = 0; i < 5 && closed.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        Assert.False(closed.IsAlive, "the closed database is still reachable");
    }

    /// <summary>
    /// Databases sharing a factory's meter publish each instrument once: the two per-collection gauges were created
    /// again by every open and stayed on the meter after the close (a meter cannot drop an instrument), so a host
    /// opening and closing databases grew them without bound. The shared gauges report the open databases only.
    /// </summary>
    [Fact]
    public void DatabasesSharingAFactorysMeterPublishEachInstrumentOnce()
    {
        VectorDatabase OpenWith(string name, int count)
        {
            var db = VectorDatabase.Open(Path.Combine(_dir, name), new DatabaseOptions { MeterFactory = _meters, CheckpointWhenIdle = TimeSpan.Zero });
            Populate(db, name, "flat", RawVectorResidency.Ram, count: count);
            return db;
        }
        var first = OpenWith("x", 50);
        using var second = OpenWith("y", 70);
        first.Dispose();
        using var third = OpenWith("z", 30);
        OpenWith("w", 20).Dispose();

        var published = new Dictionary<string, int>();
        using (var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name != VectorStoreTelemetry.MeterName || !ReferenceEquals(instrument.Meter.Scope, _meters)) return;
                lock (published) published[instrument.Name] = published.GetValueOrDefault(instrument.Name) + 1;
            },
        })
            listener.Start(); // publishes the instruments that exist
        Assert.Contains(VectorStoreTelemetry.VectorCount, published.Keys);
        Assert.Contains(VectorStoreTelemetry.ResidentBytes, published.Keys);
        // A Meter returns the counter or histogram it already has for the same name, unit, description and advice
        // (.NET 9 on), so only the observable gauges, whose callbacks differ, could repeat.
        Assert.All(published, p => Assert.True(p.Value == 1, $"{p.Key} is published {p.Value} times"));

        using var vectors = Collect<long>(VectorStoreTelemetry.VectorCount);
        vectors.RecordObservableInstruments();
        var seen = vectors.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["db.collection.name"]!, m => m.Value);
        Assert.Equal(70, seen["y"]);
        Assert.Equal(30, seen["z"]);
        Assert.DoesNotContain("x", seen.Keys);
        Assert.DoesNotContain("w", seen.Keys);
    }

    /// <summary>
    /// Collections of the same name in databases sharing one meter are told apart by <c>db.namespace</c>: a persistent
    /// database's directory unless set, the name an in-memory database is given, none when set empty. Before the tag
    /// their counters and gauges were one series (the gauge reported both collections under the same tags).
    /// </summary>
    [Fact]
    public void DatabasesSharingAMeterTellTheirSameNamedCollectionsApartByNamespace()
    {
        using var upserted = Collect<long>(VectorStoreTelemetry.VectorsUpserted);
        using var checkpoints = Collect<double>(VectorStoreTelemetry.CheckpointDuration);
        using var vectors = Collect<long>(VectorStoreTelemetry.VectorCount);
        var spans = new List<Activity>();
        using var listener = ListenToSpans(spans);
        string dirA = Path.Combine(_dir, "a"), dirB = Path.Combine(_dir, "sub", "..", "b");
        using var a = VectorDatabase.Open(dirA, new DatabaseOptions { MeterFactory = _meters, CheckpointWhenIdle = TimeSpan.Zero });
        using var b = VectorDatabase.Open(dirB, new DatabaseOptions { MeterFactory = _meters, CheckpointWhenIdle = TimeSpan.Zero });
        using var edge = VectorDatabase.CreateInMemory(new DatabaseOptions { MeterFactory = _meters, TelemetryNamespace = "edge-1" });
        using var plain = VectorDatabase.CreateInMemory(new DatabaseOptions { MeterFactory = _meters, TelemetryNamespace = "" });
        Populate(a, "same", "flat", RawVectorResidency.Disk, count: 40);
        Populate(b, "same", "flat", RawVectorResidency.Disk, count: 70);
        Populate(edge, "same", "flat", RawVectorResidency.Ram, count: 20);
        Populate(plain, "same", "flat", RawVectorResidency.Ram, count: 10);
        a.Compact("same");

        string? Namespace(IReadOnlyDictionary<string, object?> tags) => tags.TryGetValue("db.namespace", out var n) ? (string?)n : null;
        string fullA = Path.GetFullPath(dirA), fullB = Path.GetFullPath(dirB);
        var counted = upserted.GetMeasurementSnapshot().Where(m => Equals(m.Tags["db.collection.name"], "same"))
            .ToDictionary(m => Namespace(m.Tags) ?? "(none)", m => m.Value);
        Assert.Equal(new Dictionary<string, long> { [fullA] = 40, [fullB] = 70, ["edge-1"] = 20, ["(none)"] = 10 }, counted);

        vectors.RecordObservableInstruments();
        var gauged = vectors.GetMeasurementSnapshot().Where(m => Equals(m.Tags["db.collection.name"], "same"))
            .ToDictionary(m => Namespace(m.Tags) ?? "(none)", m => m.Value);
        Assert.Equal(counted, gauged);

        Assert.Equal(fullA, Namespace(Assert.Single(checkpoints.GetMeasurementSnapshot(), m => Equals(m.Tags["db.collection.name"], "same")).Tags));
        List<Activity> mine;
        lock (spans) mine = spans.Where(s => Equals(s.GetTagItem("db.collection.name"), "same")).ToList();
        Assert.Contains(mine, s => s.DisplayName == "upsert same" && Equals(s.GetTagItem("db.namespace"), fullB));
        Assert.Contains(mine, s => s.DisplayName == "checkpoint same" && Equals(s.GetTagItem("db.namespace"), fullA));
        Assert.Contains(mine, s => s.DisplayName == "upsert same" && s.GetTagItem("db.namespace") is null);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private WeakReference OpenFillAndClose(string dir)
    {
        var db = VectorDatabase.Open(dir, new DatabaseOptions { MeterFactory = _meters, CheckpointWhenIdle = TimeSpan.Zero });
        Populate(db, "c", "ivf:8", RawVectorResidency.Ram);
        db.Dispose();
        return new WeakReference(db);
    }

    /// <summary>
    /// A refused open (a damaged durable-tail record) disposes the meter it made: a caller retrying it used to add one
    /// more live meter, holding the refused database, per attempt.
    /// </summary>
    [Fact]
    public void ARefusedOpenDisposesTheMeterItMade()
    {
        string dir = Path.Combine(_dir, "refused");
        using (var db = VectorDatabase.Open(dir, new DatabaseOptions { CheckpointWhenIdle = TimeSpan.Zero }))
            Populate(db, "c", "flat", RawVectorResidency.Ram, count: 10);
        File.WriteAllBytes(Directory.GetFiles(dir, "wal.tail", SearchOption.AllDirectories).Single(), []);

        // Instruments are published on the thread that creates them: only this thread's, once armed, are the open's.
        int thread = Environment.CurrentManagedThreadId;
        bool armed = false;
        var published = new List<Instrument>();
        var completed = new System.Collections.Concurrent.ConcurrentBag<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (!armed || instrument.Meter.Name != VectorStoreTelemetry.MeterName || Environment.CurrentManagedThreadId != thread) return;
                published.Add(instrument);
                l.EnableMeasurementEvents(instrument);
            },
            MeasurementsCompleted = (instrument, _) => completed.Add(instrument),
        };
        listener.Start();
        armed = true;
        Assert.Throws<StoreCorruptedException>(() => VectorDatabase.Open(dir));
        armed = false;
        Assert.NotEmpty(published);
        Assert.All(published, instrument => Assert.Contains(instrument, completed));
    }
}
