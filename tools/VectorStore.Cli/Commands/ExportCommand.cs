using System.Buffers.Binary;
using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;

namespace VectorStore.Cli.Commands;

/// <summary><c>export</c>: writes every live vector (full precision, ascending id) as .fvecs and the ids as text.</summary>
public sealed class ExportCommand : CliCommand
{
    public override Command Build()
    {
        var dbOpt = Opt<string>("--db", "Database directory", required: true);
        var nameOpt = Opt<string>("--collection", "Collection name", required: true);
        var outOpt = Opt<string>("--out", "Vectors output (.fvecs)", required: true);
        var idsOpt = Opt<string>("--ids-out", "Ids output (text, one per line)", required: true);
        var cmd = new Command("export", "Export a collection's vectors and ids") { dbOpt, nameOpt, outOpt, idsOpt };
        cmd.SetAction(r => Guard(() =>
        {
            using var db = DatabaseCli.Open(r.GetValue(dbOpt)!);
            var c = db.GetCollection(r.GetValue(nameOpt)!);
            using var vec = new FileStream(r.GetValue(outOpt)!, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            using var ids = new StreamWriter(r.GetValue(idsOpt)!);
            var head = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(head, c.Options.Dimension);
            int n = 0;
            foreach (var id in c.Ids())
            {
                var rec = c.Get(id);
                if (rec is null) continue; // deleted concurrently (another thread of this process); skip
                vec.Write(head);
                vec.Write(MemoryMarshal.AsBytes(rec.Vector.AsSpan()));
                ids.WriteLine(id.ToString(CultureInfo.InvariantCulture));
                n++;
            }
            Console.Error.WriteLine($"exported {n} vectors");
            return 0;
        }));
        return cmd;
    }
}
