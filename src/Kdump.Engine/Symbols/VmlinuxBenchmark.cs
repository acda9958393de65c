using System.Diagnostics;
using Kdump.Engine.Types;
using Kdump.Engine.Types.Dwarf;

namespace Kdump.Engine.Symbols;

/// <summary>One measurement of <see cref="VmlinuxBenchmark.Run"/> (times in milliseconds, sizes in bytes).</summary>
public sealed class VmlinuxBenchmarkResult
{
    public string Path { get; init; } = "";
    public string? Release { get; init; }
    public string? BuildId { get; init; }
    public double OpenMs { get; init; }
    public double SymbolsMs { get; init; }
    public int SymbolCount { get; init; }
    public double DwarfIndexMs { get; init; }
    public double DwarfFirstLookupMs { get; init; }
    public double DwarfMemberWalkMs { get; init; }
    public string? DwarfVersions { get; init; }
    public int DwarfUnits { get; init; }
    public long DwarfDiesScanned { get; init; }
    public int DwarfNames { get; init; }
    public double BtfMs { get; init; }
    public double BtfFirstLookupMs { get; init; }
    public int MembersResolved { get; init; }
    public long PeakWorkingSet { get; init; }
    public long ManagedHeap { get; init; }
    public long AllocatedBytes { get; init; }
    public double CpuMs { get; init; }
}

/// <summary>
/// Measures opening a vmlinux the way Open-Vmcore does: identity, ELF symbols, DWARF index + first typed lookup,
/// a walk over the members the cmdlets use, and BTF from the .BTF section. Used by bench/Open-Vmlinux.ps1.
/// </summary>
public static class VmlinuxBenchmark
{
    private static readonly (string Struct, string Member)[] Lookups =
    [
        ("task_struct", "pid"), ("task_struct", "comm"), ("task_struct", "tasks"), ("task_struct", "mm"), ("task_struct", "__state"),
        ("task_struct", "thread"), ("task_struct", "files"), ("mm_struct", "pgd"), ("mm_struct", "rss_stat"), ("vm_area_struct", "vm_start"),
        ("file", "f_path"), ("fdtable", "max_fds"), ("dentry", "d_name"), ("inode", "i_ino"), ("pid", "numbers"), ("irq_desc", "action"),
        ("swap_info_struct", "swap_file"), ("kern_ipc_perm", "key"), ("module", "name"), ("printk_ringbuffer", "desc_ring"),
    ];

    public static VmlinuxBenchmarkResult Run(string path, ulong kaslrOffset = 0, EngineHost? host = null)
    {
        var proc = Process.GetCurrentProcess();
        var cpu0 = proc.TotalProcessorTime;
        long alloc0 = GC.GetTotalAllocatedBytes(true);
        var sw = Stopwatch.StartNew();
        using var v = VmlinuxFile.Open(path, host);
        double open = sw.Elapsed.TotalMilliseconds;

        sw.Restart();
        var syms = v.GetSymbolFinder(kaslrOffset);
        double symbols = sw.Elapsed.TotalMilliseconds;

        double index = 0, first = 0, walk = 0, btfMs = 0, btfFirst = 0;
        int resolved = 0;
        DwarfTypeFinder? dwarf = null;
        if (v.HasDwarf)
        {
            sw.Restart();
            dwarf = v.DwarfFinder;
            index = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            if (dwarf?.FindType(TypeKind.Struct, "task_struct") is KStructType ts) ts.TryFindMember("comm", out _, out _);
            first = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            resolved = Walk(dwarf!);
            walk = sw.Elapsed.TotalMilliseconds;
        }
        if (v.HasBtf)
        {
            sw.Restart();
            var btf = v.GetBtfTypeFinder();
            btfMs = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            if (btf?.FindType(TypeKind.Struct, "task_struct") is KStructType bt) bt.TryFindMember("comm", out _, out _);
            btfFirst = sw.Elapsed.TotalMilliseconds;
        }
        proc.Refresh();
        return new VmlinuxBenchmarkResult
        {
            Path = path, Release = v.Release, BuildId = v.BuildId, OpenMs = open, SymbolsMs = symbols, SymbolCount = syms?.Count ?? 0,
            DwarfIndexMs = index, DwarfFirstLookupMs = first, DwarfMemberWalkMs = walk, DwarfVersions = dwarf?.Versions,
            DwarfUnits = dwarf?.UnitCount ?? 0, DwarfDiesScanned = dwarf?.DiesScanned ?? 0, DwarfNames = dwarf?.IndexedNames ?? 0,
            BtfMs = btfMs, BtfFirstLookupMs = btfFirst, MembersResolved = resolved,
            PeakWorkingSet = proc.PeakWorkingSet64, ManagedHeap = GC.GetTotalMemory(false),
            AllocatedBytes = GC.GetTotalAllocatedBytes(true) - alloc0, CpuMs = (proc.TotalProcessorTime - cpu0).TotalMilliseconds,
        };
    }

    private static int Walk(ITypeFinder f)
    {
        int n = 0;
        foreach (var (st, m) in Lookups)
            if (f.FindType(TypeKind.Struct, st) is KStructType s && s.TryFindMember(m, out var mem, out _)) { _ = mem.Type.Size; n++; }
        return n;
    }
}
