using System.Buffers.Binary;
using Kdump.Engine.Program;
using Kdump.Engine.Symbols;

namespace Kdump.Engine.Linux.Modules;

/// <summary>
/// Symbols of the loaded modules from their own kallsyms tables in the dump (mod->kallsyms: symtab of Elf64_Sym,
/// num_symtab, strtab, typetab). Each module gets a <see cref="SymbolTable"/> whose lookups are confined to the
/// module's regions, so an address in a module resolves to "func [module]". Loaded on first use; it answers
/// nothing while the module list itself is being read (that read asks the finders for kernel symbols).
/// </summary>
public sealed class ModuleSymbolFinder : ISymbolFinder
{
    /// <summary>Hard limit on the symbols taken from one module.</summary>
    public const uint MaxSymbolsPerModule = 1_000_000;
    /// <summary>Hard limit on one module's string table.</summary>
    public const int MaxStringTable = 32 << 20;
    private const int ElfSymSize = 24;

    private readonly KernelProgram _program;
    private int _loadingThread = -1; // the thread reading the module list: its own symbol lookups get no module answers

    /// <summary>The module symbol tables as loaded once per program (kept in <see cref="KernelProgram.Caches"/>).</summary>
    internal sealed record Loaded(List<(LoadedModule Module, SymbolTable Table)> Tables, IReadOnlyList<string> Warnings);

    public ModuleSymbolFinder(KernelProgram program) => _program = program ?? throw new ArgumentNullException(nameof(program));

    public string Source => "module kallsyms in the dump";
    public int Count => Tables.Sum(t => t.Table.Count);
    /// <summary>Problems met while reading module symbol tables.</summary>
    public IReadOnlyList<string> Warnings => Volatile.Read(ref _loadingThread) == Environment.CurrentManagedThreadId ? Array.Empty<string>() : Load().Warnings;

    private List<(LoadedModule Module, SymbolTable Table)> Tables
        => Volatile.Read(ref _loadingThread) == Environment.CurrentManagedThreadId ? new() : Load().Tables;

    private Loaded Load() => _program.Caches.ModuleSymbols.GetOrCreate(() =>
    {
        Volatile.Write(ref _loadingThread, Environment.CurrentManagedThreadId);
        try { return LoadUncached(); }
        finally { Volatile.Write(ref _loadingThread, -1); }
    });

    private Loaded LoadUncached()
    {
        var result = new List<(LoadedModule, SymbolTable)>();
        var warnings = new List<string>();
        IReadOnlyList<LoadedModule> modules;
        try { modules = ModuleReader.Read(_program, out var w); warnings.AddRange(w); }
        catch (KdumpException ex) { warnings.Add($"modules: {ex.Message}"); return new Loaded(result, warnings); }
        foreach (var m in modules)
        {
            try { result.Add((m, BuildTable(_program, m))); }
            catch (KdumpException ex) { warnings.Add($"module '{m.Name}': symbol table unreadable: {ex.Message}"); }
        }
        return new Loaded(result, warnings);
    }

    /// <summary>Builds one module's symbol table from its kallsyms arrays.</summary>
    public static SymbolTable BuildTable(KernelProgram p, LoadedModule m)
    {
        var (low, high) = m.Extent;
        var b = new SymbolTableBuilder();
        if (m.SymTab == 0 || m.SymCount == 0 || m.StrTab == 0) return b.Build($"module {m.Name}", m.Name, low, high);
        if (m.SymCount > MaxSymbolsPerModule)
            throw new KdumpException("ModuleSymbolsTooMany", KdumpErrorKind.LimitExceeded, $"Module '{m.Name}' declares {m.SymCount} symbols (limit {MaxSymbolsPerModule}).", m.Name);
        var syms = p.ReadKernel(m.SymTab, checked((int)m.SymCount * ElfSymSize));
        uint maxName = 0;
        for (int i = 0; i < m.SymCount; i++) maxName = Math.Max(maxName, BinaryPrimitives.ReadUInt32LittleEndian(syms.AsSpan(i * ElfSymSize)));
        if (maxName >= MaxStringTable)
            throw new KdumpException("ModuleSymbolsCorrupt", KdumpErrorKind.InvalidData, $"Module '{m.Name}' has a symbol name offset {maxName} past {MaxStringTable}.", m.Name);
        var strings = ReadBestEffort(p, m.StrTab, (int)maxName + 256);
        byte[]? types = m.TypeTab != 0 ? ReadBestEffort(p, m.TypeTab, (int)m.SymCount) : null;
        for (int i = 1; i < m.SymCount; i++)
        {
            var s = syms.AsSpan(i * ElfSymSize, ElfSymSize);
            uint nameOff = BinaryPrimitives.ReadUInt32LittleEndian(s);
            byte info = s[4];
            ushort shndx = BinaryPrimitives.ReadUInt16LittleEndian(s[6..]);
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(s[8..]);
            ulong size = BinaryPrimitives.ReadUInt64LittleEndian(s[16..]);
            if (shndx == 0 || value == 0 || nameOff >= strings.Length) continue;
            var rest = strings.AsSpan((int)nameOff);
            int z = rest.IndexOf((byte)0);
            if (z <= 0) continue;
            var name = rest[..z];
            if (name[0] is (byte)'$' or (byte)'.') continue;
            char type = types is not null && i < types.Length && types[i] is >= (byte)'A' and <= (byte)'z' ? (char)types[i] : TypeFromInfo(info);
            b.Add(name, value, type, size == 0 ? null : size);
        }
        return b.Build($"module {m.Name} (kallsyms at 0x{m.SymTab:x})", m.Name, low, high);
    }

    private static char TypeFromInfo(byte info)
    {
        int bind = info >> 4, type = info & 0xf;
        char c = type switch { 2 => 't', 1 => 'd', _ => '?' };
        return bind == 1 && c != '?' ? char.ToUpperInvariant(c) : c;
    }

    /// <summary>Reads up to <paramref name="length"/> bytes, stopping at the first unreadable page.</summary>
    private static byte[] ReadBestEffort(KernelProgram p, ulong address, int length)
    {
        var buf = new byte[length];
        int done = 0;
        while (done < length)
        {
            int page = p.PageSize;
            int n = Math.Min(page - (int)((address + (ulong)done) & (ulong)(page - 1)), length - done);
            try { p.ReadKernel(address + (ulong)done, buf.AsSpan(done, n)); }
            catch (KdumpException) { break; }
            done += n;
        }
        return done == length ? buf : buf[..done];
    }

    public KSymbol? FindByName(string name)
    {
        foreach (var (_, t) in Tables) if (t.FindByName(name) is { } s) return s;
        return null;
    }

    public SymbolOffset? FindByAddress(ulong address)
    {
        foreach (var (m, t) in Tables)
            if (m.Contains(address)) return t.FindByAddress(address);
        return null;
    }

    public IEnumerable<KSymbol> Enumerate()
    {
        foreach (var (_, t) in Tables) foreach (var s in t.Enumerate()) yield return s;
    }
}
