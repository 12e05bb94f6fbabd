using System.Reflection;
using System.Xml.Linq;
using Xunit;

namespace VectorStore.Tests.Architecture;

/// <summary>
/// The layering ARCHITECTURE.md describes, checked on both the project graph and the compiled assemblies: a lower
/// layer never references a higher one, the thin client carries no engine, and the engine's folders form no
/// dependency cycle.
/// </summary>
public class LayeringTests
{
    /// <summary>Each product assembly and the product assemblies it may reference (directly).</summary>
    private static readonly Dictionary<string, string[]> s_allowed = new(StringComparer.Ordinal)
    {
        ["VectorStore.Abstractions"] = [],
        ["VectorStore.Core"] = ["VectorStore.Abstractions"],
        ["VectorStore.Protocol"] = ["VectorStore.Abstractions"],
        ["VectorStore.Client"] = ["VectorStore.Protocol", "VectorStore.Abstractions"],
        ["VectorStore.Server"] = ["VectorStore.Core", "VectorStore.Protocol", "VectorStore.Abstractions"],
        ["VectorStore.Evaluation"] = ["VectorStore.Core", "VectorStore.Abstractions"],
        // The Orleans cluster builds on the engine's public API only (no InternalsVisibleTo into the engine).
        ["VectorStore.Cluster"] = ["VectorStore.Core", "VectorStore.Abstractions"],
        ["VectorStore.DependencyInjection"] = ["VectorStore.Core", "VectorStore.Abstractions"],
        // The VectorData provider is written against IVectorDatabaseClient only: one provider, embedded or remote.
        ["VectorStore.VectorData"] = ["VectorStore.Abstractions"],
    };

    /// <summary>Project folder of each product assembly, for the project-graph check.</summary>
    private static readonly Dictionary<string, string> s_projects = new(StringComparer.Ordinal)
    {
        ["VectorStore.Abstractions"] = "src/VectorStore.Abstractions/VectorStore.Abstractions.csproj",
        ["VectorStore.Core"] = "src/VectorStore/VectorStore.csproj",
        ["VectorStore.Protocol"] = "src/VectorStore.Protocol/VectorStore.Protocol.csproj",
        ["VectorStore.Client"] = "src/VectorStore.Client/VectorStore.Client.csproj",
        ["VectorStore.Server"] = "src/VectorStore.Server/VectorStore.Server.csproj",
        ["VectorStore.Evaluation"] = "src/VectorStore.Evaluation/VectorStore.Evaluation.csproj",
        ["VectorStore.Cluster"] = "src/VectorStore.Cluster/VectorStore.Cluster.csproj",
        ["VectorStore.DependencyInjection"] = "src/VectorStore.DependencyInjection/VectorStore.DependencyInjection.csproj",
        ["VectorStore.VectorData"] = "src/VectorStore.VectorData/VectorStore.VectorData.csproj",
    };

    /// <summary>
    /// The built assembly: beside the tests when the test project references it, else in its own project's output
    /// for the same configuration (the cluster is kept out of this test project's references on purpose).
    /// </summary>
    private static string AssemblyPath(string name)
    {
        string beside = Path.Combine(AppContext.BaseDirectory, name + ".dll");
        if (File.Exists(beside) || !s_projects.TryGetValue(name, out var project)) return beside;
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // …/bin/<Configuration>/<tfm>/
        string built = Path.Combine(RepositoryRoot(), Path.GetDirectoryName(project)!, "bin", configuration, "net10.0", name + ".dll");
        return File.Exists(built) ? built : throw new FileNotFoundException($"{name} is not built (looked beside the tests and at {built})");
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VectorStore.sln"))) return d.FullName;
        throw new InvalidOperationException($"no VectorStore.sln above {AppContext.BaseDirectory}");
    }

