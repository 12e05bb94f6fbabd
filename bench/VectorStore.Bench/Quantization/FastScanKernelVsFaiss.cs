using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using VectorStore.Distance;

namespace VectorStore.Bench.Quantization;

/// <summary>
/// The 4-bit fast-scan kernel against FAISS's in the same run (issue 21, item 2): one query's tables against every
/// code of a flat layout (blocks of 32 codes, M sub-quantizers of 4 bits), the 16-bit sums written to memory, nothing
/// else. VectorStore's <see cref="PqFastScan.Accumulate"/> runs in this process; FAISS's
/// <c>accumulate_to_mem</c> (the same block loop its searches run, with its store-to-memory handler) runs in
/// <c>bench/native/kernel.cpp</c> as a child process. The two alternate, so a change in machine load reaches both.
/// Codes and tables are random: both kernels are data-oblivious (no branch depends on a code or a table value).
/// </summary>
/// <remarks>
/// <c>fastscan-kernel [--native bench/native/bin/kernel] [--native-avx2 PATH] [--m 96] [--codes 50016] [--seconds 1]
/// [--alternations 3]</c> (without <c>--native</c>, VectorStore's side only: CI's smoke pass). Our AVX2 path is timed in a child of this program with <c>DOTNET_EnableAVX512=0</c>;
/// FAISS's AVX2 path needs a kernel binary linked against its <c>faiss_avx2</c> library (<c>--native-avx2</c>).
/// </remarks>
internal static class FastScanKernelVsFaiss
{
    public static int Run(string[] args)
    {
        var a = BenchArgs.Parse(args);
        int m = a.Int("m", 96);
        int codes = a.Int("codes", 50_016);
        double seconds = a.Double("seconds", 1);
        int alternations = a.Int("alternations", 3);
        if (m <= 0 || m % 2 != 0 || codes <= 0 || codes % 32 != 0)
        {
            Console.Error.WriteLine($"--m must be even and positive and --codes a positive multiple of 32 (got {m}, {codes})");
            return 2;
        }
        if (a.Has("ours-only"))
        {
            var t = TimeOurs(m, codes, seconds, a.Int("rounds", 3));
            Console.WriteLine($"ours,{Path()},{string.Join(';', t.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}");
            return 0;
        }
        string? native = a.TryGet("native", out var n1) ? n1 : null, nativeAvx2 = a.TryGet("native-avx2", out var n2) ? n2 : null;
        if (native is null)
            Console.WriteLine("VectorStore's side only: give --native bench/native/bin/kernel (bench/native/build.sh builds it) for FAISS's");
        Console.WriteLine($"4-bit fast-scan kernel, one query: M = {m}, {codes:N0} codes ({codes / 32:N0} blocks of 32, {(long)codes * m / 2 / 1024.0:F0} KiB of codes), " +
                          $"{alternations} alternations of 3 rounds of at least {seconds:0.###} s each");
        Console.WriteLine("path    | VectorStore ns/code (best / median) | FAISS ns/code (best / median) | ratio of bests (VectorStore / FAISS)");
        Compare(Path(), () => TimeOurs(m, codes, seconds, 3), native, Path() == "avx512" ? "AVX512" : "AVX2", m, codes, seconds, alternations);
        if (Avx512BW.IsSupported)
            Compare("avx2", () => OursInChild(m, codes, seconds), nativeAvx2, "AVX2", m, codes, seconds, alternations);
        else if (nativeAvx2 is not null)
            Console.WriteLine("(--native-avx2 ignored: without AVX-512 the first row is already the AVX2 path)");
        return 0;
    }

    private static void Compare(string path, Func<double[]> ours, string? native, string faissLevel, int m, int codes, double seconds, int alternations)
    {
        var mine = new List<double>();
        var theirs = new List<double>();
        for (int i = 0; i < alternations; i++)
        {
            mine.AddRange(ours());
            if (native is not null) theirs.AddRange(Faiss(native, faissLevel, m, codes, seconds));
        }
        string faiss = theirs.Count == 0 ? "—" : FormattableString.Invariant($"{theirs.Min():F3} / {BenchStats.Median(theirs):F3}");
        string ratio = theirs.Count == 0 ? "—" : FormattableString.Invariant($"{mine.Min() / theirs.Min():F2}");
        Console.WriteLine(FormattableString.Invariant($"{path,-7} | {mine.Min():F3} / {BenchStats.Median(mine):F3} | {faiss} | {ratio}"));
    }

