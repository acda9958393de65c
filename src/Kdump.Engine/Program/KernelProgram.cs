using System.Buffers.Binary;
using System.Text;
using Kdump.Engine.Dump;
using Kdump.Engine.Symbols;
using Kdump.Engine.Translation;
using Kdump.Engine.Types;

namespace Kdump.Engine.Program;

/// <summary>
/// The hub of kernel analysis: owns the physical memory, VMCOREINFO, the address translator, the ordered symbol
/// finders and type finders, and gives typed access (<see cref="KernelObject"/>). Debuginfo-free by default:
/// kallsyms and BTF are loaded from the dump itself on first use; other finders (vmlinux ELF/DWARF, System.map) can
/// be added in front.
/// </summary>
public sealed partial class KernelProgram : IKernelMemory, ISymbolValues
{
    private readonly EngineHost _host;
    private readonly object _lock = new();
    private bool _defaultSymbolsLoaded, _defaultTypesLoaded;
    private readonly List<ITypeFinder> _typeFinders = new();
    private readonly List<string> _notes = new();

    public IPhysicalMemory Memory { get; }
    public PhysicalReader Physical { get; }
    public VmcoreInfo? VmcoreInfo { get; }
    public IReadOnlyList<CpuState> Cpus { get; }
    /// <summary>The dump's architecture (from <see cref="Architectures.ArchitectureRegistry"/>, keyed by its ELF/utsname machine).</summary>
    public Architectures.ArchitectureDescriptor Architecture { get; }
    /// <summary>The architecture's address translator (page-table walks, direct map).</summary>
    public IAddressTranslator Translator { get; }
    public SymbolFinderChain SymbolFinders { get; } = new();
    /// <summary>What this program derived from its dump (task table, modules, layouts ...), emptied by <see cref="InvalidateCaches"/>.</summary>
    public KernelCaches Caches { get; } = new();

    /// <summary>
    /// The opened dump this program belongs to, set once by <see cref="Model.Vmcore"/> when it creates the program;
    /// answers built from the program (tasks) name it, whoever asked first. Null for programs built over bare memory.
    /// </summary>
    public Model.Vmcore? Owner
    {
        get => _owner;
        internal set
        {
            if (value is null || ReferenceEquals(value, _owner)) return;
            if (Interlocked.CompareExchange(ref _owner, value, null) is { } other && !ReferenceEquals(other, value))
                throw new KdumpException("ProgramOwnerConflict", KdumpErrorKind.InvalidArgument,
                    $"This kernel program belongs to '{other.Name}', not '{value.Name}'.", value.Name);
        }
    }
    private Model.Vmcore? _owner;

    /// <summary>Problems met while loading the default finders (kallsyms missing, BTF excluded ...).</summary>
    public IReadOnlyList<string> Notes { get { lock (_lock) return _notes.ToArray(); } }

    public KernelProgram(IPhysicalMemory memory, VmcoreInfo? vmcoreInfo, IReadOnlyList<CpuState>? cpus = null, EngineHost? host = null,
        X86_64TranslatorOptions? translatorOptions = null)
        : this(memory, vmcoreInfo, cpus, host, new KernelProgramOptions { TranslatorOptions = translatorOptions })
    {
    }

    /// <summary>A program over a dump of the architecture <paramref name="options"/> names (or VMCOREINFO implies).</summary>
    public KernelProgram(IPhysicalMemory memory, VmcoreInfo? vmcoreInfo, IReadOnlyList<CpuState>? cpus, EngineHost? host, KernelProgramOptions options)
    {
        Memory = memory ?? throw new ArgumentNullException(nameof(memory));
        ArgumentNullException.ThrowIfNull(options);
        VmcoreInfo = vmcoreInfo;
        Cpus = cpus ?? Array.Empty<CpuState>();
        _host = host ?? EngineHost.Null;
        Physical = new PhysicalReader(memory);
        Architecture = (options.Registry ?? Architectures.ArchitectureRegistry.Default).Resolve(options.Architecture, vmcoreInfo);
        Translator = Architecture.CreateTranslator(new Architectures.ArchitectureContext
        {
            Physical = Physical, VmcoreInfo = vmcoreInfo, Cpus = Cpus, Symbols = this,
            DumpPhysBase = options.DumpPhysBase, TranslatorOptions = options.TranslatorOptions,
        });
    }

