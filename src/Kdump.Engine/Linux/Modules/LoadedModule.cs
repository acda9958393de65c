namespace Kdump.Engine.Linux.Modules;

/// <summary>One memory region of a module (core text, data, init text ...).</summary>
public readonly record struct ModuleRegion(ulong Start, ulong Size, bool IsText, bool IsInit)
{
    public bool Contains(ulong address) => address >= Start && address - Start < Size;
}

/// <summary>
/// What the engine knows of one struct module: its regions (for placing addresses), its kallsyms table pointers and
/// its ORC table pointers. Read by <see cref="ModuleReader"/>; immutable.
/// </summary>
public sealed class LoadedModule
{
    public string Name { get; init; } = "";
    public ulong Object { get; init; }
    public ulong Base { get; init; }
    public ulong Size { get; init; }
    public ulong TextSize { get; init; }
    public ulong InitSize { get; init; }
    public string State { get; init; } = "";
    public int? ReferenceCount { get; init; }
    public IReadOnlyList<ModuleRegion> Regions { get; init; } = Array.Empty<ModuleRegion>();
    /// <summary>mod->kallsyms->symtab / num_symtab / strtab / typetab (0 when unknown).</summary>
    public ulong SymTab { get; init; }
    public uint SymCount { get; init; }
    public ulong StrTab { get; init; }
    public ulong TypeTab { get; init; }
    /// <summary>mod->arch.orc_unwind_ip / orc_unwind / num_orcs (x86_64; 0 when absent).</summary>
    public ulong OrcUnwindIp { get; init; }
    public ulong OrcUnwind { get; init; }
    public uint OrcCount { get; init; }
    public string? Problem { get; init; }

    public bool Contains(ulong address)
    {
        foreach (var r in Regions) if (r.Contains(address)) return true;
        return false;
    }

    public bool ContainsText(ulong address)
    {
        foreach (var r in Regions) if (r.IsText && r.Contains(address)) return true;
        return false;
    }

    /// <summary>Lowest and one-past-highest address of all regions.</summary>
    public (ulong Low, ulong High) Extent
    {
        get
        {
            ulong lo = ulong.MaxValue, hi = 0;
            foreach (var r in Regions) { if (r.Size == 0) continue; lo = Math.Min(lo, r.Start); hi = Math.Max(hi, r.Start + r.Size); }
            return lo == ulong.MaxValue ? (0, 0) : (lo, hi);
        }
    }
}
