using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Kdump.Engine;
using Kdump.Engine.Linux.Irq;
using Kdump.Engine.Linux.Modules;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.PowerShell.Completers;

/// <summary>
/// Base of the completers that read the dump (symbols, types, modules, IRQs, CPUs): finds the dump (-Vmcore already
/// typed, else the current one), matches the typed word as a prefix (wildcards allowed, quotes understood), caps
/// the list, and never throws at the user.
/// </summary>
public abstract class DumpCompleter : IArgumentCompleter
{
    /// <summary>At most this many results (a completion list of 90,000 symbols helps nobody).</summary>
    protected const int MaxResults = 500;

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var results = new List<CompletionResult>();
        try
        {
            var v = CompletionVmcore.From(fakeBoundParameters);
            if (v is null) return results;
            string word = CompletionText.Unquote(wordToComplete);
            foreach (var (value, tip) in Candidates(v, fakeBoundParameters, word))
            {
                if (!CompletionText.Matches(value, word)) continue;
                results.Add(new CompletionResult(CompletionText.Quote(value, wordToComplete), value, CompletionResultType.ParameterValue, tip));
                if (results.Count >= MaxResults) break;
            }
        }
        catch (Exception) { /* completion never throws at the user */ }
        return results;
    }

    /// <summary>The values to offer (already in display order) with their tooltips; <paramref name="word"/> may be used to narrow early.</summary>
    protected abstract IEnumerable<(string Value, string Tip)> Candidates(Vmcore vmcore, IDictionary bound, string word);
}

/// <summary>Completes kernel symbol names (Read-CrashMemory -Symbol, Get-CrashSymbol -Name).</summary>
public sealed class SymbolCompleter : DumpCompleter
{
    protected override IEnumerable<(string, string)> Candidates(Vmcore vmcore, IDictionary bound, string word) =>
        SymbolNames(vmcore, word, null);

    internal static IEnumerable<(string, string)> SymbolNames(Vmcore vmcore, string word, string? types)
    {
        var pattern = new WildcardPattern(WildcardPattern.Escape(word).Replace("`*", "*").Replace("`?", "?") + "*", WildcardOptions.None);
        return vmcore.Kernel.EnumerateSymbols()
            .Where(s => (types is null || types.Contains(s.Type)) && pattern.IsMatch(s.Name))
            .GroupBy(s => s.Name, StringComparer.Ordinal).Select(g => g.First())
            .OrderBy(s => s.Name, StringComparer.Ordinal)
            .Take(MaxResults)
            .Select(s => (s.Name, $"{s.Name} ({s.Type}) 0x{s.Address:x}{(s.Module is null ? "" : " [" + s.Module + "]")}"));
    }
}

/// <summary>Completes global variables (Get-CrashObject -Variable): data, bss and read-only data symbols.</summary>
public sealed class VariableCompleter : DumpCompleter
{
    protected override IEnumerable<(string, string)> Candidates(Vmcore vmcore, IDictionary bound, string word) =>
        SymbolCompleter.SymbolNames(vmcore, word, "DdBbRrVv");
}

/// <summary>Completes type names (Get-CrashObject -Type, Get-CrashType -Name) from the BTF type sources.</summary>
public sealed class TypeNameCompleter : DumpCompleter
{
    protected override IEnumerable<(string, string)> Candidates(Vmcore vmcore, IDictionary bound, string word)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        var kind = new Dictionary<string, string>(StringComparer.Ordinal);
        string bare = word.StartsWith("struct ", StringComparison.Ordinal) ? word[7..] : word.StartsWith("union ", StringComparison.Ordinal) ? word[6..] : word;
        string prefix = word.Length - bare.Length > 0 ? word[..(word.Length - bare.Length)] : "";
        foreach (var f in vmcore.Kernel.TypeFinders.OfType<BtfTypeFinder>())
        {
            void Add(IEnumerable<string> list, string k)
            {
                foreach (var n in list)
                {
                    if (!n.StartsWith(bare.TrimEnd('*'), StringComparison.Ordinal)) continue;
                    var name = prefix + n;
                    if (names.Add(name)) kind[name] = k;
                }
            }
            if (prefix is "" or "struct ") Add(f.StructNames, "struct");
            if (prefix is "" or "union ") Add(f.UnionNames, "union");
            if (prefix == "") { Add(f.TypedefNames, "typedef"); Add(f.EnumNames, "enum"); }
        }
        return names.Select(n => (n, $"{kind[n]} {n}"));
    }
}

