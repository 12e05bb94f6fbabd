using System.Globalization;
using System.Text.Json;
using Orleans.Runtime;
using VectorStore.Storage;

namespace VectorStore.Cluster.Hosting;

/// <summary>
/// Orleans' membership table as one JSON file in the metadata directory every silo shares (data-format.md §6):
/// silos find each other there and agree on who is alive, so no silo is special and any one may die. Every operation
/// reads, checks and rewrites the file under the exclusive lock file <see cref="FileGrainStorage"/> uses, with the
/// optimistic rules Orleans expects of a table: a row is inserted or updated only by a writer that read the current
/// table version, and updated only with the row's current ETag.
/// </summary>
/// <remarks>
/// For silos on one machine or on a shared file system with working exclusive opens; a deployment over several
/// machines registers a database-backed Orleans clustering provider instead. Thread-safety: safe from any thread and
/// any process sharing the directory.
/// </remarks>
internal sealed class FileMembershipTable(string directory, string clusterId) : IMembershipTable
{
    /// <summary>Version of the file format.</summary>
    public const int FormatVersion = 1;

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    /// <summary>The table's file.</summary>
    public string Path { get; } = System.IO.Path.Combine(directory, Uri.EscapeDataString($"membership.{clusterId}") + ".json");

    public async Task InitializeMembershipTable(bool tryInitTableVersion)
    {
        Directory.CreateDirectory(directory);
        if (!tryInitTableVersion) return;
        await UpdateAsync(table => table is null ? (new MembershipFile(), true) : (table, false));
    }

    public async Task DeleteMembershipTableEntries(string clusterId)
    {
        using var _ = await FileGrainStorage.LockAsync(Path);
        if (!File.Exists(Path)) return;
        File.Delete(Path);
        FileDurability.FsyncDirectory(directory);
    }