    /// <summary>The path <see cref="PqFastScan.Accumulate"/> takes here: it dispatches on the ISA classes, not on the preferred vector width.</summary>
    private static string Path() => Avx512BW.IsSupported ? "avx512" : Avx2.IsSupported ? "avx2" : Vector128.IsHardwareAccelerated ? "128-bit" : "scalar";

    /// <summary>
    /// ns per code of each round; first half a second of scans, to fault the pages in, warm the caches and let the JIT
    /// promote the kernel (it is left to tiering: <see cref="PqFastScan"/>), which a single warm-up scan would not.
    /// </summary>
    private static double[] TimeOurs(int m, int codes, double seconds, int rounds)
    {
        var rng = new Random(1);
        var blocks = new byte[codes / 32 * PqFastScan.BlockBytes(m)];
        rng.NextBytes(blocks);
        var lut = new byte[m * 16];
        rng.NextBytes(lut);
        var sums = new ushort[codes];
        for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < 0.5;) PqFastScan.Accumulate(blocks, codes / 32, m, lut, sums);
        var result = new double[rounds];
        long checksum = 0;
        for (int r = 0; r < rounds; r++)
        {
            long scans = 0;
            var sw = Stopwatch.StartNew();
            do
            {
                PqFastScan.Accumulate(blocks, codes / 32, m, lut, sums);
                checksum += sums[(int)(scans % codes)];
                scans++;
            } while (sw.Elapsed.TotalSeconds < seconds);
            result[r] = sw.Elapsed.TotalNanoseconds / ((double)scans * codes);
        }
        GC.KeepAlive(checksum);
        return result;
    }

    private static double[] OursInChild(int m, int codes, double seconds)
    {
        string self = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
        // Under `dotnet VectorStore.Bench.dll` the process is dotnet and the assembly is the first argument.
        if (System.IO.Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(FastScanKernelVsFaiss).Assembly.Location);
        foreach (var arg in new[] { "fastscan-kernel", "--ours-only", "1", "--m", $"{m}", "--codes", $"{codes}", "--seconds", seconds.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(arg);
        psi.Environment["DOTNET_EnableAVX512"] = "0";
        string output = Run(psi);
        if (!output.Contains("ours,avx2,", StringComparison.Ordinal))
            throw new InvalidOperationException($"the child with DOTNET_EnableAVX512=0 did not take the AVX2 path: {output}");
        return Parse(output, "ours,", 2);
    }

    /// <summary>FAISS's rounds; refuses a binary whose library was compiled for another SIMD level than <paramref name="level"/>.</summary>
    private static double[] Faiss(string native, string level, int m, int codes, double seconds)
    {
        var psi = new ProcessStartInfo(native) { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add($"{m}");
        psi.ArgumentList.Add($"{codes}");
        psi.Environment["MIN_TIME_S"] = seconds.ToString(CultureInfo.InvariantCulture);
        psi.Environment["ROUNDS"] = "3";
        string output = Run(psi);
        // Column 7: faiss::get_compile_options(), e.g. "OPTIMIZE AVX512 " or "OPTIMIZE AVX2 ".
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("faiss-kernel,", StringComparison.Ordinal)) ?? "";
        var options = line.Split(',').ElementAtOrDefault(7)?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (!options.Contains(level))
            throw new InvalidOperationException($"{native} runs FAISS compiled with '{string.Join(' ', options)}', not {level}: swapped --native / --native-avx2?");
        return Parse(output, "faiss-kernel,", 6);
    }

    private static string Run(ProcessStartInfo psi)
    {
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{psi.FileName} exited with {p.ExitCode}");
        return output;
    }

    /// <summary>Every round's ns per code from a child's CSV line: column <paramref name="column"/>, values separated by ';'.</summary>
    private static double[] Parse(string output, string prefix, int column)
    {
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"no '{prefix}' line in: {output}");
        return line.Trim().Split(',')[column].Split(';').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
    }
}
