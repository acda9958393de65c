using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Modules;

/// <summary>
/// Walks the kernel's <c>modules</c> list of struct module. The layout comes from the type finder: before 6.4 a
/// module has core_layout/init_layout (struct module_layout: base, size, text_size ...); from 6.4 on an array
/// mem[MOD_MEM_NUM_TYPES] of struct module_memory indexed by enum mod_mem_type. Results are kept in the program's
/// <see cref="KernelProgram.Caches"/> (a dump does not change).
/// </summary>
public static class ModuleReader
{
    /// <summary>Hard limit on the number of modules walked.</summary>
    public const int MaxModules = 65_536;
    /// <summary>Hard limit on one module region (the module area is 1 GiB on x86_64).</summary>
    public const ulong MaxRegionSize = 1UL << 30;

    /// <summary>The module list as read once per program (kept in <see cref="KernelProgram.Caches"/>).</summary>
    internal sealed record ModuleList(IReadOnlyList<LoadedModule> Modules, IReadOnlyList<string> Warnings);

    /// <summary>The loaded modules in list order (most recently loaded first), with problems met while reading.</summary>
    public static IReadOnlyList<LoadedModule> Read(KernelProgram program, out IReadOnlyList<string> warnings)
    {
        ArgumentNullException.ThrowIfNull(program);
        var list = program.Caches.Modules.GetOrCreate(() =>
        {
            var w = new List<string>();
            var m = ReadUncached(program, w);
            return new ModuleList(m, w);
        });
        warnings = list.Warnings;
        return list.Modules;
    }

    /// <summary>The module whose regions contain <paramref name="address"/>, else null.</summary>
    public static LoadedModule? FindByAddress(KernelProgram program, ulong address)
    {
        foreach (var m in Read(program, out _)) if (m.Contains(address)) return m;
        return null;
    }

    internal static List<LoadedModule> ReadUncached(KernelProgram p, List<string> warnings)
    {
        var list = new List<LoadedModule>();
        var head = p.FindSymbol("modules");
        if (head is null) { warnings.Add("The kernel symbol 'modules' is not known; no module list."); return list; }
        var type = p.TryFindType("struct module");
        if (type is null) { warnings.Add("The type 'struct module' is not known (no BTF or debuginfo); modules cannot be read."); return list; }
        IEnumerable<KernelObject> entries;
        try { entries = p.ListForEachEntry(head.Address, type, "list", MaxModules).ToList(); }
        catch (KdumpException ex)
        {
            warnings.Add($"The module list is damaged: {ex.Message}");
            entries = PartialWalk(p, head.Address, type);
        }
        foreach (var mod in entries)
        {
            try { list.Add(ReadOne(p, mod)); }
            catch (KdumpException ex)
            {
                warnings.Add($"struct module at 0x{mod.Address:x}: {ex.Message}");
                list.Add(new LoadedModule { Object = mod.Address, Name = TryName(mod), Problem = ex.Message });
            }
        }
        return list;
    }

    private static List<KernelObject> PartialWalk(KernelProgram p, ulong head, KType type)
    {
        var got = new List<KernelObject>();
        try { foreach (var m in p.ListForEachEntry(head, type, "list", MaxModules)) got.Add(m); }
        catch (KdumpException) { }
        return got;
    }

    private static string TryName(KernelObject mod)
    {
        try { return mod.Member("name").ReadString(64); } catch (KdumpException) { return "?"; }
    }