    /// <summary>Drops cached pages and translations (memory that can change: tests, live sources).</summary>
    public void InvalidateCaches() { Physical.Clear(); Translator.ClearCache(); Caches.Clear(); }

    /// <summary>Kernel release from VMCOREINFO (OSRELEASE).</summary>
    public string? OsRelease => VmcoreInfo?.OsRelease;

    /// <summary>The kernel's page size: VMCOREINFO's PAGESIZE, else the translator's base page.</summary>
    public int PageSize => VmcoreInfo?.PageSize is int ps and >= 512 and <= 1 << 20 && (ps & (ps - 1)) == 0 ? ps : Translator.PageSize;

    // ---------------------------------------------------------------- symbols

    /// <summary>Adds a symbol finder; <paramref name="first"/> puts it ahead of the dump's own kallsyms.</summary>
    public void AddSymbolFinder(ISymbolFinder finder, bool first = true) => SymbolFinders.Add(finder, first ? 0 : null);

    private void EnsureSymbols()
    {
        if (_defaultSymbolsLoaded) return;
        lock (_lock)
        {
            if (_defaultSymbolsLoaded) return;
            _defaultSymbolsLoaded = true;
            if (VmcoreInfo is { } vi && Kallsyms.IsAvailable(vi))
            {
                try
                {
                    var table = Kallsyms.Load(this, vi, out var enc);
                    SymbolFinders.Add(table);
                    _host.Verbose($"Loaded {table.Count} kallsyms symbols from the dump ({Kallsyms.Describe(enc)}).");
                }
                catch (KdumpException ex)
                {
                    _sourceFault ??= ex as MemoryFaultException;
                    _kallsymsError = ex;
                    _notes.Add($"kallsyms: {ex.Message}");
                    _host.Warning($"Cannot read kallsyms from the dump: {ex.Message}");
                }
            }
            else _notes.Add("kallsyms: VMCOREINFO has no kallsyms symbols (Linux < 6.0 or no VMCOREINFO)");
            // Module symbols from each module's own kallsyms; read lazily on the first lookup that reaches them.
            SymbolFinders.Add(new Linux.Modules.ModuleSymbolFinder(this));
            if (VmcoreInfo is not null) SymbolFinders.Add(new VmcoreInfoSymbols(VmcoreInfo));
        }
    }

    /// <summary>The unreadable page (lost, corrupt, excluded) that kept the dump's kallsyms or BTF from loading, if any.</summary>
    private MemoryFaultException? _sourceFault;
    /// <summary>Why the dump's kallsyms could not be loaded, if they could not.</summary>
    private KdumpException? _kallsymsError;

    /// <summary>
    /// When the dump's own symbols or types could not be read because their pages are lost or corrupt, the error to
    /// give for <paramref name="what"/>: the page fault (PageLost, PageCorrupt ...), not "install debuginfo".
    /// </summary>
    private MemoryFaultException? LostSourceError(string what)
    {
        if (_sourceFault is not { } f) return null;
        return new MemoryFaultException(f.Address, f.Status, f.AddressSpace,
            $"{what} is unknown because the dump's kallsyms/BTF could not be read from this page; a -Vmlinux or -SystemMap of the same kernel can stand in for them");
    }

    /// <summary>All symbol finders, loading the dump's kallsyms first if needed.</summary>
    public IReadOnlyList<ISymbolFinder> Symbols { get { EnsureSymbols(); return SymbolFinders.Finders; } }

    public KSymbol? FindSymbol(string name) { EnsureSymbols(); return SymbolFinders.FindByName(name); }

    public KSymbol GetSymbol(string name) => FindSymbol(name)
        ?? throw (LostSourceError($"symbol '{name}'") as KdumpException ?? new KdumpException("SymbolNotFound", KdumpErrorKind.NotFound, $"Symbol '{name}' is not known to any symbol source ({SymbolSourceText}).", name));