    public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) =>
        UpdateAsync(table =>
        {
            if (table is null) return (null, false);
            int removed = table.Rows.RemoveAll(r => r.Status == (int)SiloStatus.Dead && r.IAmAliveTime < beforeDate.UtcDateTime);
            return (table, removed > 0);
        });

    public async Task<MembershipTableData> ReadRow(SiloAddress key)
    {
        var table = await ReadAsync();
        string silo = key.ToParsableString();
        var row = table.Rows.FirstOrDefault(r => r.Silo == silo);
        return row is null ? new MembershipTableData(table.TableVersion) : new MembershipTableData(Tuple.Create(row.ToEntry(), row.ETag), table.TableVersion);
    }

    public async Task<MembershipTableData> ReadAll()
    {
        var table = await ReadAsync();
        return new MembershipTableData(table.Rows.Select(r => Tuple.Create(r.ToEntry(), r.ETag)).ToList(), table.TableVersion);
    }

    public async Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion)
    {
        bool inserted = false;
        await UpdateAsync(table =>
        {
            table ??= new MembershipFile();
            string silo = entry.SiloAddress.ToParsableString();
            if (table.Rows.Any(r => r.Silo == silo) || table.VersionETag != tableVersion.VersionEtag) return (table, false);
            table.Rows.Add(MembershipRow.From(entry, table.NewETag()));
            table.Bump(tableVersion.Version);
            inserted = true;
            return (table, true);
        });
        return inserted;
    }

    public async Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion)
    {
        bool updated = false;
        await UpdateAsync(table =>
        {
            if (table is null) return (null, false);
            string silo = entry.SiloAddress.ToParsableString();
            int i = table.Rows.FindIndex(r => r.Silo == silo);
            if (i < 0 || table.Rows[i].ETag != etag || table.VersionETag != tableVersion.VersionEtag) return (table, false);
            table.Rows[i] = MembershipRow.From(entry, table.NewETag());
            table.Bump(tableVersion.Version);
            updated = true;
            return (table, true);
        });
        return updated;
    }

    public Task UpdateIAmAlive(MembershipEntry entry) =>
        UpdateAsync(table =>
        {
            string silo = entry.SiloAddress.ToParsableString();
            var row = table?.Rows.FirstOrDefault(r => r.Silo == silo);
            if (row is null) return (table, false);
            // Not a membership change: the row gets a new ETag (a concurrent update of the old row must lose), the
            // table keeps its version.
            row.IAmAliveTime = entry.IAmAliveTime;
            row.ETag = table!.NewETag();
            return (table, true);
        });

    private async Task<MembershipFile> ReadAsync()
    {
        using var _ = await FileGrainStorage.LockAsync(Path);
        return Read() ?? new MembershipFile();
    }

    /// <summary>Reads, changes and (when <c>change</c> says so) atomically rewrites the table, all under the lock.</summary>
    private async Task UpdateAsync(Func<MembershipFile?, (MembershipFile? Table, bool Write)> change)
    {
        Directory.CreateDirectory(directory);
        using var _ = await FileGrainStorage.LockAsync(Path);
        var (table, write) = change(Read());
        if (write && table is not null) FileDurability.WriteAtomic(Path, JsonSerializer.SerializeToUtf8Bytes(table, s_json));
    }

    private MembershipFile? Read()
    {
        if (!File.Exists(Path)) return null;
        MembershipFile? table;
        try { table = JsonSerializer.Deserialize<MembershipFile>(File.ReadAllBytes(Path), s_json); }
        catch (JsonException e) { throw new StoreCorruptedException(Path, $"not a VectorStore membership table ({e.Message})", e); }
        if (table is null || table.Format != FormatVersion) throw new StoreCorruptedException(Path, $"unsupported membership table format {table?.Format}");
        return table;
    }

    /// <summary>The file's content.</summary>
    internal sealed class MembershipFile
    {
        public int Format { get; set; } = FormatVersion;
        public int Version { get; set; }
        public string VersionETag { get; set; } = "0";
        public long NextETag { get; set; } = 1;
        public List<MembershipRow> Rows { get; set; } = [];

        public TableVersion TableVersion => new(Version, VersionETag);

        public string NewETag() => (NextETag++).ToString(CultureInfo.InvariantCulture);

        public void Bump(int version)
        {
            Version = version;
            VersionETag = NewETag();
        }
    }

    /// <summary>One silo's row: the <see cref="MembershipEntry"/> fields, silos by their parsable address, times in UTC.</summary>
    internal sealed class MembershipRow
    {
        public string ETag { get; set; } = "";
        public string Silo { get; set; } = "";
        public int Status { get; set; }
        public int ProxyPort { get; set; }
        public string? HostName { get; set; }
        public string? SiloName { get; set; }
        public string? RoleName { get; set; }
        public int UpdateZone { get; set; }
        public int FaultZone { get; set; }
        public DateTime StartTime { get; set; }
        public DateTime IAmAliveTime { get; set; }
        public List<Suspicion> Suspects { get; set; } = [];

        public static MembershipRow From(MembershipEntry e, string etag) => new()
        {
            ETag = etag,
            Silo = e.SiloAddress.ToParsableString(),
            Status = (int)e.Status,
            ProxyPort = e.ProxyPort,
            HostName = e.HostName,
            SiloName = e.SiloName,
            RoleName = e.RoleName,
            UpdateZone = e.UpdateZone,
            FaultZone = e.FaultZone,
            StartTime = e.StartTime,
            IAmAliveTime = e.IAmAliveTime,
            Suspects = e.SuspectTimes?.Select(t => new Suspicion { Silo = t.Item1.ToParsableString(), At = t.Item2 }).ToList() ?? [],
        };

        public MembershipEntry ToEntry() => new()
        {
            SiloAddress = SiloAddress.FromParsableString(Silo),
            Status = (SiloStatus)Status,
            ProxyPort = ProxyPort,
            HostName = HostName ?? "",
            SiloName = SiloName ?? "",
            RoleName = RoleName,
            UpdateZone = UpdateZone,
            FaultZone = FaultZone,
            StartTime = StartTime,
            IAmAliveTime = IAmAliveTime,
            SuspectTimes = Suspects.Select(s => Tuple.Create(SiloAddress.FromParsableString(s.Silo), s.At)).ToList(),
        };
    }

    /// <summary>One silo's vote that another is dead, and when.</summary>
    internal sealed class Suspicion
    {
        public string Silo { get; set; } = "";
        public DateTime At { get; set; }
    }
}