    private static LoadedModule ReadOne(KernelProgram p, KernelObject mod)
    {
        string name = mod.Member("name").ReadString(64);
        string state = mod.HasMember("state") ? (mod.Member("state").ReadEnumName() ?? mod.Member("state").ReadInteger().ToString()) : "";
        int? refs = mod.HasMember("refcnt") && mod.TryReadField<int>("refcnt.counter", out var rc) ? rc : null;
        var regions = new List<ModuleRegion>();
        ulong baseAddr, size, textSize, initSize = 0;
        if (mod.HasMember("mem"))
        {
            // 6.4+: struct module_memory mem[MOD_MEM_NUM_TYPES]; enum mod_mem_type gives the indexes.
            var mem = mod.Member("mem");
            int n = mem.ResolvedType is KArrayType a ? (int)Math.Min(a.Count, 16) : 7;
            long text = Enum(p, "MOD_TEXT", 0), initText = Enum(p, "MOD_INIT_TEXT", 4);
            long firstInit = Enum(p, "MOD_INIT_TEXT", 4);
            size = 0; baseAddr = 0; textSize = 0;
            for (int i = 0; i < n; i++)
            {
                var m = mem.Index(i);
                ulong b = m.Member("base").ReadPointer();
                ulong s = m.Member("size").ReadUnsigned();
                CheckRegion(name, b, s);
                bool isInit = i >= firstInit;
                bool isText = i == text || i == initText;
                if (s != 0) regions.Add(new ModuleRegion(b, s, isText, isInit));
                if (isInit) initSize += s; else size += s;
                if (i == text) { baseAddr = b; textSize = s; }
            }
        }
        else
        {
            var core = mod.Member("core_layout");
            baseAddr = core.Member("base").ReadPointer();
            size = core.Member("size").ReadUnsigned();
            textSize = core.Member("text_size").ReadUnsigned();
            CheckRegion(name, baseAddr, size);
            if (textSize > size) textSize = size;
            if (textSize != 0) regions.Add(new ModuleRegion(baseAddr, textSize, true, false));
            if (size > textSize) regions.Add(new ModuleRegion(baseAddr + textSize, size - textSize, false, false));
            if (mod.HasMember("init_layout"))
            {
                var init = mod.Member("init_layout");
                ulong ib = init.Member("base").ReadPointer(), isz = init.Member("size").ReadUnsigned(), its = init.Member("text_size").ReadUnsigned();
                if (ib != 0 && isz != 0)
                {
                    CheckRegion(name, ib, isz);
                    initSize = isz;
                    its = Math.Min(its, isz);
                    if (its != 0) regions.Add(new ModuleRegion(ib, its, true, true));
                    if (isz > its) regions.Add(new ModuleRegion(ib + its, isz - its, false, true));
                }
            }
        }
        ulong symtab = 0, strtab = 0, typetab = 0; uint nsym = 0;
        if (mod.HasMember("kallsyms"))
        {
            ulong ks = mod.Member("kallsyms").ReadPointer();
            if (ks != 0)
            {
                var k = mod.Member("kallsyms").Deref();
                symtab = k.Member("symtab").ReadPointer();
                nsym = (uint)k.Member("num_symtab").ReadUnsigned();
                strtab = k.Member("strtab").ReadPointer();
                if (k.HasMember("typetab")) typetab = k.Member("typetab").ReadPointer();
            }
        }
        ulong orcIp = 0, orc = 0; uint norc = 0;
        if (mod.HasMember("arch") && mod.Member("arch").HasMember("num_orcs"))
        {
            var arch = mod.Member("arch");
            norc = (uint)arch.Member("num_orcs").ReadUnsigned();
            orcIp = arch.Member("orc_unwind_ip").ReadPointer();
            orc = arch.Member("orc_unwind").ReadPointer();
        }
        return new LoadedModule
        {
            Name = name, Object = mod.Address, Base = baseAddr, Size = size, TextSize = textSize, InitSize = initSize,
            State = state, ReferenceCount = refs, Regions = regions, SymTab = symtab, SymCount = nsym, StrTab = strtab, TypeTab = typetab,
            OrcUnwindIp = orcIp, OrcUnwind = orc, OrcCount = norc,
        };
    }

    private static long Enum(KernelProgram p, string name, long fallback) => p.TryFindEnumerator(name, out var v) ? v : fallback;

    private static void CheckRegion(string module, ulong start, ulong size)
    {
        if (size > MaxRegionSize || (size != 0 && start + size < start))
            throw new KdumpException("ModuleCorrupt", KdumpErrorKind.InvalidData, $"Module '{module}' declares a region of {size} bytes at 0x{start:x}.", module);
    }

    /// <summary>The public view (Get-CrashModule) of a module, with its .ko file when an index is given.</summary>
    public static CrashModule ToCrashModule(LoadedModule m, ModuleFileIndex? files = null) => new()
    {
        Name = m.Name, Object = m.Object, Base = m.Base, Size = m.Size, TextSize = m.TextSize, InitSize = m.InitSize,
        State = m.State, ReferenceCount = m.ReferenceCount, SymbolCount = (int)Math.Min(m.SymCount, int.MaxValue),
        File = files?.Find(m.Name), Problem = m.Problem,
    };
}