    public SymbolOffset? Symbolize(ulong address) { EnsureSymbols(); return SymbolFinders.FindByAddress(address); }

    public IEnumerable<KSymbol> EnumerateSymbols() { EnsureSymbols(); return SymbolFinders.Enumerate(); }

    public string SymbolSourceText { get { var f = Symbols; return f.Count == 0 ? "none" : string.Join("; ", f.Select(x => x.Source)); } }

    bool ISymbolValues.TryGetSymbolAddress(string name, out ulong address)
    {
        if (VmcoreInfo is { } vi && vi.TryGetSymbol(name, out address)) return true;
        var s = FindSymbol(name);
        address = s?.Address ?? 0;
        return s is not null;
    }

    // ---------------------------------------------------------------- types

    /// <summary>Adds a type finder; <paramref name="first"/> puts it ahead of the dump's BTF.</summary>
    public void AddTypeFinder(ITypeFinder finder, bool first = true)
    {
        lock (_lock) { if (first) _typeFinders.Insert(0, finder); else _typeFinders.Add(finder); }
    }

    public IReadOnlyList<ITypeFinder> TypeFinders { get { EnsureTypes(); lock (_lock) return _typeFinders.ToArray(); } }

    public string TypeSourceText { get { var f = TypeFinders; return f.Count == 0 ? "none" : string.Join("; ", f.Select(x => x.Source)); } }

    /// <summary>
    /// Whether the kernel's own BTF is read from the dump as a type source. Open-Vmcore turns it off when the user
    /// chose a vmlinux's types, so the dump's BTF is neither parsed nor consulted.
    /// </summary>
    public bool UseDumpBtf { get; set; } = true;

    /// <summary>Hard limit on the BTF blob read from memory.</summary>
    public const ulong MaxBtfBytes = 64 << 20;

    private void EnsureTypes()
    {
        if (_defaultTypesLoaded) return;
        EnsureSymbols();
        lock (_lock)
        {
            if (_defaultTypesLoaded) return;
            _defaultTypesLoaded = true;
            if (!UseDumpBtf) { _notes.Add("BTF in the dump: not used (types come from the vmlinux)"); return; }
            var start = SymbolFinders.FindByName("__start_BTF");
            var stop = SymbolFinders.FindByName("__stop_BTF");
            if ((start is null || stop is null) && _kallsymsError is { } kerr)
            {
                _notes.Add($"BTF: __start_BTF/__stop_BTF are unknown because the dump's kallsyms could not be read ({kerr.Message})");
                return;
            }
            if (start is null || stop is null)
            {
                _notes.Add(SymbolFinders.FindByName("_stext") is null
                    ? "BTF: __start_BTF/__stop_BTF are not known (no kallsyms in the dump: Linux < 6.0, or no VMCOREINFO)"
                    : "BTF: the kernel has no BTF (no __start_BTF symbol: CONFIG_DEBUG_INFO_BTF is off or the kernel predates 5.2)");
                return;
            }
            if (stop.Address <= start.Address || stop.Address - start.Address > MaxBtfBytes)
            { _notes.Add($"BTF: __start_BTF..__stop_BTF spans {stop.Address - start.Address} bytes (limit {MaxBtfBytes})"); return; }
            try
            {
                var blob = new byte[stop.Address - start.Address];
                ReadKernel(start.Address, blob);
                var finder = new BtfTypeFinder(blob, $"BTF in the dump (__start_BTF 0x{start.Address:x}, {blob.Length} bytes)");
                _typeFinders.Add(finder);
                _host.Verbose($"Loaded {finder.TypeCount} BTF types from the dump.");
            }
            catch (KdumpException ex)
            {
                _sourceFault ??= ex as MemoryFaultException;
                _notes.Add($"BTF: {ex.Message}");
                _host.Warning($"Cannot read the kernel's BTF from the dump: {ex.Message}");
            }
        }
    }