    [Fact]
    public void CompiledAssembliesReferenceOnlyLowerLayers()
    {
        var violations = new List<string>();
        foreach (var (name, allowed) in s_allowed)
        {
            var refs = AssemblyName.GetAssemblyName(AssemblyPath(name)) is { } an
                ? Assembly.LoadFrom(AssemblyPath(name)).GetReferencedAssemblies().Select(r => r.Name!).ToArray()
                : [];
            foreach (var r in refs)
                if ((r.StartsWith("VectorStore", StringComparison.Ordinal) || r == "vectorstore") && !allowed.Contains(r))
                    violations.Add($"{name} references {r}");
        }
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    /// <summary>
    /// Layers that build on the engine's public API only (the cluster, the VectorData provider) get no
    /// InternalsVisibleTo from the engine: what they need from it must be public, and so part of its declared API.
    /// </summary>
    [Fact]
    public void TheClusterAndTheProviderSeeNoEngineInternals()
    {
        var friends = Assembly.LoadFrom(AssemblyPath("VectorStore.Core")).GetCustomAttributes<System.Runtime.CompilerServices.InternalsVisibleToAttribute>()
            .Select(a => a.AssemblyName.Split(',')[0]).ToHashSet(StringComparer.Ordinal);
        Assert.DoesNotContain("VectorStore.Cluster", friends);
        Assert.DoesNotContain("VectorStore.VectorData", friends);
        Assert.Contains("VectorStore.Tests", friends); // the check reads the real list
    }

    [Fact]
    public void ProjectGraphReferencesOnlyLowerLayers()
    {
        string root = RepositoryRoot();
        var byPath = s_projects.ToDictionary(kv => Path.GetFullPath(Path.Combine(root, kv.Value)), kv => kv.Key);
        var violations = new List<string>();
        foreach (var (name, project) in s_projects)
        {
            string full = Path.Combine(root, project);
            foreach (var pr in XDocument.Load(full).Descendants("ProjectReference"))
            {
                string target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(full)!, pr.Attribute("Include")!.Value.Replace('\\', '/')));
                string targetName = byPath.TryGetValue(target, out var n) ? n : Path.GetFileNameWithoutExtension(target);
                if (!s_allowed[name].Contains(targetName)) violations.Add($"{project} references {targetName}");
            }
        }
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Theory]
    [InlineData("VectorStore.Abstractions")]
    [InlineData("VectorStore.Protocol")]
    [InlineData("VectorStore.Client")]
    public void ThinLayersCarryNoStorageOrMathPackages(string name)
    {
        var refs = Assembly.LoadFrom(AssemblyPath(name)).GetReferencedAssemblies().Select(r => r.Name!).ToArray();
        Assert.DoesNotContain(refs, r => r.StartsWith("FASTER", StringComparison.OrdinalIgnoreCase)
            || r.StartsWith("K4os", StringComparison.Ordinal) || r.StartsWith("MathNet", StringComparison.Ordinal));
    }

    /// <summary>An engine namespace's folder: <c>VectorStore.Indexing.Hnsw</c> belongs to <c>Indexing</c>.</summary>
    private static string TopFolder(string ns)
    {
        var parts = ns.Split('.');
        return parts.Length < 2 ? "(root)" : parts[1];
    }

    [Fact]
    public void EngineFoldersHaveNoDependencyCycle()
    {
        var g = DependencyGraph.Read(AssemblyPath("VectorStore.Core"), TopFolder);
        Assert.Contains("Indexing", g.Nodes);
        Assert.Contains("Storage", g.Nodes);
        var cycles = g.Cycles();
        Assert.True(cycles.Count == 0, string.Join("\n", cycles.Select(c =>
            "cycle: " + string.Join(", ", c) + "\n  " + string.Join("\n  ",
                c.SelectMany(a => g.EdgesFrom(a).Where(e => c.Contains(e.Key)).Select(e => $"{a} -> {e.Key}: {e.Value}"))))));
    }

    [Fact]
    public void IndexFamiliesDoNotReferenceEachOther()
    {
        static string Family(string ns) => ns.StartsWith("VectorStore.Indexing.", StringComparison.Ordinal) ? ns : TopFolder(ns);
        var g = DependencyGraph.Read(AssemblyPath("VectorStore.Core"), Family);
        string[] families = ["VectorStore.Indexing.Flat", "VectorStore.Indexing.Hnsw", "VectorStore.Indexing.Ivf"];
        foreach (var f in families) Assert.Contains(f, g.Nodes);
        var violations = families.SelectMany(f => g.EdgesFrom(f).Where(e => families.Contains(e.Key)).Select(e => $"{f} -> {e.Key}: {e.Value}")).ToList();
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Fact]
    public void StorageKnowsNoCollection()
    {
        var g = DependencyGraph.Read(AssemblyPath("VectorStore.Core"), TopFolder);
        Assert.False(g.EdgesFrom("Storage").TryGetValue("Collections", out var why), why);
    }

    [Fact]
    public void OnlyQuantizationNamesConcreteCodecs()
    {
        // Indexes and collections work through VectorCodec and the scorers it hands out (CodeScorer, IBlockScorer,
        // ResidualScorer); a branch on a concrete codec or transform type outside the quantization folder is a codec
        // re-implemented in the wrong place (and silently skipped for a chain such as pca:128+sq8).
        using var module = Mono.Cecil.ModuleDefinition.ReadModule(AssemblyPath("VectorStore.Core"));
        var concrete = module.Types
            .Where(t => t.Namespace == "VectorStore.Quantization" && !t.IsAbstract && !t.IsInterface && Derives(t, "VectorStore.Quantization.VectorCodec", "VectorStore.Quantization.VectorTransform"))
            .Select(t => t.FullName).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("VectorStore.Quantization.ScalarQuantizer", concrete);
        var g = DependencyGraph.Read(AssemblyPath("VectorStore.Core"), ns => ns, t => concrete.Contains(t));
        var violations = g.Nodes.Where(n => n != "VectorStore.Quantization")
            .SelectMany(n => g.EdgesFrom(n).Where(e => e.Key == "VectorStore.Quantization").Select(e => $"{n}: {e.Value}")).ToList();
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    private static bool Derives(Mono.Cecil.TypeDefinition t, params string[] bases)
    {
        for (var b = t.BaseType; b is not null; b = b.Resolve()?.BaseType)
            if (bases.Contains(b.FullName)) return true;
        return false;
    }
}