/// <summary>Completes -Member from the members of the -Type already typed ("tasks.next" style paths after a dot).</summary>
public sealed class MemberCompleter : DumpCompleter
{
    protected override IEnumerable<(string, string)> Candidates(Vmcore vmcore, IDictionary bound, string word)
    {
        if (bound["Type"] is not { } typeArg) yield break;
        var type = vmcore.Kernel.FindType(typeArg is PSObject p ? p.BaseObject.ToString()! : typeArg.ToString()!);
        int dot = word.LastIndexOf('.');
        string path = dot < 0 ? "" : word[..(dot + 1)];
        var t = type.Resolve();
        if (path.Length > 0)
        {
            foreach (var part in path.TrimEnd('.').Split('.'))
            {
                if (t is not KStructType st) yield break;
                var m = Find(st, part);
                if (m is null) yield break;
                t = m.Type.Resolve();
            }
        }
        if (t is not KStructType s) yield break;
        foreach (var (name, mt) in Members(s, 0))
            yield return (path + name, $"{mt.DisplayName} {name}");
    }

    private static KMember? Find(KStructType st, string name)
    {
        foreach (var m in st.Members)
        {
            if (m.Name == name) return m;
            if (string.IsNullOrEmpty(m.Name) && m.Type.Resolve() is KStructType inner && Find(inner, name) is { } hit) return hit;
        }
        return null;
    }

    private static IEnumerable<(string, KType)> Members(KStructType st, int depth)
    {
        foreach (var m in st.Members)
        {
            if (string.IsNullOrEmpty(m.Name))
            {
                if (depth < 8 && m.Type.Resolve() is KStructType inner) foreach (var x in Members(inner, depth + 1)) yield return x;
                continue;
            }
            yield return (m.Name, m.Type);
        }
    }
}

/// <summary>Completes Get-CrashModule -Name with the loaded modules.</summary>
public sealed class ModuleNameCompleter : DumpCompleter
{
    protected override IEnumerable<(string, string)> Candidates(Vmcore vmcore, IDictionary bound, string word) =>
        ModuleReader.Read(vmcore.Kernel, out _).OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => (m.Name, $"{m.Name} 0x{m.Object:x}"));
}

/// <summary>Completes Get-CrashIrq -Irq with the IRQs that have a descriptor (the tooltip names the handler).</summary>
public sealed class IrqCompleter : DumpCompleter
{
    protected override IEnumerable<(string, string)> Candidates(Vmcore vmcore, IDictionary bound, string word) =>
        new IrqReader(vmcore.Kernel).Enumerate(_ => { }).Take(4096)
            .Select(i => (i.Irq.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{i.Irq} {(i.Action == 0 ? "(unused)" : i.Name)}"));
}

/// <summary>Completes -Cpu with the dump's CPU numbers.</summary>
public sealed class CpuCompleter : DumpCompleter
{
    protected override IEnumerable<(string, string)> Candidates(Vmcore vmcore, IDictionary bound, string word)
    {
        int n = vmcore.CpuCount ?? vmcore.Cpus.Count;
        for (int i = 0; i < Math.Min(n, 65536); i++)
            yield return (i.ToString(System.Globalization.CultureInfo.InvariantCulture), $"CPU {i}{(vmcore.PanicCpu == i ? " (panic)" : "")}");
    }
}