    /// <summary>
    /// Finds a type by C spelling: "struct task_struct", "union thread_union", "enum pid_type", "pid_t",
    /// "unsigned long", "struct page *", "char [16]" is not parsed. Null when unknown.
    /// </summary>
    public KType? TryFindType(string spelling)
    {
        ArgumentNullException.ThrowIfNull(spelling);
        var s = spelling.Trim();
        int stars = 0;
        while (s.EndsWith('*')) { stars++; s = s[..^1].TrimEnd(); }
        KType? t = null;
        if (s.StartsWith("struct ", StringComparison.Ordinal)) t = Find(TypeKind.Struct, s[7..].Trim());
        else if (s.StartsWith("union ", StringComparison.Ordinal)) t = Find(TypeKind.Union, s[6..].Trim());
        else if (s.StartsWith("enum ", StringComparison.Ordinal)) t = Find(TypeKind.Enum, s[5..].Trim());
        else if (s == "void") t = KVoidType.Instance;
        else t = Find(TypeKind.Typedef, s) ?? Find(TypeKind.Integer, NormalizeBase(s)) ?? Find(TypeKind.Struct, s) ?? Find(TypeKind.Union, s);
        if (t is null) return null;
        for (int i = 0; i < stars; i++) { var target = t; t = new KRefType(TypeKind.Pointer, null, (ulong)Architecture.PointerSize, () => target); }
        return t;
    }

    public KType FindType(string spelling)
    {
        if (TryFindType(spelling) is { } t) return t;
        if (TypeFinders.Count == 0)
        {
            if (LostSourceError($"type '{spelling}'") is { } lost) throw lost;
            string why;
            lock (_lock) why = string.Join("; ", _notes.Where(n => n.StartsWith("BTF", StringComparison.Ordinal)));
            string damage = Memory is Dump.DumpFile { Problems.Count: > 0 } d ? $"The dump is damaged ({string.Join("; ", d.Problems)}), which may be why. " : "";
            throw new KdumpException("KernelTypesUnavailable", KdumpErrorKind.Unavailable,
                $"No kernel type information for '{spelling}': {(why.Length > 0 ? why : "no type source")}. {damage}" +
                "Open the dump with -Vmlinux <the kernel's debuginfo vmlinux> (Debian/Ubuntu: linux-image-<release>-dbg; RHEL/Fedora: kernel-debuginfo-<release>).", spelling);
        }
        throw new KdumpException("TypeNotFound", KdumpErrorKind.NotFound, $"Type '{spelling}' is not known to any type source ({TypeSourceText}).", spelling);
    }

    private KType? Find(TypeKind kind, string name)
    {
        foreach (var f in TypeFinders) if (f.FindType(kind, name) is { } t && !(t is KStructType { IsIncomplete: true })) return t;
        foreach (var f in TypeFinders) if (f.FindType(kind, name) is { } t) return t;
        return null;
    }

    private static string NormalizeBase(string s) => s switch
    {
        "unsigned long" => "long unsigned int",
        "long" => "long int",
        "unsigned" or "unsigned int" => "unsigned int",
        "unsigned long long" => "long long unsigned int",
        "long long" => "long long int",
        "unsigned short" => "short unsigned int",
        "short" => "short int",
        "u8" or "u16" or "u32" or "u64" or "s8" or "s16" or "s32" or "s64" => s,
        _ => s,
    };

    public bool TryFindEnumerator(string name, out long value)
    {
        foreach (var f in TypeFinders) if (f.TryFindEnumerator(name, out value)) return true;
        value = 0;
        return false;
    }

    // ---------------------------------------------------------------- memory

    /// <summary>Reads kernel virtual memory (text mapping, direct map, vmalloc, modules, per-cpu areas).</summary>
    public void ReadKernel(ulong address, Span<byte> destination) => ReadVirtual(address, destination, AddressSpace.KernelVirtual);

    /// <summary>Reads memory in an explicit address space, page by page; throws on the first unreadable page.</summary>
    public void ReadVirtual(ulong address, Span<byte> destination, AddressSpace space)
    {
        int done = 0;
        while (done < destination.Length)
        {
            ulong va = address + (ulong)done;
            if (va < address)
                throw new AddressTranslationException("AddressNotCanonical", KdumpErrorKind.InvalidArgument, $"Read of {destination.Length} bytes at 0x{address:x} wraps around.", address, space);
            int page = Translator.PageSize;
            int n = Math.Min(page - (int)(va & (ulong)(page - 1)), destination.Length - done);
            ulong pa = Translator.ToPhysical(va, space);
            var st = Physical.TryRead(pa, destination.Slice(done, n), out var bad);
            if (st != PageStatus.Present)
                throw new MemoryFaultException(bad, st, space.Kind == AddressSpaceKind.Physical ? "physical" : "virtual", $"virtual 0x{va:x}");
            done += n;
        }
    }

