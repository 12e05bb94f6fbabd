using Mono.Cecil;
using Mono.Cecil.Cil;

namespace VectorStore.Tests.Architecture;

/// <summary>
/// The namespace-to-namespace dependency graph of one compiled assembly, read with Cecil: every type the assembly
/// defines, and every type of the same assembly it names anywhere (base types, interfaces, attributes, fields,
/// properties, signatures, locals, and the operands of every IL instruction). Compiler-generated nested types
/// (closures, state machines) count as their outer type. Each edge keeps one example pair of types so a failure
/// says where to look.
/// </summary>
internal sealed class DependencyGraph
{
    private readonly Dictionary<string, Dictionary<string, string>> _edges = new(StringComparer.Ordinal);

    /// <summary>Every node (namespace, folded by <see cref="_fold"/>).</summary>
    public SortedSet<string> Nodes { get; } = new(StringComparer.Ordinal);

    private readonly Func<string, string> _fold;
    private readonly ModuleDefinition _module;

    private readonly Func<string, bool> _target;

    private DependencyGraph(ModuleDefinition module, Func<string, string> fold, Func<string, bool> target)
    {
        _module = module;
        _fold = fold;
        _target = target;
    }

    /// <summary>
    /// Reads <paramref name="assemblyPath"/>; <paramref name="fold"/> maps a namespace to its graph node, and only
    /// referenced types whose full name passes <paramref name="target"/> (default: all) make edges.
    /// </summary>
    public static DependencyGraph Read(string assemblyPath, Func<string, string> fold, Func<string, bool>? target = null)
    {
        using var module = ModuleDefinition.ReadModule(assemblyPath);
        var g = new DependencyGraph(module, fold, target ?? (_ => true));
        foreach (var type in module.Types)
            if (!IsCompilerEmitted(type)) g.Visit(type, type);
        return g;
    }

    /// <summary>Targets of <paramref name="from"/>, each with one example "Type -> Type" that makes the edge.</summary>
    public IReadOnlyDictionary<string, string> EdgesFrom(string from) =>
        _edges.TryGetValue(from, out var e) ? e : new Dictionary<string, string>();

    /// <summary>Strongly connected components with more than one node: each is a dependency cycle.</summary>
    public List<List<string>> Cycles()
    {
        // Tarjan's algorithm; the graph has a few dozen nodes, so recursion depth is no concern.
        int index = 0;
        var idx = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new List<List<string>>();
        void Strong(string v)
        {
            idx[v] = low[v] = index++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in EdgesFrom(v).Keys)
            {
                if (!idx.ContainsKey(w)) { Strong(w); low[v] = Math.Min(low[v], low[w]); }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], idx[w]);
            }
            if (low[v] != idx[v]) return;
            var scc = new List<string>();
            string x;
            do { x = stack.Pop(); onStack.Remove(x); scc.Add(x); } while (x != v);
            if (scc.Count > 1) { scc.Sort(StringComparer.Ordinal); result.Add(scc); }
        }
        foreach (var n in Nodes)
            if (!idx.ContainsKey(n)) Strong(n);
        return result;
    }

    /// <summary>
    /// Top-level types the compiler emits for the whole assembly (<c>&lt;Module&gt;</c>, collection-expression helpers,
    /// <c>&lt;PrivateImplementationDetails&gt;</c>): they live in no folder, so they make no edges.
    /// </summary>
    private static bool IsCompilerEmitted(TypeDefinition t) => t.DeclaringType is null && t.Name.StartsWith('<');

    private static TypeDefinition Outermost(TypeDefinition t)
    {
        while (t.DeclaringType is not null) t = t.DeclaringType;
        return t;
    }

    private void Visit(TypeDefinition type, TypeDefinition owner)
    {
        var from = Outermost(owner);
        Nodes.Add(_fold(from.Namespace));
        Use(from, type.BaseType);
        foreach (var i in type.Interfaces) Use(from, i.InterfaceType);
        Attributes(from, type.CustomAttributes);
        foreach (var gp in type.GenericParameters)
            foreach (var c in gp.Constraints) Use(from, c.ConstraintType);
        foreach (var f in type.Fields) { Use(from, f.FieldType); Attributes(from, f.CustomAttributes); }
        foreach (var p in type.Properties) { Use(from, p.PropertyType); Attributes(from, p.CustomAttributes); }
        foreach (var e in type.Events) Use(from, e.EventType);
        foreach (var m in type.Methods) Method(from, m);
        foreach (var nested in type.NestedTypes) Visit(nested, owner);
    }

    private void Method(TypeDefinition from, MethodDefinition m)
    {
        Attributes(from, m.CustomAttributes);
        Use(from, m.ReturnType);
        foreach (var p in m.Parameters) Use(from, p.ParameterType);
        if (!m.HasBody) return;
        foreach (var v in m.Body.Variables) Use(from, v.VariableType);
        foreach (var h in m.Body.ExceptionHandlers) Use(from, h.CatchType);
        foreach (var ins in m.Body.Instructions)
        {
            switch (ins.Operand)
            {
                case TypeReference t: Use(from, t); break;
                case MethodReference mr: Member(from, mr); break;
                case FieldReference fr: Use(from, fr.DeclaringType); Use(from, fr.FieldType); break;
            }
        }
    }

    private void Member(TypeDefinition from, MethodReference mr)
    {
        Use(from, mr.DeclaringType);
        Use(from, mr.ReturnType);
        foreach (var p in mr.Parameters) Use(from, p.ParameterType);
        if (mr is GenericInstanceMethod gim)
            foreach (var a in gim.GenericArguments) Use(from, a);
    }

    private void Attributes(TypeDefinition from, IEnumerable<CustomAttribute> attributes)
    {
        foreach (var a in attributes) Use(from, a.AttributeType);
    }

    private void Use(TypeDefinition from, TypeReference? t)
    {
        switch (t)
        {
            case null:
            case GenericParameter:
                return;
            case GenericInstanceType git:
                Use(from, git.ElementType);
                foreach (var arg in git.GenericArguments) Use(from, arg);
                return;
            case TypeSpecification spec: // arrays, by-ref, pointers, modifiers
                Use(from, spec.ElementType);
                return;
        }
        // Only types this assembly defines make edges; the rest of the world is not part of its folder graph.
        if (t.Scope is not ModuleDefinition m || m != _module) return;
        var def = t.Resolve();
        if (def is null) return;
        var target = Outermost(def);
        if (IsCompilerEmitted(target) || !_target(target.FullName)) return;
        string a = _fold(from.Namespace), b = _fold(target.Namespace);
        if (a == b) return;
        if (!_edges.TryGetValue(a, out var map)) _edges[a] = map = new Dictionary<string, string>(StringComparer.Ordinal);
        map.TryAdd(b, $"{from.FullName} -> {target.FullName}");
    }
}
