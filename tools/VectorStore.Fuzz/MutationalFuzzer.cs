using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;

namespace VectorStore.Fuzz;

/// <summary>
/// An in-process, AFL-style mutational fuzzer. Feedback is the SharpFuzz edge-coverage map when the assemblies under
/// test were instrumented (<c>fuzz.sh</c> does that), otherwise the outcome signature returned by the target — so
/// without instrumentation it is guided by behaviour, not by coverage. An input is kept when it produces a new edge
/// (bucketed hit counts, as AFL does) or a new signature. Crashes are inputs for which the target throws anything
/// but a typed <see cref="VectorStoreException"/>; they are written to the crash directory.
/// </summary>
public sealed unsafe class MutationalFuzzer(int seed, string? crashDir, int maxInputBytes = 4096)
{
    private const int MapSize = 1 << 16;
    private readonly Random _rng = new(seed);
    private readonly List<byte[]> _corpus = [];
    private readonly HashSet<string> _signatures = [];
    private readonly byte[] _virgin = new byte[MapSize];
    private readonly HashSet<ulong> _crashHashes = [];

    private readonly bool _mapReady = EnsureCoverageMapOnce();

    private static bool EnsureCoverageMapOnce()
    {
        EnsureCoverageMap();
        return true;
    }

    public int CorpusSize => _corpus.Count;

    public int Crashes => _crashHashes.Count;

    public long Executions { get; private set; }

    public int EdgesSeen { get; private set; }

    public static bool Instrumented { get; private set; }

    /// <summary>
    /// Instrumented code writes edge hits to <c>Trace.SharedMem</c>, which only afl-fuzz or libFuzzer set up; in-process
    /// runs must give it a map before any instrumented method executes.
    /// </summary>
    public static void EnsureCoverageMap()
    {
        if (SharpFuzz.Common.Trace.SharedMem == null)
            SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(MapSize);
    }

    public void Add(byte[] input) => Execute(input, keepAlways: true);

    /// <summary>Fuzzes until <paramref name="duration"/> elapses or <paramref name="maxExecutions"/> inputs ran.</summary>
    public void Run(TimeSpan duration, long maxExecutions, Action<string>? progress)
    {
        var sw = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        while (sw.Elapsed < duration && Executions < maxExecutions)
        {
            var parent = _corpus[_rng.Next(_corpus.Count)];
            Execute(Mutate(parent), keepAlways: false);
            if (progress is not null && sw.Elapsed - lastReport > TimeSpan.FromSeconds(5))
            {
                lastReport = sw.Elapsed;
                progress($"{sw.Elapsed.TotalSeconds:0}s execs={Executions} ({Executions / sw.Elapsed.TotalSeconds:0}/s) corpus={_corpus.Count} edges={EdgesSeen} signatures={_signatures.Count} crashes={Crashes}");
            }
        }
    }

    private void Execute(byte[] input, bool keepAlways)
    {
        Executions++;
        byte* map = SharpFuzz.Common.Trace.SharedMem;
        new Span<byte>(map, MapSize).Clear();
        SharpFuzz.Common.Trace.PrevLocation = 0;
        string signature;
        try
        {
            signature = FuzzTarget.Run(input);
        }
        catch (Exception e)
        {
            RecordCrash(input, e);
            return;
        }
        // With coverage, signatures are too fine-grained (they grow the corpus without new behaviour); without it they
        // are the only feedback there is.
        bool newEdges = NewCoverage(map);
        bool newSignature = _signatures.Add(signature);
        bool interesting = Instrumented ? newEdges : newSignature;
        if (interesting || keepAlways) _corpus.Add(input);
    }

    private bool NewCoverage(byte* map)
    {
        bool found = false;
        for (int i = 0; i < MapSize; i++)
        {
            byte hits = map[i];
            if (hits == 0) continue;
            Instrumented = true;
            byte bucket = Bucket(hits);
            if ((_virgin[i] & bucket) != 0) continue;
            if (_virgin[i] == 0) EdgesSeen++;
            _virgin[i] |= bucket;
            found = true;
        }
        return found;
    }

    private static byte Bucket(byte hits) => hits switch
    {
        1 => 1, 2 => 2, 3 => 4, <= 7 => 8, <= 15 => 16, <= 31 => 32, <= 127 => 64, _ => 128,
    };

    private void RecordCrash(byte[] input, Exception e)
    {
        ulong h = XxHash64.HashToUInt64(input);
        if (!_crashHashes.Add(h)) return;
        Console.Error.WriteLine($"CRASH {h:x16}: {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
        if (crashDir is null) return;
        Directory.CreateDirectory(crashDir);
        File.WriteAllBytes(Path.Combine(crashDir, $"crash-{h:x16}.bin"), input);
    }

    private static readonly uint[] s_interesting32 = [0, 1, 2, 3, 4, 7, 8, 12, 16, 64, 255, 256, 1023, 1024, 1025, 4096, 65535, 65536, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFFE, 1_000_000_000];

    private byte[] Mutate(byte[] parent)
    {
        var data = new List<byte>(parent);
        int rounds = 1 + _rng.Next(4);
        for (int r = 0; r < rounds; r++)
        {
            if (data.Count == 0) data.Add((byte)_rng.Next(256));
            int pos = _rng.Next(data.Count);
            switch (_rng.Next(9))
            {
                case 0: data[pos] ^= (byte)(1 << _rng.Next(8)); break;
                case 1: data[pos] = (byte)_rng.Next(256); break;
                case 2: data[pos] = (byte)(new byte[] { 0, 1, 0x7F, 0x80, 0xFF, 0x10, 0x20, 0x30, 0x31 })[_rng.Next(9)]; break;
                case 3:
                {
                    Span<byte> b = stackalloc byte[4];
                    BinaryPrimitives.WriteUInt32LittleEndian(b, s_interesting32[_rng.Next(s_interesting32.Length)]);
                    for (int i = 0; i < 4 && pos + i < data.Count; i++) data[pos + i] = b[i];
                    break;
                }
                case 4: data.RemoveRange(pos, Math.Min(data.Count - pos, 1 + _rng.Next(16))); break;
                case 5:
                {
                    var chunk = new byte[1 + _rng.Next(16)];
                    _rng.NextBytes(chunk);
                    data.InsertRange(pos, chunk);
                    break;
                }
                case 6:
                {
                    // Duplicate a chunk of the input (repeats fields and whole frames).
                    int len = Math.Min(data.Count - pos, 1 + _rng.Next(64));
                    data.InsertRange(_rng.Next(data.Count), data.GetRange(pos, len));
                    break;
                }
                case 7:
                {
                    // Splice: append the tail of another corpus entry.
                    var other = _corpus[_rng.Next(_corpus.Count)];
                    int from = _rng.Next(other.Length + 1);
                    data.AddRange(other.AsSpan(from).ToArray());
                    break;
                }
                default: data.RemoveRange(pos, data.Count - pos); break;
            }
        }
        if (data.Count > maxInputBytes) data.RemoveRange(maxInputBytes, data.Count - maxInputBytes);
        return [.. data];
    }
}