    public byte[] ReadKernel(ulong address, int count)
    {
        if (count < 0 || count > 256 << 20) throw new KdumpException("ReadSizeInvalid", KdumpErrorKind.InvalidArgument, $"Cannot read {count} bytes at once.", count);
        var b = new byte[count];
        ReadKernel(address, b);
        return b;
    }

    public ulong ReadU64(ulong address) { Span<byte> b = stackalloc byte[8]; ReadKernel(address, b); return BinaryPrimitives.ReadUInt64LittleEndian(b); }
    public uint ReadU32(ulong address) { Span<byte> b = stackalloc byte[4]; ReadKernel(address, b); return BinaryPrimitives.ReadUInt32LittleEndian(b); }
    public ushort ReadU16(ulong address) { Span<byte> b = stackalloc byte[2]; ReadKernel(address, b); return BinaryPrimitives.ReadUInt16LittleEndian(b); }
    public byte ReadU8(ulong address) { Span<byte> b = stackalloc byte[1]; ReadKernel(address, b); return b[0]; }

    /// <summary>Reads a NUL-terminated string of at most <paramref name="max"/> bytes (stops early at an unreadable page).</summary>
    public string ReadCString(ulong address, int max = 4096)
    {
        var sb = new List<byte>(Math.Min(max, 256));
        Span<byte> chunk = stackalloc byte[256];
        while (sb.Count < max)
        {
            int page = Translator.PageSize;
            int n = Math.Min(chunk.Length, Math.Min(max - sb.Count, page - (int)((address + (ulong)sb.Count) & (ulong)(page - 1))));
            ReadKernel(address + (ulong)sb.Count, chunk[..n]);
            int z = chunk[..n].IndexOf((byte)0);
            if (z >= 0) { sb.AddRange(chunk[..z].ToArray()); break; }
            sb.AddRange(chunk[..n].ToArray());
        }
        return Encoding.UTF8.GetString(sb.ToArray());
    }

    // ---------------------------------------------------------------- objects

    public KernelObject Object(ulong address, KType type) => new(this, address, type);
    public KernelObject Object(ulong address, string typeSpelling) => new(this, address, FindType(typeSpelling));

    /// <summary>A global variable by name: its address from the symbol finders, its type from a type finder.</summary>
    public KernelObject Variable(string name)
    {
        var sym = GetSymbol(name);
        foreach (var f in TypeFinders)
            if (f.FindVariableType(name) is { } t) return new KernelObject(this, sym.Address, t);
        if (WellKnownVariables.TryGetValue(name, out var spelling) && TryFindType(spelling) is { } wk) return new KernelObject(this, sym.Address, wk);
        throw new KdumpException("VariableTypeUnknown", KdumpErrorKind.NotFound,
            $"The type of '{name}' is not known ({TypeSourceText}); kernel BTF only describes per-CPU variables. Use Variable(name, type).", name);
    }

    public KernelObject Variable(string name, string typeSpelling) => new(this, GetSymbol(name).Address, FindType(typeSpelling));

    /// <summary>Types of globals that kernel BTF does not describe (it only has per-CPU VARs).</summary>
    public static readonly IReadOnlyDictionary<string, string> WellKnownVariables = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["init_task"] = "struct task_struct",
        ["init_mm"] = "struct mm_struct",
        ["init_pid_ns"] = "struct pid_namespace",
        ["init_uts_ns"] = "struct uts_namespace",
        ["jiffies"] = "unsigned long",
        ["jiffies_64"] = "u64",
        ["nr_cpu_ids"] = "unsigned int",
        ["totalram_pages"] = "atomic_long_t",
        ["modules"] = "struct list_head",
        ["super_blocks"] = "struct list_head",
        ["swap_info"] = "struct swap_info_struct *",
        ["prb"] = "struct printk_ringbuffer *",
        ["page_offset_base"] = "unsigned long",
        ["vmemmap_base"] = "unsigned long",
        ["vmalloc_base"] = "unsigned long",
        ["init_top_pgt"] = "pgd_t",
        ["panic_cpu"] = "atomic_t",
        ["tainted_mask"] = "unsigned long",
        ["avenrun"] = "unsigned long",
    };

    // ---------------------------------------------------------------- per-cpu

    /// <summary>__per_cpu_offset[0 .. nr_cpu_ids-1].</summary>
    public IReadOnlyList<ulong> PerCpuOffsets => Caches.PerCpuOffsets.GetOrCreate(() =>
    {
        var arr = GetSymbol("__per_cpu_offset");
        uint n = FindSymbol("nr_cpu_ids") is { } nr ? ReadU32(nr.Address) : 0;
        if (n == 0 || n > 8192) n = (uint)Math.Max(1, Cpus.Count);
        var list = new ulong[n];
        for (int i = 0; i < n; i++) list[i] = ReadU64(arr.Address + (ulong)i * 8);
        return list;
    });

    /// <summary>The address of a per-CPU variable's instance on <paramref name="cpu"/>.</summary>
    public ulong PerCpuAddress(ulong perCpuVariableAddress, int cpu)
    {
        var offs = PerCpuOffsets;
        if (cpu < 0 || cpu >= offs.Count) throw new KdumpException("CpuNotFound", KdumpErrorKind.NotFound, $"CPU {cpu} does not exist (nr_cpu_ids {offs.Count}).", cpu);
        return unchecked(perCpuVariableAddress + offs[cpu]);
    }

    /// <summary>A per-CPU variable's instance on a CPU, typed.</summary>
    public KernelObject PerCpu(string name, int cpu)
    {
        var v = Variable(name);
        return new KernelObject(this, PerCpuAddress(v.Address, cpu), v.Type);
    }
}

/// <summary>How to build a <see cref="KernelProgram"/>: the dump's architecture and architecture-specific options.</summary>
public sealed class KernelProgramOptions
{
    /// <summary>The dump's machine (DumpFile.Architecture: "x86_64", "elf-machine-N" ...); null: from VMCOREINFO, else the registry's default.</summary>
    public string? Architecture { get; init; }
    /// <summary>phys_base from the dump header, used when VMCOREINFO lacks NUMBER(phys_base).</summary>
    public long? DumpPhysBase { get; init; }
    /// <summary>Options for the architecture's translator (X86_64TranslatorOptions on x86_64), or null to derive them from the dump.</summary>
    public object? TranslatorOptions { get; init; }
    /// <summary>The registry to look the architecture up in; null: <see cref="Architectures.ArchitectureRegistry.Default"/>.</summary>
    public Architectures.ArchitectureRegistry? Registry { get; init; }
}

/// <summary>VMCOREINFO's SYMBOL(x) entries as a last-resort symbol finder.</summary>
internal sealed class VmcoreInfoSymbols : ISymbolFinder
{
    private readonly VmcoreInfo _info;
    public VmcoreInfoSymbols(VmcoreInfo info) => _info = info;
    public string Source => "VMCOREINFO SYMBOL() entries";
    public int Count => Enumerate().Count();
    public KSymbol? FindByName(string name) => _info.TryGetSymbol(name, out var a) ? new KSymbol(name, a, '?') : null;
    public SymbolOffset? FindByAddress(ulong address)
    {
        var s = Enumerate().FirstOrDefault(x => x.Address == address);
        return s is null ? null : new SymbolOffset(s, 0);
    }
    public IEnumerable<KSymbol> Enumerate()
    {
        foreach (var kv in _info.Entries)
            if (kv.Key.StartsWith("SYMBOL(", StringComparison.Ordinal) && kv.Key.EndsWith(')') && _info.TryGetSymbol(kv.Key[7..^1], out var a))
                yield return new KSymbol(kv.Key[7..^1], a, '?');
    }
}
